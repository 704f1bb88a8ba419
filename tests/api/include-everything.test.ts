import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { body, expectOutcome, includeRefs, linkPath, matchIds, nhsNumber, patient, startHarness, type Harness } from './harness';

/** _include, _revinclude and Patient/$everything over a small synthetic care record. */

const ref = (reference: string): { reference: string } => ({ reference });

const record: Resource[] = [
  { resourceType: 'Organization', id: 'org-gp', name: 'Test Lane Surgery (fictional)' },
  { resourceType: 'Organization', id: 'org-trust', name: 'Test Hospitals Trust (fictional)' },
  // Only reachable through the Location: $everything goes one level out, not two.
  { resourceType: 'Organization', id: 'org-parent', name: 'Test Health Group (fictional)' },
  { resourceType: 'Organization', id: 'org-unused', name: 'Nobody Refers To Me (fictional)' },
  { resourceType: 'Practitioner', id: 'prac-gp', name: [{ family: 'Hughes', given: ['Anna'], prefix: ['Dr'] }] },
  { resourceType: 'Location', id: 'loc-ward', name: 'Ward 7', managingOrganization: ref('Organization/org-parent') },
  patient({ id: 'pat-a', family: 'Abbott', birthDate: '1940-02-02', nhs: nhsNumber(10), extra: { generalPractitioner: [ref('Organization/org-gp'), ref('Practitioner/prac-gp')] } }),
  patient({ id: 'pat-b', family: 'Bell', birthDate: '1942-03-03', nhs: nhsNumber(11), extra: { generalPractitioner: [ref('Organization/org-gp')] } }),
  patient({ id: 'pat-c', family: 'Carter', birthDate: '1944-04-04', nhs: nhsNumber(12) }),
  {
    resourceType: 'Encounter', id: 'enc-a1', status: 'finished', class: { code: 'IMP' }, subject: ref('Patient/pat-a'),
    period: { start: '2026-01-01T10:00:00Z', end: '2026-01-05T10:00:00Z' }, serviceProvider: ref('Organization/org-trust'),
    location: [{ location: ref('Location/loc-ward') }], participant: [{ individual: ref('Practitioner/prac-gp') }],
  },
  { resourceType: 'Encounter', id: 'enc-a2', status: 'in-progress', class: { code: 'AMB' }, subject: ref('Patient/pat-a'), period: { start: '2026-02-01T10:00:00Z' }, serviceProvider: ref('Organization/org-trust') },
  { resourceType: 'Encounter', id: 'enc-b1', status: 'finished', class: { code: 'AMB' }, subject: ref('Patient/pat-b'), period: { start: '2026-03-01T10:00:00Z', end: '2026-03-01T11:00:00Z' } },
  { resourceType: 'Condition', id: 'cond-a1', subject: ref('Patient/pat-a'), encounter: ref('Encounter/enc-a1'), asserter: ref('Practitioner/prac-gp'), code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] } },
  { resourceType: 'Condition', id: 'cond-b1', subject: ref('Patient/pat-b'), code: { coding: [{ system: 'http://snomed.info/sct', code: '73211009' }] } },
  { resourceType: 'Observation', id: 'obs-a1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: ref('Patient/pat-a'), performer: [ref('Practitioner/prac-gp')], valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } },
  { resourceType: 'AllergyIntolerance', id: 'allergy-a1', patient: ref('Patient/pat-a'), code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005' }] } },
  { resourceType: 'MedicationStatement', id: 'medstmt-b1', status: 'active', subject: ref('Patient/pat-b'), medicationCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '325072002' }] } },
  // Two records of one person that point at each other, as duplicate-record merges leave them.
  patient({ id: 'pat-dup1', family: 'Doubled', birthDate: '1950-05-05', extra: { link: [{ other: ref('Patient/pat-dup2'), type: 'replaced-by' }] } }),
  patient({ id: 'pat-dup2', family: 'Doubled', birthDate: '1950-05-05', extra: { link: [{ other: ref('Patient/pat-dup1'), type: 'replaces' }] } }),
];

let h: Harness;

beforeAll(async () => {
  h = await startHarness([{ resources: record }]);
});

afterAll(async () => {
  await h.close();
});

const refs = (res: Response): string[] => (body<Bundle>(res).entry ?? []).map((e) => `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}`);

