import { randomBytes, randomUUID } from 'node:crypto';
import type { Extension, Subscription } from '@medplum/fhirtypes';
import { BACKPORT, SubscriptionState, type PayloadContent } from '../../mappings/notify/notification';
import { ChannelType, FILTER_CRITERIA_EXTENSION, HEARTBEAT_PERIOD_EXTENSION, PAYLOAD_CONTENT_EXTENSION, SIGNING_SECRET_EXTENSION, TIMEOUT_EXTENSION, type SubscriptionTerms } from '../../mappings/notify/subscription';
import { TopicFilter, topicCanonical, type Topic } from '../../mappings/notify/topics';
import type { SqlClient } from '../store/engine';

/** A stored subscription: its terms plus delivery bookkeeping. The secret never leaves except once, on creation. */
export interface StoredSubscription {
  readonly id: string;
  readonly owner: string;
  readonly createdBy: string;
  readonly topic: Topic;
  readonly recipient: string;
  readonly cancelledEvents: readonly string[];
  readonly channelType: ChannelType;
  readonly endpoint: string;
  readonly content: PayloadContent;
  readonly headers: readonly string[];
  readonly timeoutMs: number;
  /** Seconds without a notification before a heartbeat is sent; undefined for none. */
  readonly heartbeatSeconds?: number;
  readonly secret: string;
  readonly status: SubscriptionState;
  readonly reason: string;
  readonly end?: string;
  readonly eventsSinceStart: number;
  /** Events it would have been sent that the access rules withheld from its recipient. */
  readonly withheldEvents: number;
  readonly lastSuccessAt?: string;
  readonly lastErrorAt?: string;
  readonly lastError?: string;
  /** Handshakes tried so far (a `requested` subscription is owed one). */
  readonly handshakeAttempts: number;
  readonly lastHeartbeatAt?: string;
  readonly createdAt: string;
}

interface Row {
  id: string;
  owner: string;
  created_by: string;
  topic: string;
  recipient: string;
  cancelled_events: string[];
  channel_type: string;
  endpoint: string;
  content: string;
  headers: string[];
  timeout_ms: number;
  heartbeat_seconds: number | null;
  secret: string;
  status: string;
  reason: string;
  end_at: Date | null;
  events_since_start: string | number;
  withheld_events: string | number;
  last_success_at: Date | null;
  last_error_at: Date | null;
  last_error: string | null;
  handshake_attempts: number;
  last_heartbeat_at: Date | null;
  created_at: Date;
}

const iso = (d: Date | null): string | undefined => (d ? new Date(d).toISOString() : undefined);

