import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { ChannelType } from '../../mappings/notify/subscription';
import { notificationBundle, notificationEmail, NotificationType, type PayloadContent, type SubscriptionState } from '../../mappings/notify/notification';
import type { Topic } from '../../mappings/notify/topics';
import { uuidV5 } from '../../mappings/ids';
import type { SqlEngine } from '../store/engine';
import type { Mailer } from './email';
import type { NotifyMetrics } from './metrics';
import { IDEMPOTENCY_HEADER, postSignedBundle } from './webhook';

/**
 * Delivering notifications, at least once. Deliveries are rows; a worker is handed delivery ids
 * (by the in-process queue or BullMQ), claims the ones that may go now, sends them, and records
 * the outcome, all in a few set-based statements per batch.
 *
 * Ordering: one notification in flight per person per subscription (a "lane"). A delivery is
 * claimed only when no earlier delivery of its lane is still pending, waiting to retry or being
 * sent, so a discharge never overtakes its admission, and a failing one holds back the later
 * ones until it is delivered or dead. When one finishes, the next of its lane is handed back.
 *
 * Failures retry with exponential backoff and full jitter up to maxAttempts; then the delivery
 * is dead (the dead-letter state) and the subscription's status is `error` until a later success.
 * A claim is a lease: a worker that dies mid-send leaves a lease that expires and is claimed again.
 * A subscription still `requested` (its handshake not yet answered, control.ts) has its deliveries
 * wait: the handshake hands its lane heads on once answered.
 */

export const DeliveryStatus = {
  PENDING: 'pending',
  SENDING: 'sending',
  RETRY: 'retry',
  DELIVERED: 'delivered',
  DEAD: 'dead',
  CANCELLED: 'cancelled',
} as const;
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 2_000, maxDelayMs: 60 * 60_000 };

/** Exponential backoff with "full jitter" between half and all of the exponential delay. */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const half = Math.floor(exponential / 2);
  return half + randomInt(0, Math.max(1, exponential - half + 1));
}

interface Claimed {
  id: string;
  subscription_id: string;
  outbox_id: string;
  event_number: string;
  attempts: number;
  lane: string;
  topic: string;
  sub_status: string;
  channel_type: string;
  endpoint: string;
  secret: string;
  content: string;
  headers: string[];
  timeout_ms: number;
  events_since_start: string;
  kind: string;
  patient_id: string | null;
  encounter_id: string | null;
  event_time: Date;
  applied_at: Date;
  expected_discharge: Date | null;
}

export interface Outcome {
  readonly id: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface BatchResult {
  /** Deliveries to hand to a worker now (the next of each finished lane). */
  readonly next: string[];
  /** Deliveries to hand back after a delay (retries). */
  readonly later: { id: string; delayMs: number }[];
  readonly delivered: number;
  readonly failed: number;
}

export interface DeliveryWorkerOptions {
  readonly engine: SqlEngine;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  /** FHIR base for references in notifications, e.g. https://carebridge.example.nhs.uk/fhir. */
  readonly fhirBase: string;
  /** Where an e-mail's link points (PUBLIC_BASE_URL). */
  readonly publicBaseUrl: string;
  readonly mailer?: Mailer;
  readonly metrics?: NotifyMetrics;
}

export const BUNDLE_NAMESPACE = Buffer.from('6f1d0c52a43b4f0a9b8e2f1c7d3e5a91', 'hex');

/** Where a worker's time went (cumulative wall time per phase, summed over concurrent batches), for benchmarks. */
export interface DeliveryTiming {
  batches: number;
  claimMs: number;
  sendMs: number;
  recordMs: number;
}

const since = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

export class DeliveryWorker {
  readonly timing: DeliveryTiming = { batches: 0, claimMs: 0, sendMs: 0, recordMs: 0 };

  constructor(private readonly options: DeliveryWorkerOptions) {}

