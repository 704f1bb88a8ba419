import { Hl7EventKind } from '../hl7v2/tables/events';

/**
 * The subscription topics CareBridge publishes (FHIR Subscriptions R5 Backport IG, topic-based
 * subscriptions in R4: `Subscription.criteria` is one of these canonical URLs) and which outbox
 * event kinds raise each. R4 has no SubscriptionTopic resource; the canonicals and their filters
 * are listed here, at `GET /notify/topics`, and in the README.
 */

export const TOPIC_BASE = 'https://carebridge.nhs.uk/fhir/SubscriptionTopic';

export const Topic = {
  ADMISSION: 'admission',
  ED_ATTENDANCE: 'ed-attendance',
  TRANSFER: 'transfer',
  PENDING_DISCHARGE: 'pending-discharge',
  DISCHARGE: 'discharge',
  /** Any of the above withdrawn by the hospital (A11, A12, A13, A25, A27), or a red bag step undone. */
  CANCELLATION: 'cancellation',
  DEATH: 'death',
  RED_BAG_PASSPORT_ISSUED: 'red-bag-passport-issued',
  RED_BAG_SENT: 'red-bag-sent',
  RED_BAG_RECEIVED: 'red-bag-received',
  RED_BAG_AWAITING_DISCHARGE: 'red-bag-awaiting-discharge',
  RED_BAG_DISCHARGE_PASSPORT_ISSUED: 'red-bag-discharge-passport-issued',
  RED_BAG_RETURNED: 'red-bag-returned',
} as const;
export type Topic = (typeof Topic)[keyof typeof Topic];

export const ALL_TOPICS: readonly Topic[] = Object.values(Topic);

export function topicCanonical(topic: Topic): string {
  return `${TOPIC_BASE}/${topic}`;
}

/** The topic named by a canonical URL (a `|version` suffix is allowed and ignored), or undefined. */
export function topicOfCanonical(canonical: string): Topic | undefined {
  const url = canonical.split('|')[0] ?? '';
  if (!url.startsWith(`${TOPIC_BASE}/`)) return undefined;
  const code = url.slice(TOPIC_BASE.length + 1);
  return (ALL_TOPICS as readonly string[]).includes(code) ? (code as Topic) : undefined;
}

/**
 * Red bag journey steps (specs/red-bag-passport.md). The passport work writes these kinds to the
 * outbox; the hospital feed's own events (admission, pending discharge, discharge) also tell the
 * care home where the bag is, through the admission and discharge topics.
 */
export const RedBagEventKind = {
  PASSPORT_ISSUED: 'red-bag-passport-issued',
  SENT: 'red-bag-sent',
  RECEIVED: 'red-bag-received',
  /** The hospital expects to discharge the person (pending discharge), with the expected date. */
  AWAITING_DISCHARGE: 'red-bag-awaiting-discharge',
  DISCHARGE_PASSPORT_ISSUED: 'red-bag-discharge-passport-issued',
  RETURNED: 'red-bag-returned',
  /** A red bag step withdrawn (the last step is undone). */
  CANCELLED: 'red-bag-cancelled',
  /** A care home's record system sent a transfer request through the FHIR intake: a passport is to be issued (the issue is what is notified). */
  TRANSFER_REQUESTED: 'red-bag-transfer-requested',
} as const;
export type RedBagEventKind = (typeof RedBagEventKind)[keyof typeof RedBagEventKind];

/** Every kind the outbox may carry. */
export type OutboxEventKind = Hl7EventKind | RedBagEventKind;

/** What a cancellation withdrew, for the `event` filter of the cancellation topic. */
export const CancelledEvent = {
  ADMISSION: 'admission',
  TRANSFER: 'transfer',
  DISCHARGE: 'discharge',
  PENDING_ADMISSION: 'pending-admission',
  PENDING_DISCHARGE: 'pending-discharge',
  RED_BAG_STEP: 'red-bag-step',
} as const;
export type CancelledEvent = (typeof CancelledEvent)[keyof typeof CancelledEvent];

export interface TopicOfEvent {
  readonly topic: Topic;
  /** For cancellations: what was withdrawn. */
  readonly cancelled?: CancelledEvent;
}

