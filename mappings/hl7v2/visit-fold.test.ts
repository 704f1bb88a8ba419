import fc from 'fast-check';
import type { Location, Reference } from '@medplum/fhirtypes';
import type { VisitTrigger } from './tables/events';
import type { VisitEvent, VisitFacts } from './visit-event';
import { foldVisit, orderVisitEvents } from './visit-fold';

const SOURCE = 'https://pas.test.invalid/hl7v2';
const BASE = Date.parse('2025-07-14T09:00:00Z');
const ward = (name: string): Reference<Location> => ({ reference: `Location/${name}`, display: name });

let counter = 0;
function event(trigger: VisitTrigger, minutes: number, facts: Partial<Omit<VisitFacts, 'cleared'>> & { cleared?: VisitFacts['cleared'] } = {}, messageId?: string): VisitEvent {
  const at = new Date(BASE + minutes * 60_000).toISOString().replace('.000Z', 'Z');
  counter += 1;
  return {
    messageId: messageId ?? `MSG${String(counter).padStart(5, '0')}`,
    trigger,
    eventTime: at,
    eventDateTime: at,
    messageTime: at,
    facts: {
      encounterId: 'enc-1',
      source: SOURCE,
      visitNumber: { system: `${SOURCE}/visit-number`, value: 'V1' },
      subject: { reference: 'Patient/p1' },
      cleared: [],
      ...facts,
    },
  };
}

const time = (minutes: number): string => new Date(BASE + minutes * 60_000).toISOString().replace('.000Z', 'Z');