describe('_include', () => {
  it('adds the patient of each encounter once, in include mode', async () => {
    const res = await h.get('/fhir/Encounter?subject=Patient/pat-a&_include=Encounter:subject');
    expect(res.status).toBe(200);
    expect(matchIds(res).sort()).toEqual(['enc-a1', 'enc-a2']);
    expect(includeRefs(res)).toEqual(['Patient/pat-a']);
    const bundle = body<Bundle>(res);
    expect(bundle.total).toBe(2);
    const included = bundle.entry?.find((e) => e.search?.mode === 'include');
    expect(included?.fullUrl).toBe('https://carebridge.test/fhir/Patient/pat-a');
    // Matches come before includes.
    expect(bundle.entry?.map((e) => e.search?.mode)).toEqual(['match', 'match', 'include']);
  });

  it('adds each distinct target across the whole page', async () => {
    const res = await h.get('/fhir/Encounter?_include=Encounter:subject');
    expect(matchIds(res).sort()).toEqual(['enc-a1', 'enc-a2', 'enc-b1']);
    expect(includeRefs(res)).toEqual(['Patient/pat-a', 'Patient/pat-b']);
  });

  it('takes several _include parameters', async () => {
    const res = await h.get('/fhir/Encounter?_id=enc-a1&_include=Encounter:subject&_include=Encounter:service-provider&_include=Encounter:location');
    expect(matchIds(res)).toEqual(['enc-a1']);
    expect(includeRefs(res)).toEqual(['Location/loc-ward', 'Organization/org-trust', 'Patient/pat-a']);
  });

  it('does not repeat a target reached through two parameters or two matches', async () => {
    const res = await h.get('/fhir/Patient?_id=pat-a,pat-b&_include=Patient:general-practitioner&_include=Patient:organization');
    expect(matchIds(res).sort()).toEqual(['pat-a', 'pat-b']);
    expect(includeRefs(res)).toEqual(['Organization/org-gp', 'Practitioner/prac-gp']);
  });

  it('honours a target type', async () => {
    const res = await h.get('/fhir/Patient?_id=pat-a&_include=Patient:general-practitioner:Practitioner');
    expect(includeRefs(res)).toEqual(['Practitioner/prac-gp']);
  });

  it('does not include a resource that is already a match', async () => {
    const res = await h.get('/fhir/Patient?_id=pat-dup1,pat-dup2&_include=Patient:link');
    expect(matchIds(res).sort()).toEqual(['pat-dup1', 'pat-dup2']);
    expect(includeRefs(res)).toEqual([]);
  });
});

describe('_revinclude', () => {
  it('adds the encounters that refer to the patient', async () => {
    const res = await h.get('/fhir/Patient?_id=pat-a&_revinclude=Encounter:subject');
    expect(matchIds(res)).toEqual(['pat-a']);
    expect(includeRefs(res)).toEqual(['Encounter/enc-a1', 'Encounter/enc-a2']);
    expect(body<Bundle>(res).total).toBe(1);
  });

  it('adds the encounters of every matched patient, and nothing for a patient without any', async () => {
    const res = await h.get('/fhir/Patient?_id=pat-a,pat-b,pat-c&_revinclude=Encounter:subject');
    expect(matchIds(res).sort()).toEqual(['pat-a', 'pat-b', 'pat-c']);
    expect(includeRefs(res)).toEqual(['Encounter/enc-a1', 'Encounter/enc-a2', 'Encounter/enc-b1']);
    expect(includeRefs(await h.get('/fhir/Patient?_id=pat-c&_revinclude=Encounter:subject'))).toEqual([]);
  });

  it('combines _include and _revinclude without repeating a resource reached both ways', async () => {
    const res = await h.get('/fhir/Patient?_id=pat-dup1&_include=Patient:link&_revinclude=Patient:link');
    expect(matchIds(res)).toEqual(['pat-dup1']);
    expect(refs(res)).toEqual(['Patient/pat-dup1', 'Patient/pat-dup2']);
  });
});

describe('invalid _include and _revinclude', () => {
  it.each([
    ['_include=Encounter:status', "'status' is not a reference parameter of Encounter", '_include'],
    ['_include=Encounter:nonsense', "'nonsense' is not a reference parameter of Encounter", '_include'],
    ['_include=Encounter', "'Encounter' is not a valid _include: expected Type:parameter[:targetType]", '_include'],
    ['_include=Patient:general-practitioner', '_include must start with the searched type Encounter', '_include'],
    ['_include=Encounter:subject:Organization', "Encounter:subject cannot refer to 'Organization'", '_include'],
    ['_include=Encounter:*', "'*' is not a reference parameter of Encounter", '_include'],
    ['_revinclude=Wibble:subject', "Unknown resource type 'Wibble' in _revinclude", '_revinclude'],
    ['_include:iterate=Encounter:subject', '_include:iterate is not supported (_include and _revinclude are, one level)', '_include:iterate'],
  ])('Encounter?%s → 400', async (query, text, expression) => {
    const issue = expectOutcome(await h.get(`/fhir/Encounter?${query}`), 400, 'invalid');
    expect(issue.details?.text).toBe(text);
    expect(issue.expression).toEqual([expression]);
  });

  it('rejects a _revinclude whose parameter cannot point at the searched type', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient?_revinclude=Encounter:service-provider'), 400, 'invalid');
    expect(issue.details?.text).toBe('Encounter:service-provider cannot refer to Patient');
  });
});

