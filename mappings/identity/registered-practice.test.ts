import type { Organization, Patient, Reference } from '@medplum/fhirtypes';
import { KEPT_REGISTRATION_DETAILS } from '../gp/extensions';
import { ODS_ORGANIZATION_SYSTEM, PERSON_RECORD_TAG } from '../identifiers';
import { registeredGeneralPractitioners } from './registered-practice';

/** A person who moved from practice Y90001 to Y90002; invented records, no NHS numbers needed. */
const now = new Date('2026-11-23T12:00:00Z');
const practice = (ods: string): Reference<Organization> => ({ reference: `Organization/${ods}`, identifier: { system: ODS_ORGANIZATION_SYSTEM, value: ods } });
const record = (id: string, ods: string, lastUpdated: string | undefined, extra: Partial<Patient> = {}): Patient => ({
  resourceType: 'Patient',
  id,
  meta: { source: `https://${id}.example.invalid`, ...(lastUpdated ? { lastUpdated } : {}) },
  generalPractitioner: [practice(ods)],
  ...extra,
});
const registration = (start: string, end?: string): Partial<Patient> => ({
  extension: [{ url: KEPT_REGISTRATION_DETAILS, extension: [{ url: 'registrationPeriod', valuePeriod: { start, ...(end ? { end } : {}) } }] }],
});
const odsOf = (patients: Patient[]): (string | undefined)[] => registeredGeneralPractitioners(patients, now).map((r) => r.identifier?.value);

describe('the registered practice after a move', () => {
  const oldGp = record('old-gp', 'Y90001', '2025-03-01T09:00:00Z', registration('2001-05-01'));
  const council = record('council', 'Y90001', '2026-01-10T09:00:00Z');
  const hospital = record('hospital', 'Y90002', '2026-10-02T09:00:00Z');

  test('the record changed most recently is believed: the hospital heard of the move, the council and the old practice had not', () => {
    expect(odsOf([oldGp, council, hospital])).toEqual(['Y90002']);
  });

  test('before anyone heard of the move, the newest record still names the old practice', () => {
    expect(odsOf([oldGp, council])).toEqual(['Y90001']);
  });

  test("the old practice's own record of a registration that has ended names no practice, nor does an older record naming it", () => {
    const left = { ...oldGp, meta: { ...oldGp.meta, lastUpdated: '2026-11-01T09:00:00Z' }, ...registration('2001-05-01', '2026-10-31') };
    expect(odsOf([left, council, hospital])).toEqual(['Y90002']);
    // The hospital heard of the move before the council's last change (still naming the old practice), which the practice's word outranks.
    const hospitalEarly = record('hospital', 'Y90002', '2025-12-01T09:00:00Z');
    expect(odsOf([left, council, hospitalEarly])).toEqual(['Y90002']);
    expect(odsOf([left, council])).toEqual([]);
    // Named by ODS code only (no reference), it is the same practice.
    const byCodeOnly = record('council', 'Y90001', '2026-01-10T09:00:00Z', { generalPractitioner: [{ identifier: { system: ODS_ORGANIZATION_SYSTEM, value: 'Y90001' } }] });
    expect(odsOf([left, byCodeOnly, hospitalEarly])).toEqual(['Y90002']);
    // A record naming it that changed after the practice said the person left is newer news (registered there again).
    const councilSince = record('council', 'Y90001', '2026-11-15T09:00:00Z');
    expect(odsOf([left, councilSince, hospital])).toEqual(['Y90001']);
    // A named GP is not a practice: only the practice's own entry is vetoed.
    const withGp = { ...left, generalPractitioner: [practice('Y90001'), { reference: 'Practitioner/gp-1' }] };
    expect(odsOf([withGp, record('hospital', 'Y90002', '2025-12-01T09:00:00Z', { generalPractitioner: [practice('Y90002'), { reference: 'Practitioner/gp-1' }] })])).toEqual(['Y90002', undefined]);
    expect(odsOf([left])).toEqual([]);
    // Ending later than now is still a registration.
    expect(odsOf([{ ...left, ...registration('2001-05-01', '2026-12-31') }])).toEqual(['Y90001']);
  });

  test('person-level and merged-away records are not statements of their own', () => {
    const person = record('person', 'Y90001', '2026-11-20T09:00:00Z', { meta: { tag: [{ ...PERSON_RECORD_TAG }], lastUpdated: '2026-11-20T09:00:00Z' } });
    const merged = record('merged', 'Y90003', '2026-11-21T09:00:00Z', { active: false });
    expect(odsOf([person, merged, hospital])).toEqual(['Y90002']);
  });

  test('records changed at the same instant, or without a time (hand-built), all count, each practice once', () => {
    expect(odsOf([record('a', 'Y90001', undefined), record('b', 'Y90002', undefined), record('c', 'Y90001', undefined)])).toEqual(['Y90001', 'Y90002']);
    expect(odsOf([record('a', 'Y90001', '2026-10-02T09:00:00Z'), hospital])).toEqual(['Y90001', 'Y90002']);
  });
});