describe('foldVisit', () => {
  test('an admission, a transfer and a discharge give a finished encounter with its ward history', () => {
    const encounter = foldVisit([
      event('A01', 0, { location: ward('W7'), class: { code: 'IMP' } }),
      event('A02', 60, { location: ward('W9') }),
      event('A03', 120, { location: ward('W9'), dischargeDestination: { coding: [{ code: '54' }] } }),
    ]);
    expect(encounter?.status).toBe('finished');
    expect(encounter?.period).toEqual({ start: time(0), end: time(120) });
    expect(encounter?.location).toEqual([
      { location: ward('W7'), status: 'completed', period: { start: time(0), end: time(60) } },
      { location: ward('W9'), status: 'completed', period: { start: time(60), end: time(120) } },
    ]);
    expect(encounter?.hospitalization?.dischargeDisposition).toEqual({ coding: [{ code: '54' }] });
  });

  test('a discharge that arrives before its admission gives the same encounter as in order', () => {
    const admit = event('A01', 0, { location: ward('W7'), admitTime: time(-5) });
    const discharge = event('A03', 300, { location: ward('W7'), dischargeTime: time(295) });
    expect(foldVisit([discharge, admit])).toEqual(foldVisit([admit, discharge]));
    expect(foldVisit([discharge, admit])?.period).toEqual({ start: time(-5), end: time(295) });
  });

  test('an A08 older than the last change does not undo it', () => {
    const admit = event('A01', 0, { location: ward('W7'), participant: [{ individual: { display: 'Dr A' } }] });
    const olderUpdate = event('A08', 30, { location: ward('W7'), participant: [{ individual: { display: 'Dr B' } }] });
    const newerUpdate = event('A08', 90, { location: ward('W7'), participant: [{ individual: { display: 'Dr C' } }] });
    const encounter = foldVisit([admit, newerUpdate, olderUpdate]);
    expect(encounter?.participant).toEqual([{ individual: { display: 'Dr C' } }]);
  });

  test('A08 changes details but not the status', () => {
    const encounter = foldVisit([event('A01', 0), event('A08', 10, { serviceType: { text: 'x' } })]);
    expect(encounter?.status).toBe('in-progress');
    expect(encounter?.serviceType).toEqual({ text: 'x' });
  });

  test('A13 cancels the discharge: in progress again, no end, no discharge details', () => {
    const encounter = foldVisit([
      event('A01', 0, { location: ward('W7') }),
      event('A03', 100, { dischargeTime: time(100), dischargeMethod: { coding: [{ code: '1' }] }, dischargeDestination: { coding: [{ code: '19' }] } }),
      event('A13', 110),
    ]);
    expect(encounter?.status).toBe('in-progress');
    expect(encounter?.period).toEqual({ start: time(0) });
    expect(encounter?.hospitalization?.dischargeDisposition).toBeUndefined();
    expect(encounter?.extension).toBeUndefined();
    expect(encounter?.location).toEqual([{ location: ward('W7'), status: 'active', period: { start: time(0) } }]);
  });

  test('A12 cancels the latest transfer: the previous ward is current again', () => {
    const encounter = foldVisit([event('A01', 0, { location: ward('W7') }), event('A02', 60, { location: ward('W9') }), event('A12', 70, { location: ward('W7') })]);
    expect(encounter?.location).toEqual([{ location: ward('W7'), status: 'active', period: { start: time(0) } }]);
  });

  test('A11 marks an admitted visit entered-in-error and a planned one cancelled; a later admission restarts it', () => {
    expect(foldVisit([event('A01', 0), event('A11', 5)])?.status).toBe('entered-in-error');
    expect(foldVisit([event('A05', 0), event('A11', 5)])?.status).toBe('cancelled');
    expect(foldVisit([event('A01', 0), event('A11', 5), event('A01', 10)])?.status).toBe('in-progress');
  });

  test('A16 records the expected discharge date and A25 withdraws it', () => {
    const pending = event('A16', 50, { expectedDischarge: '2025-07-20' });
    const planned = foldVisit([event('A01', 0), pending]);
    expect(planned?.extension).toEqual([{ url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate', valueDateTime: '2025-07-20' }]);
    expect(foldVisit([event('A01', 0), pending, event('A25', 60)])?.extension).toBeUndefined();
  });

  test('A14 plans a visit and A27 cancels it', () => {
    expect(foldVisit([event('A14', 0, { expectedAdmission: '2025-08-01' })])?.status).toBe('planned');
    expect(foldVisit([event('A14', 0, { expectedAdmission: '2025-08-01' }), event('A27', 5)])).toMatchObject({ status: 'cancelled' });
    expect(foldVisit([event('A14', 0, { expectedAdmission: '2025-08-01' }), event('A27', 5)])?.extension).toBeUndefined();
  });

  test('"" deletes a visit detail; a field not sent leaves it', () => {
    const admit = event('A01', 0, { participant: [{ individual: { display: 'Dr A' } }], expectedDischarge: '2025-07-20' });
    const notSent = event('A08', 10, {});
    const deleted = event('A08', 20, { cleared: ['participant'] });
    expect(foldVisit([admit, notSent])?.participant).toEqual([{ individual: { display: 'Dr A' } }]);
    expect(foldVisit([admit, notSent, deleted])?.participant).toBeUndefined();
    expect(foldVisit([admit, notSent, deleted])?.extension).toHaveLength(1);
  });

  test('the same message twice is folded once', () => {
    const admit = event('A01', 0, { location: ward('W7') });
    const transfer = event('A02', 60, { location: ward('W9') });
    expect(foldVisit([admit, transfer, transfer, admit])).toEqual(foldVisit([admit, transfer]));
    expect(orderVisitEvents([transfer, admit, transfer])).toEqual([admit, transfer]);
  });

  test('ties in event time are broken by message time, then message control id', () => {
    const a = { ...event('A02', 60, { location: ward('W8') }, 'B'), messageTime: time(61) };
    const b = { ...event('A02', 60, { location: ward('W9') }, 'A'), messageTime: time(62) };
    const c = event('A02', 60, { location: ward('W10') }, 'C');
    expect(orderVisitEvents([b, c, a]).map((e) => e.messageId)).toEqual(['C', 'B', 'A']);
  });

  test('no events fold to nothing; events of two encounters are refused', () => {
    expect(foldVisit([])).toBeUndefined();
    const other = event('A01', 0);
    expect(() => foldVisit([event('A01', 0), { ...other, facts: { ...other.facts, encounterId: 'enc-2' } }])).toThrow('more than one encounter');
  });
});

/**
 * A valid visit history: optional pre-admission, admission, then transfers, updates, pending
 * discharges and their cancellations, maybe a discharge (maybe cancelled, maybe redone); with the
 * ward, status and expected discharge a plain model of the visit says it should end with.
 */
const visitHistory = fc
  .record({
    preAdmit: fc.boolean(),
    steps: fc.array(fc.constantFrom('transfer', 'update', 'pending', 'cancelTransfer', 'cancelPending'), { maxLength: 12 }),
    discharge: fc.constantFrom('none', 'discharge', 'discharge-then-cancel', 'discharge-cancel-discharge'),
    gaps: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 20, maxLength: 20 }),
  })
  .map(({ preAdmit, steps, discharge, gaps }) => {
    let minute = 0;
    let n = 0;
    const wards = ['W1'];
    const pendingDates: string[] = [];
    const next = (): number => (minute += (gaps[n++ % gaps.length] ?? 1) * 30);
    const id = (): string => `M${String(n).padStart(3, '0')}`;
    const events: VisitEvent[] = [];
    if (preAdmit) events.push(event('A05', next(), { location: ward('W1') }, id()));
    events.push(event('A01', next(), { location: ward('W1'), class: { code: 'IMP' } }, id()));
    for (const step of steps) {
      if (step === 'transfer') {
        wards.push(`W${n + 2}`);
        events.push(event('A02', next(), { location: ward(wards[wards.length - 1] ?? '') }, id()));
      } else if (step === 'update') events.push(event('A08', next(), { serviceType: { text: `S${n}` } }, id()));
      else if (step === 'pending') {
        pendingDates.push(`2025-08-${String(10 + (n % 10)).padStart(2, '0')}`);
        events.push(event('A16', next(), { expectedDischarge: pendingDates[pendingDates.length - 1] ?? '' }, id()));
      } else if (step === 'cancelTransfer' && wards.length > 1) {
        wards.pop();
        events.push(event('A12', next(), {}, id()));
      } else if (step === 'cancelPending' && pendingDates.length > 0) {
        pendingDates.pop();
        events.push(event('A25', next(), {}, id()));
      }
    }
    if (discharge !== 'none') events.push(event('A03', next(), { dischargeDestination: { coding: [{ code: '19' }] } }, id()));
    if (discharge === 'discharge-then-cancel' || discharge === 'discharge-cancel-discharge') events.push(event('A13', next(), {}, id()));
    if (discharge === 'discharge-cancel-discharge') events.push(event('A03', next(), { dischargeDestination: { coding: [{ code: '54' }] } }, id()));
    const finished = discharge === 'discharge' || discharge === 'discharge-cancel-discharge';
    return { events, model: { ward: wards[wards.length - 1], status: finished ? 'finished' : 'in-progress', expectedDischarge: pendingDates[pendingDates.length - 1] } };
  });

test('any arrival order of a valid visit history (with resends) folds to the same Encounter as in order, and that Encounter matches the model', () => {
  fc.assert(
    fc.property(
      visitHistory.chain((history) =>
        fc.tuple(fc.constant(history), fc.shuffledSubarray(history.events, { minLength: history.events.length, maxLength: history.events.length }), fc.subarray(history.events)),
      ),
      ([{ events, model }, shuffled, resent]) => {
        const inOrder = foldVisit(events);
        expect(foldVisit([...shuffled, ...resent])).toEqual(inOrder);
        expect(inOrder?.status).toBe(model.status);
        expect(inOrder?.location?.[inOrder.location.length - 1]?.location.display).toBe(model.ward);
        const planned = inOrder?.extension?.find((e) => e.url.endsWith('plannedEndDate'))?.valueDateTime;
        expect(planned).toBe(model.expectedDischarge);
      },
    ),
    { numRuns: 300 },
  );
});
