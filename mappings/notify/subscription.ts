import type { Extension, Subscription } from '@medplum/fhirtypes';
import { CancelledEvent, Topic, TopicFilter, topicOfCanonical } from './topics';
import { BACKPORT, PayloadContent } from './notification';

/**
 * Reading a Subscription a system POSTs (Subscriptions R5 Backport IG, R4 topic-based profile):
 * `criteria` is a topic canonical, `_criteria` carries backport-filter-criteria extensions
 * (`recipient=system|value`, required; `event=` for cancellations), `channel.type` is `rest-hook`
 * (https, or http in development) or `email` (`mailto:`), `channel._payload` carries
 * backport-payload-content (`id-only`, the default, or `empty`; `full-resource` is refused:
 * a notification never carries more than a reader may see). Pure: returns the subscription's
 * terms or the problems found, each with its FHIRPath.
 */

export const FILTER_CRITERIA_EXTENSION = `${BACKPORT}/backport-filter-criteria`;
export const PAYLOAD_CONTENT_EXTENSION = `${BACKPORT}/backport-payload-content`;
export const TIMEOUT_EXTENSION = `${BACKPORT}/backport-timeout`;
export const MAX_COUNT_EXTENSION = `${BACKPORT}/backport-max-count`;
export const HEARTBEAT_PERIOD_EXTENSION = `${BACKPORT}/backport-heartbeat-period`;
/** The HMAC key for the signature header: the subscriber may give one; else the server makes one and returns it once. */
export const SIGNING_SECRET_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/subscription-signing-secret';

export const ChannelType = { REST_HOOK: 'rest-hook', EMAIL: 'email' } as const;
export type ChannelType = (typeof ChannelType)[keyof typeof ChannelType];

export interface SubscriptionTerms {
  readonly topic: Topic;
  readonly recipient: string;
  readonly cancelledEvents: readonly CancelledEvent[];
  readonly channelType: ChannelType;
  readonly endpoint: string;
  readonly content: PayloadContent;
  readonly headers: readonly string[];
  readonly timeoutSeconds?: number;
  /** Seconds without a notification after which a heartbeat is sent (rest-hook only); none when absent. */
  readonly heartbeatSeconds?: number;
  readonly end?: string;
  readonly secret?: string;
  readonly reason: string;
}

export interface TermsProblem {
  readonly expression: string;
  readonly text: string;
}

export type ReadTerms = { ok: true; terms: SubscriptionTerms } | { ok: false; problems: TermsProblem[] };

