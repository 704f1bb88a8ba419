import { advanceJourney, BagState, startJourney, type HospitalEvent, type Journey } from './journey';

const issued = '2026-11-20T02:40:00Z';
let n = 0;
const event = (kind: string, eventTime: string, encounterId = 'enc-1', extra: Partial<HospitalEvent> = {}): HospitalEvent => ({ kind, eventTime, encounterId, outboxId: String(++n), ...extra });

function run(events: readonly HospitalEvent[]): { journey: Journey; recorded: string[] } {
  let journey = startJourney(issued);
  const recorded: string[] = [];
  for (const e of events) {
    const change = advanceJourney(journey, e);
    if (change) {
      journey = change.journey;
      recorded.push(`${change.event}${change.undone ? ` (undid ${change.step})` : ''}`);
    }
  }
  return { journey, recorded };
}

describe('the red bag journey', () => {
  it('follows admission, pending discharge and discharge of the same visit', () => {
    const { journey, recorded } = run([
      event('admission', '2026-11-20T03:55:00Z'),
      event('pending-discharge', '2026-11-24T10:00:00Z', 'enc-1', { expectedDischarge: '2026-11-25T11:00:00Z' }),
      event('discharge', '2026-11-25T14:30:00Z'),
    ]);
    expect(recorded).toEqual(['red-bag-received', 'red-bag-awaiting-discharge', 'red-bag-returned']);
    expect(journey.state).toBe(BagState.RETURNED);
    expect(journey.steps.map((s) => s.state)).toEqual(['sent', 'arrived', 'awaiting-discharge', 'returned']);
    expect(journey.encounterId).toBe('enc-1');
  });

  it('an admission more than 72 hours after issue is not the bag arriving', () => {
    expect(run([event('admission', '2026-11-23T02:41:00Z')]).journey.state).toBe(BagState.SENT);
    expect(run([event('admission', '2026-11-23T02:40:00Z')]).journey.state).toBe(BagState.ARRIVED);
  });

  it('an admission stamped shortly before the form was finished still counts; one a day earlier does not', () => {
    expect(run([event('admission', '2026-11-19T22:00:00Z')]).journey.state).toBe(BagState.ARRIVED);
    expect(run([event('admission', '2026-11-19T02:40:00Z')]).journey.state).toBe(BagState.SENT);
  });

  it('a cancelled admission steps back to sent, and the next admission arrives again', () => {
    const { journey, recorded } = run([event('admission', '2026-11-20T03:55:00Z', 'enc-1'), event('cancel-admission', '2026-11-20T04:10:00Z', 'enc-1'), event('admission', '2026-11-20T04:20:00Z', 'enc-2')]);
    expect(recorded).toEqual(['red-bag-received', 'red-bag-cancelled (undid arrived)', 'red-bag-received']);
    expect(journey.state).toBe(BagState.ARRIVED);
    expect(journey.encounterId).toBe('enc-2');
    expect(journey.steps.map((s) => s.state)).toEqual(['sent', 'arrived']);
  });

  it('a cancelled pending discharge returns to arrived and forgets the expected date', () => {
    const { journey } = run([event('admission', '2026-11-20T03:55:00Z'), event('pending-discharge', '2026-11-24T10:00:00Z', 'enc-1', { expectedDischarge: '2026-11-25' }), event('cancel-pending-discharge', '2026-11-24T12:00:00Z')]);
    expect([journey.state, journey.expectedDischarge]).toEqual([BagState.ARRIVED, undefined]);
  });

  it('a cancelled discharge steps back to where the bag was before it', () => {
    const { journey, recorded } = run([event('admission', '2026-11-20T03:55:00Z'), event('pending-discharge', '2026-11-24T10:00:00Z'), event('discharge', '2026-11-25T14:30:00Z'), event('cancel-discharge', '2026-11-25T15:00:00Z')]);
    expect(recorded.slice(-1)).toEqual(['red-bag-cancelled (undid returned)']);
    expect(journey.state).toBe(BagState.AWAITING_DISCHARGE);
  });

  it('events of another visit leave the journey alone', () => {
    const { journey, recorded } = run([event('admission', '2026-11-20T03:55:00Z', 'enc-1'), event('discharge', '2026-11-21T09:00:00Z', 'enc-9'), event('cancel-admission', '2026-11-21T09:00:00Z', 'enc-9')]);
    expect(recorded).toEqual(['red-bag-received']);
    expect(journey.state).toBe(BagState.ARRIVED);
  });

  it('a death in hospital ends the journey; nothing after it changes it', () => {
    const { journey } = run([event('admission', '2026-11-20T03:55:00Z'), event('death', '2026-11-22T01:00:00Z'), event('discharge', '2026-11-22T02:00:00Z')]);
    expect(journey.state).toBe(BagState.ENDED);
  });
});
