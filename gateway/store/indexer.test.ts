import type { Encounter, Observation, Patient } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../fhir/definitions';
import { indexResource, normalizeString, parseReference, patientCompartmentIds, securityLabels } from './indexer';

beforeAll(() => {
  loadFhirDefinitions();
});

describe('search index rows from the R4 search parameters', () => {
  const patient: Patient = {
    resourceType: 'Patient',
    id: 'p1',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' }, { system: 'https://pas.example/mrn', value: 'MRN1' }],
    name: [{ family: "O'Brien", given: ['Siân', 'Mary'] }],
    birthDate: '1940-03',
    address: [{ line: ['1 Demo Lane'], postalCode: 'ZZ1 1AA' }],
    generalPractitioner: [{ reference: 'https://other.example/fhir/Organization/gp1' }],
    link: [{ other: { reference: 'Patient/p2' }, type: 'seealso' }],
  };

  test('identifiers become tokens with their systems', () => {
    const tokens = indexResource(patient).token.filter((t) => t.code === 'identifier');
    expect(tokens).toEqual([
      { code: 'identifier', system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' },
      { code: 'identifier', system: 'https://pas.example/mrn', value: 'MRN1' },
    ]);
  });

  test('NHS numbers are indexed as bare digits however the source wrote them', () => {
    const spaced: Patient = { resourceType: 'Patient', id: 'p9', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '999 000 0018' }, { system: 'https://pas.example/mrn', value: 'A 1' }] };
    expect(indexResource(spaced).token.filter((t) => t.code === 'identifier').map((t) => t.value)).toEqual(['9990000018', 'A 1']);
  });

  test('names index each part, accent- and case-folded, keeping the raw text for :exact', () => {
    const names = indexResource(patient).string.filter((s) => s.code === 'name');
    expect(names).toEqual([
      { code: 'name', value: "o'brien", raw: "O'Brien" },
      { code: 'name', value: 'sian', raw: 'Siân' },
      { code: 'name', value: 'mary', raw: 'Mary' },
    ]);
    expect(indexResource(patient).string.filter((s) => s.code === 'address-postalcode')).toEqual([{ code: 'address-postalcode', value: 'zz1 1aa', raw: 'ZZ1 1AA' }]);
  });

  test('a partial date covers its whole span', () => {
    expect(indexResource(patient).date).toEqual([{ code: 'birthdate', low: '1940-03-01T00:00:00.000Z', high: '1940-04-01T00:00:00.000Z' }]);
  });

  test('absolute references index by their last type and id; links put both patients in the compartment', () => {
    const rows = indexResource(patient);
    expect(rows.reference).toEqual([
      { code: 'general-practitioner', targetType: 'Organization', targetId: 'gp1' },
      { code: 'link', targetType: 'Patient', targetId: 'p2' },
    ]);
    expect(patientCompartmentIds(patient, rows)).toEqual(['p1', 'p2']);
  });

  test('an open-ended period runs to infinity; the encounter is in its subject compartment', () => {
    const encounter: Encounter = { resourceType: 'Encounter', id: 'e1', status: 'in-progress', class: { code: 'IMP' }, subject: { reference: 'Patient/p1' }, period: { start: '2026-11-20T10:00:00Z' } };
    const rows = indexResource(encounter);
    expect(rows.date).toEqual([{ code: 'date', low: '2026-11-20T10:00:00.000Z', high: 'infinity' }]);
    expect(patientCompartmentIds(encounter, rows)).toEqual(['p1']);
  });

  test('quantities index value, system and unit code', () => {
    const obs: Observation = { resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, valueQuantity: { value: 72, system: 'http://unitsofmeasure.org', code: '/min' } };
    expect(indexResource(obs).number.filter((n) => n.code === 'value-quantity')).toEqual([{ code: 'value-quantity', value: 72, system: 'http://unitsofmeasure.org', unit: '/min' }]);
    expect(indexResource(obs).token.filter((t) => t.code === 'code')).toEqual([{ code: 'code', system: 'http://loinc.org', value: '8867-4' }]);
  });

  test('security labels are kept as system|code', () => {
    expect(securityLabels({ resourceType: 'Flag', id: 'f', status: 'active', code: {}, subject: {}, meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }, { display: 'no code' }] } })).toEqual([
      'http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R',
    ]);
  });

  test.each([
    ['Patient/123', ['Patient', '123']],
    ['https://x.example/fhir/Patient/123/_history/2', ['Patient', '123']],
    ['urn:uuid:abc', undefined],
    ['#contained', undefined],
  ])('reference %s parses to %j', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  test('string normalisation folds case and accents', () => {
    expect(normalizeString('  ÉLODIE Siân ')).toBe('elodie sian');
  });
});