const MIN_SECRET_LENGTH = 32;
const MAX_TIMEOUT_SECONDS = 60;
/** Heartbeats: at most one a minute per subscription (1,000 subscriptions must not become a load of their own), at least one a day. */
export const MIN_HEARTBEAT_SECONDS = 60;
const MAX_HEARTBEAT_SECONDS = 86_400;
const EMAIL = /^mailto:[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+$/i;

function extensionValue(extensions: readonly Extension[] | undefined, url: string): Extension[] {
  return (extensions ?? []).filter((e) => e.url === url);
}

/** A backport filter is `name=value`, optionally after `Type?` (e.g. `Encounter?recipient=…`). */
export function parseFilter(text: string): { name: string; value: string } | undefined {
  const body = text.includes('?') ? text.slice(text.indexOf('?') + 1) : text;
  const eq = body.indexOf('=');
  if (eq <= 0) return undefined;
  return { name: body.slice(0, eq).trim(), value: body.slice(eq + 1).trim() };
}

export function readSubscription(resource: unknown, options: { allowHttp: boolean }): ReadTerms {
  const problems: TermsProblem[] = [];
  const problem = (expression: string, text: string): void => {
    problems.push({ expression, text });
  };
  const s = resource as Partial<Subscription> & { _criteria?: { extension?: Extension[] }; channel?: Subscription['channel'] & { _payload?: { extension?: Extension[] } } };
  if (typeof resource !== 'object' || resource === null || s.resourceType !== 'Subscription') return { ok: false, problems: [{ expression: 'Subscription', text: 'The body must be a FHIR Subscription resource' }] };

  const topic = typeof s.criteria === 'string' ? topicOfCanonical(s.criteria) : undefined;
  if (!topic) problem('Subscription.criteria', 'criteria must be the canonical URL of one of our subscription topics (GET /notify/topics lists them)');

  let recipient: string | undefined;
  let recipientGiven = false;
  const cancelledEvents: CancelledEvent[] = [];
  for (const ext of extensionValue(s._criteria?.extension, FILTER_CRITERIA_EXTENSION)) {
    const filter = typeof ext.valueString === 'string' ? parseFilter(ext.valueString) : undefined;
    if (!filter) {
      problem('Subscription.criteria.extension', 'a filter criteria must be name=value');
      continue;
    }
    switch (filter.name) {
      case TopicFilter.RECIPIENT:
        recipientGiven = true;
        if (recipient !== undefined) problem('Subscription.criteria.extension', 'give one recipient per subscription');
        else if (!/^[^|\s]+\|[^|\s]+$/.test(filter.value)) problem('Subscription.criteria.extension', 'recipient must be system|value (an ODS code, council code, CQC location or team identifier)');
        else recipient = filter.value;
        break;
      case TopicFilter.EVENT: {
        if (topic !== Topic.CANCELLATION) {
          problem('Subscription.criteria.extension', 'the event filter applies to the cancellation topic only');
          break;
        }
        for (const value of filter.value.split(',')) {
          if ((Object.values(CancelledEvent) as string[]).includes(value)) cancelledEvents.push(value as CancelledEvent);
          else problem('Subscription.criteria.extension', `event must be one of ${Object.values(CancelledEvent).join(', ')}`);
        }
        break;
      }
      default:
        problem('Subscription.criteria.extension', `unknown filter '${filter.name}': the topics take recipient (and event for cancellations)`);
    }
  }
  if (!recipientGiven) {
    problem('Subscription.criteria.extension', 'a recipient filter is required (backport-filter-criteria recipient=system|value): subscriptions are for one organisation or team');
  }

  const channel = s.channel;
  let channelType: ChannelType | undefined;
  let endpoint = '';
  if (!channel) problem('Subscription.channel', 'channel is required');
  else {
    endpoint = typeof channel.endpoint === 'string' ? channel.endpoint : '';
    if (channel.type === ChannelType.REST_HOOK) {
      channelType = ChannelType.REST_HOOK;
      let parsed: URL | undefined;
      try {
        parsed = new URL(endpoint);
      } catch {
        problem('Subscription.channel.endpoint', 'endpoint must be an absolute URL');
      }
      if (parsed && parsed.protocol !== 'https:' && !(options.allowHttp && parsed.protocol === 'http:')) {
        problem('Subscription.channel.endpoint', options.allowHttp ? 'endpoint must be http or https' : 'endpoint must be https (http only in development)');
      }
      if (parsed && (parsed.username || parsed.password)) problem('Subscription.channel.endpoint', 'endpoint must not carry credentials; use channel.header');
    } else if (channel.type === ChannelType.EMAIL) {
      channelType = ChannelType.EMAIL;
      if (!EMAIL.test(endpoint)) problem('Subscription.channel.endpoint', 'an email channel endpoint is mailto:one-address');
    } else problem('Subscription.channel.type', 'channel type must be rest-hook or email');
  }

  let content: PayloadContent = PayloadContent.ID_ONLY;
  const contentExt = extensionValue(channel?._payload?.extension, PAYLOAD_CONTENT_EXTENSION)[0];
  if (contentExt) {
    if (contentExt.valueCode === PayloadContent.ID_ONLY || contentExt.valueCode === PayloadContent.EMPTY) content = contentExt.valueCode;
    else problem('Subscription.channel.payload.extension', 'payload content must be id-only or empty: notifications never carry record content; read it through the API');
  }
  if (channel?.payload !== undefined && channel.payload !== 'application/fhir+json') problem('Subscription.channel.payload', 'payload must be application/fhir+json');

  const headers = channel?.header ?? [];
  for (const h of headers) if (!/^[A-Za-z0-9-]+: ?[^\r\n]*$/.test(h)) problem('Subscription.channel.header', 'each header is "Name: value" on one line');

  let timeoutSeconds: number | undefined;
  const timeoutExt = extensionValue(channel?.extension, TIMEOUT_EXTENSION)[0];
  if (timeoutExt) {
    const t = timeoutExt.valueUnsignedInt;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_TIMEOUT_SECONDS) problem('Subscription.channel.extension', `timeout is 1 to ${String(MAX_TIMEOUT_SECONDS)} seconds`);
    else timeoutSeconds = t;
  }

  let heartbeatSeconds: number | undefined;
  const heartbeatExt = extensionValue(channel?.extension, HEARTBEAT_PERIOD_EXTENSION)[0];
  if (heartbeatExt) {
    const h = heartbeatExt.valueUnsignedInt;
    if (typeof h !== 'number' || !Number.isInteger(h) || h < MIN_HEARTBEAT_SECONDS || h > MAX_HEARTBEAT_SECONDS) {
      problem('Subscription.channel.extension', `heartbeat period is ${String(MIN_HEARTBEAT_SECONDS)} to ${String(MAX_HEARTBEAT_SECONDS)} seconds`);
    } else if (channelType === ChannelType.EMAIL) problem('Subscription.channel.extension', 'heartbeats are for rest-hook channels only');
    else heartbeatSeconds = h;
  }

  const secretExt = extensionValue(s.extension, SIGNING_SECRET_EXTENSION)[0];
  const secret = secretExt?.valueString;
  if (secretExt && (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH)) problem('Subscription.extension', `a signing secret given by the subscriber is at least ${String(MIN_SECRET_LENGTH)} characters`);

  if (s.end !== undefined && Number.isNaN(Date.parse(s.end))) problem('Subscription.end', 'end must be a FHIR instant');
  if (problems.length > 0 || !topic || !recipient || !channelType) return { ok: false, problems };
  return {
    ok: true,
    terms: {
      topic,
      recipient,
      cancelledEvents,
      channelType,
      endpoint,
      content,
      headers,
      ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
      ...(s.end ? { end: s.end } : {}),
      ...(secret ? { secret } : {}),
      reason: typeof s.reason === 'string' ? s.reason : '',
    },
  };
}