describe('Patient/$everything', () => {
  const compartmentA = ['AllergyIntolerance/allergy-a1', 'Condition/cond-a1', 'Encounter/enc-a1', 'Encounter/enc-a2', 'Observation/obs-a1', 'Patient/pat-a'];
  const referencedA = ['Location/loc-ward', 'Organization/org-gp', 'Organization/org-trust', 'Practitioner/prac-gp'];

  it("returns the patient's compartment in type/id order, then what it refers to", async () => {
    const res = await h.get('/fhir/Patient/pat-a/$everything');
    expect(res.status).toBe(200);
    const bundle = body<Bundle>(res);
    expect(bundle.type).toBe('searchset');
    const all = refs(res);
    expect(all.slice(0, compartmentA.length)).toEqual(compartmentA);
    expect(all.slice(compartmentA.length).sort()).toEqual(referencedA);
    expect(all).toHaveLength(compartmentA.length + referencedA.length);
    expect(bundle.link).toEqual([{ relation: 'self', url: 'https://carebridge.test/fhir/Patient/pat-a/$everything' }]);
  });

  it("holds nothing of another patient's record", async () => {
    const all = refs(await h.get('/fhir/Patient/pat-a/$everything'));
    for (const other of ['Patient/pat-b', 'Encounter/enc-b1', 'Condition/cond-b1', 'MedicationStatement/medstmt-b1', 'Patient/pat-c', 'Organization/org-unused', 'Organization/org-parent']) {
      expect(all).not.toContain(other);
    }
  });

  it("returns the other patient's record for them", async () => {
    const all = refs(await h.get('/fhir/Patient/pat-b/$everything'));
    expect(all).toEqual(['Condition/cond-b1', 'Encounter/enc-b1', 'MedicationStatement/medstmt-b1', 'Patient/pat-b', 'Organization/org-gp']);
  });

  it('returns just the patient when there is nothing else', async () => {
    expect(refs(await h.get('/fhir/Patient/pat-c/$everything'))).toEqual(['Patient/pat-c']);
  });

  it('_type limits the resources to the given types', async () => {
    const res = await h.get('/fhir/Patient/pat-a/$everything?_type=Condition,Encounter');
    expect(res.status).toBe(200);
    expect(refs(res)).toEqual(['Condition/cond-a1', 'Encounter/enc-a1', 'Encounter/enc-a2']);
  });

  it('_type of a type the patient has none of gives an empty bundle', async () => {
    const res = await h.get('/fhir/Patient/pat-a/$everything?_type=Immunization');
    expect(res.status).toBe(200);
    expect(refs(res)).toEqual([]);
  });

  it('pages with _count and next links, each compartment resource once', async () => {
    let res = await h.get('/fhir/Patient/pat-a/$everything?_count=2');
    const compartmentSeen: string[] = [];
    for (let i = 0; i < 10; i++) {
      compartmentSeen.push(...refs(res).filter((r) => compartmentA.includes(r)));
      const next = linkPath(res, 'next');
      if (!next) break;
      res = await h.get(next);
      expect(res.status).toBe(200);
    }
    expect(compartmentSeen).toEqual(compartmentA);
  });

  it('answers 400 naming an unknown parameter', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient/pat-a/$everything?start=2026-01-01'), 400, 'invalid');
    expect(issue.details?.text).toBe("Unknown parameter 'start' for $everything");
    expect(issue.expression).toEqual(['start']);
  });

  it('answers 400 for an unknown type in _type', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient/pat-a/$everything?_type=Condition,Wibble'), 400, 'invalid');
    expect(issue.details?.text).toBe("Unknown resource type 'Wibble' in _type");
    expect(issue.expression).toEqual(['_type']);
  });

  it('answers 404 for an unknown patient', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient/pat-nobody/$everything'), 404, 'not-found');
    expect(issue.details?.text).toBe('Not found');
  });

  it('answers 400 for a tampered cursor', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient/pat-a/$everything?_cursor=garbage'), 400, 'invalid');
    expect(issue.expression).toEqual(['_cursor']);
  });

  it('answers 400 for an invalid patient id', async () => {
    expectOutcome(await h.get("/fhir/Patient/x'y/$everything"), 400, 'invalid');
  });
});