/** The topic an outbox event raises, or undefined for events nobody subscribes to (updates, merges, documents). */
export function topicOfEvent(kind: OutboxEventKind): TopicOfEvent | undefined {
  switch (kind) {
    case Hl7EventKind.ADMISSION:
    case Hl7EventKind.CHANGE_TO_INPATIENT:
      return { topic: Topic.ADMISSION };
    case Hl7EventKind.ED_ATTENDANCE:
      return { topic: Topic.ED_ATTENDANCE };
    case Hl7EventKind.TRANSFER:
      return { topic: Topic.TRANSFER };
    case Hl7EventKind.PENDING_DISCHARGE:
      return { topic: Topic.PENDING_DISCHARGE };
    case Hl7EventKind.DISCHARGE:
      return { topic: Topic.DISCHARGE };
    case Hl7EventKind.DEATH:
      return { topic: Topic.DEATH };
    case Hl7EventKind.CANCEL_ADMISSION:
      return { topic: Topic.CANCELLATION, cancelled: CancelledEvent.ADMISSION };
    case Hl7EventKind.CANCEL_TRANSFER:
      return { topic: Topic.CANCELLATION, cancelled: CancelledEvent.TRANSFER };
    case Hl7EventKind.CANCEL_DISCHARGE:
      return { topic: Topic.CANCELLATION, cancelled: CancelledEvent.DISCHARGE };
    case Hl7EventKind.CANCEL_PENDING_ADMISSION:
      return { topic: Topic.CANCELLATION, cancelled: CancelledEvent.PENDING_ADMISSION };
    case Hl7EventKind.CANCEL_PENDING_DISCHARGE:
      return { topic: Topic.CANCELLATION, cancelled: CancelledEvent.PENDING_DISCHARGE };
    case RedBagEventKind.PASSPORT_ISSUED:
      return { topic: Topic.RED_BAG_PASSPORT_ISSUED };
    case RedBagEventKind.SENT:
      return { topic: Topic.RED_BAG_SENT };
    case RedBagEventKind.RECEIVED:
      return { topic: Topic.RED_BAG_RECEIVED };
    case RedBagEventKind.AWAITING_DISCHARGE:
      return { topic: Topic.RED_BAG_AWAITING_DISCHARGE };
    case RedBagEventKind.DISCHARGE_PASSPORT_ISSUED:
      return { topic: Topic.RED_BAG_DISCHARGE_PASSPORT_ISSUED };
    case RedBagEventKind.RETURNED:
      return { topic: Topic.RED_BAG_RETURNED };
    case RedBagEventKind.CANCELLED:
      return { topic: Topic.CANCELLATION, cancelled: CancelledEvent.RED_BAG_STEP };
    case Hl7EventKind.REGISTRATION:
    case Hl7EventKind.PRE_ADMISSION:
    case Hl7EventKind.PENDING_ADMISSION:
    case Hl7EventKind.CHANGE_TO_OUTPATIENT:
    case Hl7EventKind.UPDATE:
    case Hl7EventKind.PERSON_ADDED:
    case Hl7EventKind.PERSON_UPDATED:
    case Hl7EventKind.MERGE:
    case Hl7EventKind.DOCUMENT:
    case RedBagEventKind.TRANSFER_REQUESTED:
      return undefined;
  }
}

const KNOWN_KINDS = new Set<string>([...Object.values(Hl7EventKind), ...Object.values(RedBagEventKind)]);

export function isOutboxEventKind(kind: string): kind is OutboxEventKind {
  return KNOWN_KINDS.has(kind);
}

/** Filters a subscription may carry (backport `filterCriteria`, `name=value`). */
export const TopicFilter = {
  /** The organisation or team told: `system|value` (ODS, ONS council, CQC location, `<source>/team`). Required. */
  RECIPIENT: 'recipient',
  /** Cancellation topic only: what was withdrawn. */
  EVENT: 'event',
} as const;
export type TopicFilter = (typeof TopicFilter)[keyof typeof TopicFilter];

export const TOPIC_DESCRIPTIONS: Readonly<Record<Topic, string>> = {
  admission: 'A person was admitted to hospital (HL7 A01, A06).',
  'ed-attendance': 'A person attended an emergency department (A04 with an emergency patient class).',
  transfer: 'A person moved ward or bed within a hospital stay (A02).',
  'pending-discharge': 'A discharge is planned, with the expected date where the hospital gave one (A16).',
  discharge: 'A person was discharged from a hospital stay or attendance (A03).',
  cancellation: 'A hospital withdrew an earlier admission, transfer, discharge, pending admission or pending discharge (A11, A12, A13, A27, A25), or a red bag step was undone; filter `event`.',
  death: 'A person died in hospital (A03 with a death indicator or discharge method).',
  'red-bag-passport-issued': 'A red bag transfer passport was issued by the care home.',
  'red-bag-sent': 'The red bag left the care home with the resident.',
  'red-bag-received': 'The hospital received the red bag.',
  'red-bag-awaiting-discharge': 'The hospital expects to discharge a resident who went in with a red bag (pending discharge, with the expected date).',
  'red-bag-discharge-passport-issued': 'The hospital issued the discharge passport for the red bag.',
  'red-bag-returned': 'The red bag came home with the resident.',
};