  /** Claims what may go now among these ids (head of its lane, due, subscription live). */
  private async claim(ids: readonly string[]): Promise<Claimed[]> {
    const rows = await this.options.engine.query<Claimed>(
      `UPDATE notify_delivery d SET status = 'sending', attempts = d.attempts + 1, leased_until = now() + make_interval(secs => (s.timeout_ms + 30000) / 1000.0)
         FROM notify_subscription s, notify_event ev
        WHERE d.id = ANY($1::bigint[]) AND s.id = d.subscription_id AND ev.outbox_id = d.outbox_id AND s.deleted_at IS NULL AND s.status <> 'requested'
          AND ((d.status IN ('pending', 'retry') AND d.next_attempt_at <= now()) OR (d.status = 'sending' AND d.leased_until < now()))
          AND NOT EXISTS (SELECT 1 FROM notify_delivery e WHERE e.lane = d.lane AND e.outbox_id < d.outbox_id AND e.status IN ('pending', 'retry', 'sending'))
        RETURNING d.id::text AS id, d.subscription_id, d.outbox_id::text AS outbox_id, d.event_number::text AS event_number, d.attempts, d.lane,
          s.topic, s.status AS sub_status, s.channel_type, s.endpoint, s.secret, s.content, s.headers, s.timeout_ms, s.events_since_start::text AS events_since_start,
          ev.kind, ev.patient_id, ev.encounter_id, ev.event_time, ev.applied_at, ev.expected_discharge`,
      [ids],
    );
    return rows.rows;
  }

  private async send(d: Claimed): Promise<void> {
    const focus = d.encounter_id ? `Encounter/${d.encounter_id}` : `Patient/${d.patient_id ?? ''}`;
    const additionalContext = d.encounter_id && d.patient_id ? [`Patient/${d.patient_id}`] : [];
    const eventNumber = Number(d.event_number);
    const idempotencyKey = `${d.subscription_id}-${d.event_number}`;
    if (d.channel_type === ChannelType.EMAIL) {
      const mailer = this.options.mailer;
      if (!mailer) throw new Error('no SMTP relay configured (NOTIFY_SMTP_URL)');
      const link = `${this.options.publicBaseUrl}/fhir/${d.patient_id ? `Patient/${d.patient_id}` : focus}`;
      const mail = notificationEmail({ topic: d.topic as Topic, eventNumber, link, subscriptionId: d.subscription_id });
      await mailer.send(d.endpoint.replace(/^mailto:/i, ''), mail.subject, mail.text, { [IDEMPOTENCY_HEADER]: idempotencyKey });
      return;
    }
    const bundle = notificationBundle({
      bundleId: uuidV5(idempotencyKey, BUNDLE_NAMESPACE),
      timestamp: new Date().toISOString(),
      fhirBase: this.options.fhirBase,
      subscriptionId: d.subscription_id,
      topic: d.topic as Topic,
      status: d.sub_status as SubscriptionState,
      type: NotificationType.EVENT_NOTIFICATION,
      eventsSinceSubscriptionStart: Math.max(eventNumber, Number(d.events_since_start)),
      content: d.content as PayloadContent,
      events: [
        {
          eventNumber,
          timestamp: new Date(d.event_time).toISOString(),
          kind: d.kind,
          focus,
          additionalContext,
          ...(d.expected_discharge ? { expectedDischarge: new Date(d.expected_discharge).toISOString() } : {}),
        },
      ],
    });
    await postSignedBundle({ endpoint: d.endpoint, secret: d.secret, headers: d.headers, subscriptionId: d.subscription_id, idempotencyKey, eventNumber: d.event_number, timeoutMs: d.timeout_ms }, bundle);
  }

  /** Claims, sends and records a batch; returns what to hand on. */
  async processBatch(ids: readonly string[]): Promise<BatchResult> {
    if (ids.length === 0) return { next: [], later: [], delivered: 0, failed: 0 };
    const t0 = process.hrtime.bigint();
    const claimed = await this.claim(ids);
    this.timing.batches++;
    this.timing.claimMs += since(t0);
    if (claimed.length === 0) return { next: [], later: [], delivered: 0, failed: 0 };
    const t1 = process.hrtime.bigint();
    const outcomes = await Promise.all(
      claimed.map(async (d): Promise<Outcome> => {
        try {
          await this.send(d);
          this.options.metrics?.observeDelivered(d.channel_type, (Date.now() - new Date(d.applied_at).getTime()) / 1000);
          return { id: d.id, ok: true };
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          this.options.metrics?.observeFailed(d.channel_type);
          this.options.logger.warn({ deliveryId: d.id, subscriptionId: d.subscription_id, attempt: d.attempts, error }, 'notification delivery failed');
          return { id: d.id, ok: false, error: error.slice(0, 500) };
        }
      }),
    );
    this.timing.sendMs += since(t1);
    const t2 = process.hrtime.bigint();
    const result = await this.record(claimed, outcomes);
    this.timing.recordMs += since(t2);
    return result;
  }

