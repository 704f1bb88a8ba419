import { Hl7EventKind } from '../hl7v2/tables/events';
import { RedBagEventKind } from '../notify/topics';

/**
 * The red bag's journey from the hospital's messages (specs/red-bag-passport.md): sent (the
 * transfer passport issued) → arrived (the same person admitted, or seen in ED, at a hospital
 * within 72 hours of issue) → awaiting discharge (pending discharge, with the expected date) →
 * returned (discharged). A cancellation undoes the step it cancels (A11 the arrival and
 * everything after it, A25 the pending discharge, A13 the return). A death in hospital ends the
 * journey without a return. Pure: the journey and one event in, the next journey out.
 */

export const BagState = {
  SENT: 'sent',
  ARRIVED: 'arrived',
  AWAITING_DISCHARGE: 'awaiting-discharge',
  RETURNED: 'returned',
  ENDED: 'ended',
} as const;
export type BagState = (typeof BagState)[keyof typeof BagState];

export const BAG_STATE_TEXT: Readonly<Record<BagState, string>> = {
  sent: 'Sent with the person: passport issued',
  arrived: 'Arrived at hospital',
  'awaiting-discharge': 'Awaiting discharge',
  returned: 'Returned: discharged',
  ended: 'Journey ended (the person died in hospital)',
};

/** How long after the passport is issued an admission counts as the bag's arrival (the spec's 72 hours). */
export const ARRIVAL_WINDOW_HOURS = 72;
/** An admission stamped a little before the form was finished (the form written after the ambulance left) still counts. */
export const ARRIVAL_GRACE_BEFORE_HOURS = 6;

export interface JourneyStep {
  readonly state: BagState;
  readonly at: string;
  /** The outbox event that made the step (none for the first). */
  readonly outboxId?: string;
  readonly encounterId?: string;
}

export interface Journey {
  readonly state: BagState;
  readonly issuedAt: string;
  /** The admission the bag arrived with. */
  readonly encounterId?: string;
  readonly expectedDischarge?: string;
  /** Every step in order, undone ones removed: the last is the current state. */
  readonly steps: readonly JourneyStep[];
}

export interface HospitalEvent {
  readonly kind: string;
  readonly eventTime: string;
  readonly encounterId?: string;
  readonly outboxId: string;
  readonly expectedDischarge?: string;
}

export interface JourneyChange {
  readonly journey: Journey;
  /** The outbox kind to record for the care home and the co-ordinator. */
  readonly event: RedBagEventKind;
  /** The step made or undone. */
  readonly step: BagState;
  readonly undone: boolean;
}

export function startJourney(issuedAt: string): Journey {
  return { state: BagState.SENT, issuedAt, steps: [{ state: BagState.SENT, at: issuedAt }] };
}

const HOUR = 3_600_000;

function withinArrivalWindow(journey: Journey, eventTime: string): boolean {
  const issued = Date.parse(journey.issuedAt);
  const at = Date.parse(eventTime);
  return at >= issued - ARRIVAL_GRACE_BEFORE_HOURS * HOUR && at <= issued + ARRIVAL_WINDOW_HOURS * HOUR;
}

function step(journey: Journey, state: BagState, event: HospitalEvent, extra: Partial<Pick<Journey, 'encounterId' | 'expectedDischarge'>> = {}): Journey {
  return { ...journey, ...extra, state, steps: [...journey.steps, { state, at: event.eventTime, outboxId: event.outboxId, ...(event.encounterId ? { encounterId: event.encounterId } : {}) }] };
}

function undoTo(journey: Journey, state: BagState): Journey {
  const index = journey.steps.map((s) => s.state).lastIndexOf(state);
  const steps = journey.steps.slice(0, index + 1);
  const { encounterId: _e, expectedDischarge: _x, ...rest } = journey;
  return {
    ...rest,
    state,
    steps,
    ...(state !== BagState.SENT && journey.encounterId ? { encounterId: journey.encounterId } : {}),
    ...(state === BagState.AWAITING_DISCHARGE && journey.expectedDischarge ? { expectedDischarge: journey.expectedDischarge } : {}),
  };
}

const previousState = (journey: Journey): BagState => journey.steps[journey.steps.length - 2]?.state ?? BagState.SENT;

export function advanceJourney(journey: Journey, event: HospitalEvent): JourneyChange | undefined {
  const sameVisit = event.encounterId !== undefined && event.encounterId === journey.encounterId;
  switch (journey.state) {
    case BagState.SENT:
      if ((event.kind === Hl7EventKind.ADMISSION || event.kind === Hl7EventKind.ED_ATTENDANCE) && event.encounterId && withinArrivalWindow(journey, event.eventTime)) {
        return { journey: step(journey, BagState.ARRIVED, event, { encounterId: event.encounterId }), event: RedBagEventKind.RECEIVED, step: BagState.ARRIVED, undone: false };
      }
      return undefined;
    case BagState.ARRIVED:
    case BagState.AWAITING_DISCHARGE:
      if (!sameVisit) return undefined;
      switch (event.kind) {
        case Hl7EventKind.PENDING_DISCHARGE:
          return { journey: step(journey, BagState.AWAITING_DISCHARGE, event, event.expectedDischarge ? { expectedDischarge: event.expectedDischarge } : {}), event: RedBagEventKind.AWAITING_DISCHARGE, step: BagState.AWAITING_DISCHARGE, undone: false };
        case Hl7EventKind.DISCHARGE:
          return { journey: step(journey, BagState.RETURNED, event), event: RedBagEventKind.RETURNED, step: BagState.RETURNED, undone: false };
        case Hl7EventKind.DEATH:
          return { journey: step(journey, BagState.ENDED, event), event: RedBagEventKind.CANCELLED, step: BagState.ENDED, undone: false };
        case Hl7EventKind.CANCEL_ADMISSION:
          return { journey: undoTo(journey, BagState.SENT), event: RedBagEventKind.CANCELLED, step: BagState.ARRIVED, undone: true };
        case Hl7EventKind.CANCEL_PENDING_DISCHARGE:
          return journey.state === BagState.AWAITING_DISCHARGE ? { journey: undoTo(journey, BagState.ARRIVED), event: RedBagEventKind.CANCELLED, step: BagState.AWAITING_DISCHARGE, undone: true } : undefined;
        default:
          return undefined;
      }
    case BagState.RETURNED:
      if (sameVisit && event.kind === Hl7EventKind.CANCEL_DISCHARGE) {
        return { journey: undoTo(journey, previousState(journey)), event: RedBagEventKind.CANCELLED, step: BagState.RETURNED, undone: true };
      }
      return undefined;
    case BagState.ENDED:
      return undefined;
  }
}

/** The hospital events a journey listens to. */
export const JOURNEY_EVENT_KINDS: readonly string[] = [
  Hl7EventKind.ADMISSION,
  Hl7EventKind.ED_ATTENDANCE,
  Hl7EventKind.PENDING_DISCHARGE,
  Hl7EventKind.DISCHARGE,
  Hl7EventKind.DEATH,
  Hl7EventKind.CANCEL_ADMISSION,
  Hl7EventKind.CANCEL_PENDING_DISCHARGE,
  Hl7EventKind.CANCEL_DISCHARGE,
  Hl7EventKind.DOCUMENT,
  RedBagEventKind.TRANSFER_REQUESTED,
];
