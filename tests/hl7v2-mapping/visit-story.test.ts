import { mapHl7Message } from '../../mappings/hl7v2/map-message';
import type { VisitEvent } from '../../mappings/hl7v2/visit-event';
import { foldVisit } from '../../mappings/hl7v2/visit-fold';
import { fixtureContext, parseFixture } from './fixtures';

/** The golden fixtures of one visit (V100001), mapped and folded the way the gateway will. */
function visitOf(name: string): VisitEvent {
  const visit = mapHl7Message(parseFixture(name), fixtureContext(name)).visit;
  if (!visit) throw new Error(`${name} has no visit`);
  return visit;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

const story = ['adt-a01-admission', 'adt-a02-transfer', 'adt-a08-update', 'adt-a16-pending-discharge', 'adt-a03-discharge'].map(visitOf);

test('the admission, transfer, update, pending discharge and discharge of one visit fold to the same Encounter in all 120 arrival orders', () => {
  const inOrder = foldVisit(story);
  for (const order of permutations(story)) expect(foldVisit(order)).toEqual(inOrder);
});

test('in order, that visit ends finished, with both wards in its history and the discharge destination', () => {
  const encounter = foldVisit(story);
  expect(encounter?.status).toBe('finished');
  expect(encounter?.period).toEqual({ start: '2025-07-14T10:25:00+01:00', end: '2025-07-18T11:30:00+01:00' });
  expect(encounter?.location?.map((l) => [l.location.display, l.status, l.period])).toEqual([
    ['Ward 7 Bay 2 Bed 3', 'completed', { start: '2025-07-14T10:25:00+01:00', end: '2025-07-15T14:00:00+01:00' }],
    ['Ward 9 Bed 1', 'completed', { start: '2025-07-15T14:00:00+01:00', end: '2025-07-18T11:30:00+01:00' }],
  ]);
  expect(encounter?.hospitalization?.dischargeDisposition?.coding?.[0]?.code).toBe('54');
  expect(encounter?.extension?.find((e) => e.url.endsWith('plannedEndDate'))?.valueDateTime).toBe('2025-07-18T11:00:00+01:00');
});

test('A12 undoes the transfer and A13 the discharge, whatever order they arrive in', () => {
  const [admit, transfer, , , discharge] = story as [VisitEvent, VisitEvent, VisitEvent, VisitEvent, VisitEvent];
  const cancelTransfer = visitOf('adt-a12-cancel-transfer');
  const cancelDischarge = visitOf('adt-a13-cancel-discharge');
  for (const order of permutations([admit, transfer, discharge, cancelTransfer, cancelDischarge])) {
    const encounter = foldVisit(order);
    expect(encounter?.status).toBe('in-progress');
    expect(encounter?.period).toEqual({ start: '2025-07-14T10:25:00+01:00' });
    expect(encounter?.location?.map((l) => [l.location.display, l.status])).toEqual([['Ward 7 Bay 2 Bed 3', 'active']]);
  }
});

test('A25 withdraws the expected discharge date of the A16: the one the admission gave (PV2-9) holds again', () => {
  const [admit, , , pending] = story as [VisitEvent, VisitEvent, VisitEvent, VisitEvent];
  const planned = (events: VisitEvent[]): string | undefined => foldVisit(events)?.extension?.find((e) => e.url.endsWith('plannedEndDate'))?.valueDateTime;
  expect(planned([admit])).toBe('2025-07-21');
  expect(planned([admit, pending])).toBe('2025-07-18T11:00:00+01:00');
  expect(planned([visitOf('adt-a25-cancel-pending-discharge'), pending, admit])).toBe('2025-07-21');
});

test('the "" in an A08 deletes the clinicians and the expected discharge date an earlier message set', () => {
  const [admit] = story as [VisitEvent];
  const clearing = visitOf('quirk-clear-fields');
  expect(foldVisit([admit])?.participant).toHaveLength(2);
  const encounter = foldVisit([clearing, admit]);
  expect(encounter?.participant).toBeUndefined();
  expect(encounter?.extension).toBeUndefined();
});
