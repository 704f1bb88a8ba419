import type { AllergyIntolerance, Condition, Immunization, MedicationStatement } from '@medplum/fhirtypes';
import { ABSENT_SINCE_EXTENSION, endedVersion, itemsToEnd } from './reimport';

const AS_OF = '2026-11-21T09:00:00+00:00';

describe('items to end', () => {
  test('only areas the new bundle carries are compared; items present anywhere in it stay', () => {
    const previous = { allergies: ['AllergyIntolerance/a', 'AllergyIntolerance/b'], medications: ['MedicationStatement/m'] };
    const current = { allergies: ['AllergyIntolerance/a'] };
    expect(itemsToEnd(previous, current, new Set(['AllergyIntolerance/a']), [])).toEqual({ end: ['AllergyIntolerance/b'], withheld: [] });
    // b moved to the ended-allergies list of the same bundle: present, so not ended.
    expect(itemsToEnd(previous, current, new Set(['AllergyIntolerance/a', 'AllergyIntolerance/b']), [])).toEqual({ end: [], withheld: [] });
  });

  test('absence from an area whose list warns of withheld items ends nothing', () => {
    expect(itemsToEnd({ problems: ['Condition/c'] }, { problems: [] }, new Set(), ['problems'])).toEqual({ end: [], withheld: ['Condition/c'] });
  });
});

describe('ending an item', () => {
  test('an allergy becomes inactive, tagged and dated; its content and labels stay', () => {
    const allergy: AllergyIntolerance = {
      resourceType: 'AllergyIntolerance',
      id: 'a',
      meta: { versionId: '3', lastUpdated: '2026-11-20T00:00:00Z', source: 'gp', security: [{ code: 'NOPAT' }] },
      clinicalStatus: { coding: [{ code: 'active' }] },
      patient: { reference: 'Patient/p' },
      code: { text: 'peanut' },
    };
    const ended = endedVersion(allergy, AS_OF) as AllergyIntolerance;
    expect(ended.clinicalStatus?.coding?.[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'inactive' });
    expect(ended.meta).toEqual({ source: 'gp', security: [{ code: 'NOPAT' }], tag: [expect.objectContaining({ code: 'no-longer-in-source' })] });
    expect(ended.extension).toEqual([{ url: ABSENT_SINCE_EXTENSION, valueDateTime: AS_OF }]);
    expect(ended.code).toEqual({ text: 'peanut' });
    // Already ended: nothing to write, the first absence date stays.
    expect(endedVersion(ended, '2026-12-01T00:00:00Z')).toBeUndefined();
  });

  test('a resolved problem stays resolved; an active one becomes inactive without an abatement', () => {
    const condition = (code: string): Condition => ({ resourceType: 'Condition', id: 'c', clinicalStatus: { coding: [{ code }] }, subject: { reference: 'Patient/p' } });
    expect((endedVersion(condition('resolved'), AS_OF) as Condition).clinicalStatus?.coding?.[0]?.code).toBe('resolved');
    const ended = endedVersion(condition('active'), AS_OF) as Condition;
    expect([ended.clinicalStatus?.coding?.[0]?.code, ended.abatementDateTime]).toEqual(['inactive', undefined]);
  });

  test('a medication statement stops asserting (unknown) unless entered in error; an immunisation keeps its status', () => {
    const statement = (status: MedicationStatement['status']): MedicationStatement => ({ resourceType: 'MedicationStatement', id: 'm', status, subject: { reference: 'Patient/p' }, medicationCodeableConcept: { text: 'x' } });
    expect((endedVersion(statement('active'), AS_OF) as MedicationStatement).status).toBe('unknown');
    expect((endedVersion(statement('entered-in-error'), AS_OF) as MedicationStatement).status).toBe('entered-in-error');
    const immunisation: Immunization = { resourceType: 'Immunization', id: 'i', status: 'completed', vaccineCode: { text: 'flu' }, patient: { reference: 'Patient/p' }, occurrenceDateTime: '2025-10-01' };
    expect((endedVersion(immunisation, AS_OF) as Immunization).status).toBe('completed');
  });
});