  private async record(claimed: readonly Claimed[], outcomes: readonly Outcome[]): Promise<BatchResult> {
    const byId = new Map(claimed.map((d) => [d.id, d]));
    const okIds = outcomes.filter((o) => o.ok).map((o) => o.id);
    const failures = outcomes
      .filter((o) => !o.ok)
      .map((o) => {
        const d = byId.get(o.id) as Claimed;
        const dead = d.attempts >= this.options.retry.maxAttempts;
        return { id: o.id, subscriptionId: d.subscription_id, dead, delayMs: dead ? 0 : retryDelayMs(this.options.retry, d.attempts), error: o.error ?? 'failed' };
      });
    // One statement: outcomes, the subscriptions' bookkeeping, and the next delivery of each lane
    // that moved on (the snapshot still shows the finished rows as 'sending', so they are not picked).
    // last_success_at is refreshed at most once a second and never waits for a row another batch
    // holds (SKIP LOCKED): at thousands of deliveries a second, batches share subscriptions.
    const finishedLanes = [...new Set([...okIds, ...failures.filter((f) => f.dead).map((f) => f.id)].map((id) => byId.get(id)?.lane as string))];
    const okSubs = [...new Set(okIds.map((id) => byId.get(id)?.subscription_id as string))];
    const deadSubs = new Set(failures.filter((f) => f.dead).map((f) => f.subscriptionId));
    const lastError = new Map(failures.map((f) => [f.subscriptionId, f.error]));
    const rows = await this.options.engine.query<{ id: string }>(
      `WITH delivered AS (
         UPDATE notify_delivery SET status = 'delivered', delivered_at = now(), leased_until = NULL, last_error = NULL WHERE id = ANY($1::bigint[]) AND status = 'sending' RETURNING id
       ), failed AS (
         UPDATE notify_delivery d SET status = CASE WHEN x.dead THEN 'dead' ELSE 'retry' END, next_attempt_at = now() + make_interval(secs => x.delay / 1000.0), leased_until = NULL, last_error = x.error
           FROM unnest($2::bigint[], $3::boolean[], $4::int[], $5::text[]) AS x(id, dead, delay, error) WHERE d.id = x.id AND d.status = 'sending' RETURNING d.id
       ), succeeded AS (
         UPDATE notify_subscription SET last_success_at = now(), status = CASE WHEN status = 'error' THEN 'active' ELSE status END
          WHERE id IN (SELECT id FROM notify_subscription WHERE id = ANY($6::text[]) AND (status = 'error' OR last_success_at IS NULL OR last_success_at < now() - interval '1 second') FOR UPDATE SKIP LOCKED)
          RETURNING id
       ), erred AS (
         UPDATE notify_subscription s SET last_error_at = now(), last_error = x.error, status = CASE WHEN x.dead AND s.status = 'active' THEN 'error' ELSE s.status END
           FROM unnest($7::text[], $8::text[], $9::boolean[]) AS x(id, error, dead) WHERE s.id = x.id RETURNING s.id
       )
       SELECT DISTINCT ON (lane) id::text AS id FROM notify_delivery WHERE lane = ANY($10::text[]) AND status IN ('pending', 'retry') ORDER BY lane, outbox_id`,
      [
        okIds,
        failures.map((f) => f.id),
        failures.map((f) => f.dead),
        failures.map((f) => f.delayMs),
        failures.map((f) => f.error),
        okSubs,
        [...lastError.keys()],
        [...lastError.values()],
        [...lastError.keys()].map((k) => deadSubs.has(k)),
        finishedLanes,
      ],
    );
    const next = rows.rows.map((r) => r.id);
    return { next, later: failures.filter((f) => !f.dead).map((f) => ({ id: f.id, delayMs: f.delayMs })), delivered: okIds.length, failed: failures.length };
  }
}

/**
 * Lane heads that should be moving but may be in no queue (a crash, Redis emptied, a retry timer
 * lost with its process, a redelivery by command): due for longer than graceMs, or leased and expired.
 */
export async function overdueDeliveries(engine: SqlEngine, graceMs: number, limit: number): Promise<string[]> {
  const rows = await engine.query<{ id: string }>(
    `SELECT id::text AS id FROM (
       SELECT DISTINCT ON (lane) id, subscription_id, status, next_attempt_at, leased_until FROM notify_delivery WHERE status IN ('pending', 'retry', 'sending') ORDER BY lane, outbox_id
     ) h
     WHERE ((status IN ('pending', 'retry') AND next_attempt_at <= now() - make_interval(secs => $1 / 1000.0)) OR (status = 'sending' AND leased_until < now()))
       -- Waiting for its subscription's handshake: handed on when that is answered (control.ts).
       AND NOT EXISTS (SELECT 1 FROM notify_subscription s WHERE s.id = h.subscription_id AND s.status = 'requested')
     ORDER BY h.id LIMIT $2`,
    [graceMs, limit],
  );
  return rows.rows.map((r) => r.id);
}
