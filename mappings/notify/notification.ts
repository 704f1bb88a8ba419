import type { Bundle, BundleEntry, Extension, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { TOPIC_DESCRIPTIONS, topicCanonical, type Topic } from './topics';

/**
 * The notification a subscriber receives: a `subscription-notification` Bundle (type `history`)
 * whose first entry is the R4 SubscriptionStatus equivalent, a Parameters resource
 * (Subscriptions R5 Backport IG, profiles backport-subscription-notification-r4 and
 * backport-subscription-status-r4). Content is `id-only` by default: what happened (the topic and
 * event kind), to whom by reference, and where to look (full URLs on this server); never the
 * resources themselves. Pure: the caller passes ids, times and the base URL.
 */

export const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const BACKPORT_STATUS_PROFILE = `${BACKPORT}/backport-subscription-status-r4`;
export const BACKPORT_NOTIFICATION_PROFILE = `${BACKPORT}/backport-subscription-notification-r4`;
export const EVENT_KIND_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/notification-event-kind';
export const EXPECTED_DISCHARGE_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/notification-expected-discharge';

export const PayloadContent = { EMPTY: 'empty', ID_ONLY: 'id-only' } as const;
export type PayloadContent = (typeof PayloadContent)[keyof typeof PayloadContent];

export const SubscriptionState = { REQUESTED: 'requested', ACTIVE: 'active', ERROR: 'error', OFF: 'off' } as const;
export type SubscriptionState = (typeof SubscriptionState)[keyof typeof SubscriptionState];

/** Backport IG notification types: a handshake when a rest-hook subscription is created, heartbeats when asked for, events, and `$status`. */
export const NotificationType = { HANDSHAKE: 'handshake', HEARTBEAT: 'heartbeat', EVENT_NOTIFICATION: 'event-notification', QUERY_STATUS: 'query-status' } as const;
export type NotificationType = (typeof NotificationType)[keyof typeof NotificationType];

export interface NotificationEvent {
  readonly eventNumber: number;
  /** When the event happened (the hospital's event time). */
  readonly timestamp: string;
  /** The outbox kind, e.g. `cancel-discharge`. */
  readonly kind: string;
  /** `Encounter/id` (or `Patient/id` for person events). */
  readonly focus: string;
  /** `Patient/id` and any other references a reader needs to look. */
  readonly additionalContext: readonly string[];
  readonly expectedDischarge?: string;
}

export interface StatusInput {
  readonly fhirBase: string;
  readonly subscriptionId: string;
  readonly topic: Topic;
  readonly status: SubscriptionState;
  readonly type: NotificationType;
  readonly eventsSinceSubscriptionStart: number;
  readonly events: readonly NotificationEvent[];
  readonly content: PayloadContent;
  readonly error?: string;
}

const url = (fhirBase: string, ref: string): string => `${fhirBase}/${ref}`;

function eventParameter(input: StatusInput, event: NotificationEvent): ParametersParameter {
  const extension: Extension[] = [{ url: EVENT_KIND_EXTENSION, valueCode: event.kind }, ...(event.expectedDischarge ? [{ url: EXPECTED_DISCHARGE_EXTENSION, valueDateTime: event.expectedDischarge }] : [])];
  const part: ParametersParameter[] = [
    { name: 'event-number', valueString: String(event.eventNumber) },
    { name: 'timestamp', valueInstant: event.timestamp },
  ];
  if (input.content === PayloadContent.ID_ONLY) {
    part.push({ name: 'focus', valueReference: { reference: url(input.fhirBase, event.focus) } });
    for (const ref of event.additionalContext) part.push({ name: 'additional-context', valueReference: { reference: url(input.fhirBase, ref) } });
  }
  return { name: 'notification-event', extension, part };
}

/** The SubscriptionStatus equivalent (Parameters) for notifications and `$status`. */
export function subscriptionStatus(input: StatusInput): Parameters {
  return {
    resourceType: 'Parameters',
    meta: { profile: [BACKPORT_STATUS_PROFILE] },
    parameter: [
      { name: 'subscription', valueReference: { reference: url(input.fhirBase, `Subscription/${input.subscriptionId}`) } },
      { name: 'topic', valueCanonical: topicCanonical(input.topic) },
      { name: 'status', valueCode: input.status },
      { name: 'type', valueCode: input.type },
      { name: 'events-since-subscription-start', valueString: String(input.eventsSinceSubscriptionStart) },
      ...input.events.map((e) => eventParameter(input, e)),
      ...(input.error ? [{ name: 'error', valueCodeableConcept: { text: input.error } }] : []),
    ],
  };
}

/** The notification Bundle for one event (the gateway sends one event per notification, in order per person). */
export function notificationBundle(input: StatusInput & { bundleId: string; timestamp: string }): Bundle {
  const status = subscriptionStatus(input);
  const entries: BundleEntry[] = [{ fullUrl: `urn:uuid:${input.bundleId}-status`, resource: status }];
  if (input.content === PayloadContent.ID_ONLY) {
    const seen = new Set<string>();
    for (const event of input.events) {
      for (const ref of [event.focus, ...event.additionalContext]) {
        if (seen.has(ref)) continue;
        seen.add(ref);
        entries.push({ fullUrl: url(input.fhirBase, ref), request: { method: 'GET', url: ref }, response: { status: '200' } });
      }
    }
  }
  return { resourceType: 'Bundle', id: input.bundleId, meta: { profile: [BACKPORT_NOTIFICATION_PROFILE] }, type: 'history', timestamp: input.timestamp, entry: entries };
}

/**
 * The e-mail for an event: that something happened and where to look, nothing about the person
 * (no name, NHS number, ward or diagnosis: e-mail leaves our control). The link opens the record
 * through the normal, audited sign-in.
 */
export function notificationEmail(input: { topic: Topic; eventNumber: number; link: string; subscriptionId: string }): { subject: string; text: string } {
  const what = TOPIC_DESCRIPTIONS[input.topic].replace(/ \(.*?\)/g, '').replace(/;.*$/, '');
  return {
    subject: `CareBridge: ${input.topic.replace(/-/g, ' ')} for one of your patients or residents`,
    text: [
      `CareBridge has a new event for someone your organisation or team looks after.`,
      ``,
      `What happened: ${what}`,
      `Open the record (sign-in required): ${input.link}`,
      ``,
      `This message holds no personal details by design. Notification ${String(input.eventNumber)} of subscription ${input.subscriptionId}.`,
    ].join('\n'),
  };
}
