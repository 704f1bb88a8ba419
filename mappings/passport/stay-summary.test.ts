import type { Composition, Encounter } from '@medplum/fhirtypes';
import { stayComposition } from './stay-summary';

const VISIT = { system: 'https://fhir.nhs.uk/Id/visit-number/RZZ', value: 'V-7781' };
const stay: Encounter = { resourceType: 'Encounter', id: 'hl7-stay', status: 'finished', class: { code: 'IMP' }, identifier: [VISIT], period: { start: '2026-11-20T03:10:00Z', end: '2026-11-25T14:30:00Z' } };
const theirEncounter: Encounter = { resourceType: 'Encounter', id: 'edischarge-enc', status: 'finished', class: { code: 'IMP' }, identifier: [VISIT] };
const otherEncounter: Encounter = { resourceType: 'Encounter', id: 'other-enc', status: 'finished', class: { code: 'IMP' }, identifier: [{ ...VISIT, value: 'V-1000' }] };
const summary = (id: string, date: string, encounter?: string): Composition => ({
  resourceType: 'Composition', id, status: 'final', date, title: 'Discharge summary', author: [{ display: 'Ward 7' }],
  type: { coding: [{ system: 'http://snomed.info/sct', code: '373942005', display: 'Discharge summary' }] },
  ...(encounter ? { encounter: { reference: `Encounter/${encounter}` } } : {}),
});

describe('stayComposition', () => {
  test('a Composition about the stay itself comes first', () => {
    const record = [stay, theirEncounter, summary('by-visit', '2026-11-25T16:00:00Z', 'edischarge-enc'), summary('direct', '2026-11-25T15:00:00Z', 'hl7-stay')];
    expect(stayComposition(record, stay)?.id).toBe('direct');
  });

  test("the sender's own Encounter with the stay's visit number is the stay", () => {
    const record = [stay, theirEncounter, otherEncounter, summary('other-stay', '2026-11-25T16:00:00Z', 'other-enc'), summary('by-visit', '2026-11-25T15:00:00Z', 'edischarge-enc')];
    expect(stayComposition(record, stay)?.id).toBe('by-visit');
  });

  test('without an encounter, a discharge summary dated in the stay or up to two days after it; the latest wins', () => {
    expect(stayComposition([stay, summary('a', '2026-11-25T15:00:00Z'), summary('b', '2026-11-27T09:00:00Z')], stay)?.id).toBe('b');
    expect(stayComposition([stay, summary('late', '2026-11-28T15:00:00Z'), summary('before', '2026-11-19T09:00:00Z')], stay)).toBeUndefined();
  });

  test('a summary naming another stay is never taken by its date', () => {
    expect(stayComposition([stay, otherEncounter, summary('other-stay', '2026-11-25T16:00:00Z', 'other-enc')], stay)).toBeUndefined();
  });

  test('what the caller excludes (our own passports) is not a summary', () => {
    expect(stayComposition([stay, summary('ours', '2026-11-25T15:00:00Z', 'hl7-stay')], stay, (c) => c.id === 'ours')).toBeUndefined();
  });
});