function fromRow(r: Row): StoredSubscription {
  return {
    id: r.id,
    owner: r.owner,
    createdBy: r.created_by,
    topic: r.topic as Topic,
    recipient: r.recipient,
    cancelledEvents: r.cancelled_events,
    channelType: r.channel_type as ChannelType,
    endpoint: r.endpoint,
    content: r.content as PayloadContent,
    headers: r.headers,
    timeoutMs: r.timeout_ms,
    ...(r.heartbeat_seconds !== null ? { heartbeatSeconds: r.heartbeat_seconds } : {}),
    secret: r.secret,
    status: r.status as SubscriptionState,
    reason: r.reason,
    end: iso(r.end_at),
    eventsSinceStart: Number(r.events_since_start),
    withheldEvents: Number(r.withheld_events),
    lastSuccessAt: iso(r.last_success_at),
    lastErrorAt: iso(r.last_error_at),
    lastError: r.last_error ?? undefined,
    handshakeAttempts: r.handshake_attempts,
    lastHeartbeatAt: iso(r.last_heartbeat_at),
    createdAt: iso(r.created_at) ?? '',
  };
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Stores a subscription. With `handshake` (what the API does for rest-hook channels, as the
 * Backport IG describes) it starts `requested`: control.ts sends it a handshake, and its events
 * wait until the endpoint has answered one. Without, it is active at once (e-mail, benchmarks).
 */
export async function createSubscription(db: SqlClient, terms: SubscriptionTerms, owner: { organisation: string; createdBy: string }, options: { handshake?: boolean } = {}): Promise<StoredSubscription> {
  const id = randomUUID();
  const secret = terms.secret ?? randomBytes(32).toString('base64url');
  const handshake = options.handshake === true && terms.channelType === ChannelType.REST_HOOK;
  const rows = await db.query<Row>(
    `INSERT INTO notify_subscription (id, owner, created_by, topic, recipient, cancelled_events, channel_type, endpoint, content, headers, timeout_ms, secret, status, reason, end_at, heartbeat_seconds, handshake_next_at)
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, $10::text[], $11, $12, $15, $13, $14::timestamptz, $16, CASE WHEN $17::boolean THEN now() END) RETURNING *`,
    [
      id,
      owner.organisation,
      owner.createdBy,
      terms.topic,
      terms.recipient,
      terms.cancelledEvents,
      terms.channelType,
      terms.endpoint,
      terms.content,
      terms.headers,
      terms.timeoutSeconds ? terms.timeoutSeconds * 1000 : DEFAULT_TIMEOUT_MS,
      secret,
      terms.reason,
      terms.end ?? null,
      handshake ? SubscriptionState.REQUESTED : SubscriptionState.ACTIVE,
      terms.heartbeatSeconds ?? null,
      handshake,
    ],
  );
  return fromRow(rows.rows[0] as Row);
}

export async function getSubscription(db: SqlClient, id: string): Promise<StoredSubscription | undefined> {
  const rows = await db.query<Row>(`SELECT * FROM notify_subscription WHERE id = $1 AND deleted_at IS NULL`, [id]);
  const row = rows.rows[0];
  return row ? fromRow(row) : undefined;
}

export async function listSubscriptions(db: SqlClient, owner?: string): Promise<StoredSubscription[]> {
  const rows = owner === undefined
    ? await db.query<Row>(`SELECT * FROM notify_subscription WHERE deleted_at IS NULL ORDER BY created_at, id`)
    : await db.query<Row>(`SELECT * FROM notify_subscription WHERE deleted_at IS NULL AND owner = $1 ORDER BY created_at, id`, [owner]);
  return rows.rows.map(fromRow);
}

/** Switches a subscription off (kept for its deliveries' history); its undelivered notifications are dropped. */
export async function deleteSubscription(db: SqlClient, id: string): Promise<boolean> {
  const result = await db.query(`UPDATE notify_subscription SET deleted_at = now(), status = 'off' WHERE id = $1 AND deleted_at IS NULL`, [id]);
  if (result.rowCount === 0) return false;
  await db.query(`UPDATE notify_delivery SET status = 'cancelled', leased_until = NULL WHERE subscription_id = $1 AND status IN ('pending', 'retry', 'dead')`, [id]);
  return true;
}

export interface SubscriptionBacklog {
  readonly pending: number;
  readonly dead: number;
}

/** Each subscription's backlog and dead letters, in one statement (every id given is in the map). */
export async function subscriptionBacklogs(db: SqlClient, ids: readonly string[]): Promise<Map<string, SubscriptionBacklog>> {
  const rows = await db.query<{ id: string; pending: number; dead: number }>(
    `SELECT s.id, count(d.id) FILTER (WHERE d.status IN ('pending', 'retry', 'sending'))::int AS pending, count(d.id) FILTER (WHERE d.status = 'dead')::int AS dead
       FROM unnest($1::text[]) AS s(id) LEFT JOIN notify_delivery d ON d.subscription_id = s.id AND d.status IN ('pending', 'retry', 'sending', 'dead') GROUP BY s.id`,
    [ids],
  );
  return new Map(rows.rows.map((r) => [r.id, { pending: r.pending, dead: r.dead }]));
}

/** The subscription as FHIR (R4, backport profile), without the secret unless this is its creation. */
export function subscriptionResource(s: StoredSubscription, options: { includeSecret?: boolean } = {}): Subscription {
  const payloadExtension: Extension[] = [{ url: PAYLOAD_CONTENT_EXTENSION, valueCode: s.content }];
  const filters = [`${TopicFilter.RECIPIENT}=${s.recipient}`, ...(s.cancelledEvents.length > 0 ? [`${TopicFilter.EVENT}=${s.cancelledEvents.join(',')}`] : [])];
  return {
    resourceType: 'Subscription',
    id: s.id,
    meta: { profile: [`${BACKPORT}/backport-subscription`] },
    ...(options.includeSecret ? { extension: [{ url: SIGNING_SECRET_EXTENSION, valueString: s.secret }] } : {}),
    status: s.status,
    ...(s.end ? { end: s.end } : {}),
    reason: s.reason || `Notifications of ${s.topic} for ${s.recipient}`,
    ...(s.lastError && s.status === SubscriptionState.ERROR ? { error: 'delivery failing: see $status' } : {}),
    criteria: topicCanonical(s.topic),
    _criteria: { extension: filters.map((f) => ({ url: FILTER_CRITERIA_EXTENSION, valueString: f })) },
    channel: {
      extension: [
        { url: TIMEOUT_EXTENSION, valueUnsignedInt: Math.round(s.timeoutMs / 1000) },
        ...(s.heartbeatSeconds !== undefined ? [{ url: HEARTBEAT_PERIOD_EXTENSION, valueUnsignedInt: s.heartbeatSeconds }] : []),
      ],
      type: s.channelType,
      endpoint: s.endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: payloadExtension },
      // Header values may be credentials for the receiver: their names only.
      ...(s.headers.length > 0 ? { header: s.headers.map((h) => `${h.split(':')[0] ?? ''}: [withheld]`) } : {}),
    },
  } as Subscription;
}

export { ChannelType };
