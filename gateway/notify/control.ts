import type { Logger } from 'pino';
import { notificationBundle, NotificationType, type PayloadContent, SubscriptionState } from '../../mappings/notify/notification';
import type { Topic } from '../../mappings/notify/topics';
import { uuidV5 } from '../../mappings/ids';
import type { SqlEngine } from '../store/engine';
import { BUNDLE_NAMESPACE, retryDelayMs, type RetryPolicy } from './delivery';
import { postSignedBundle } from './webhook';

/**
 * The notifications that are about the subscription rather than an event (Subscriptions Backport
 * IG): a **handshake** to a rest-hook subscription made through the API, before any event goes to
 * it, which proves the endpoint is there and takes our signature; and a **heartbeat** to one that
 * asked for one (`backport-heartbeat-period`) after that many seconds without a notification, so
 * a receiver can tell a quiet ward from a broken link.
 *
 * A handshake answered with a 2xx makes the subscription `active` and hands on the deliveries that
 * waited for it. One that is not is tried again with the delivery retry policy's backoff; after
 * HANDSHAKE_ATTEMPTS the subscription is `error` (its events are then tried as usual, and the first
 * one delivered makes it `active`). A heartbeat that fails is logged on the subscription's last error
 * and not retried: the next one is due a period later. Both are claimed with a lease, so two
 * processes never send the same one at once; like events, they are at least once.
 */

/**
 * Handshakes tried before the subscription is `error` and its events go anyway: a receiver that
 * does not understand handshakes must not hold back admissions for the delivery policy's whole
 * backoff (ten attempts are about a quarter of an hour), only for a few seconds.
 */
export const HANDSHAKE_ATTEMPTS = 3;

interface Due {
  id: string;
  status: string;
  topic: string;
  endpoint: string;
  secret: string;
  headers: string[];
  content: string;
  timeout_ms: number;
  events_since_start: string;
  handshake_attempts: number;
  handshake: boolean;
}

export interface ControlOptions {
  readonly engine: SqlEngine;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  /** FHIR base for the subscription reference, e.g. https://carebridge.example.nhs.uk/fhir. */
  readonly fhirBase: string;
  readonly now?: () => Date;
  /** Most sent in one call. */
  readonly limit?: number;
}

export interface ControlResult {
  /** Answered with a 2xx. */
  readonly handshakes: number;
  readonly heartbeats: number;
  readonly failedHandshakes: number;
  readonly failedHeartbeats: number;
  /** Deliveries that waited for a handshake now answered: the caller hands them to a worker. */
  readonly released: string[];
}

/** Sends every handshake and heartbeat that is due now. */
export async function sendDueControls(options: ControlOptions): Promise<ControlResult> {
  const { engine } = options;
  const now = (options.now ?? ((): Date => new Date()))().toISOString();
  const due = await engine.query<Due>(
    `UPDATE notify_subscription s SET control_leased_until = $1::timestamptz + make_interval(secs => (s.timeout_ms + 30000) / 1000.0),
            handshake_attempts = s.handshake_attempts + CASE WHEN s.status = 'requested' THEN 1 ELSE 0 END
      WHERE s.id IN (
        SELECT id FROM notify_subscription
         WHERE deleted_at IS NULL AND channel_type = 'rest-hook' AND (handshake_next_at IS NOT NULL OR heartbeat_seconds IS NOT NULL)
           AND (control_leased_until IS NULL OR control_leased_until < $1::timestamptz) AND (end_at IS NULL OR end_at > $1::timestamptz)
           AND ((status = 'requested' AND handshake_next_at <= $1::timestamptz)
             OR (status IN ('active', 'error') AND heartbeat_seconds IS NOT NULL
                 AND greatest(created_at, last_success_at, last_heartbeat_at) + make_interval(secs => heartbeat_seconds) <= $1::timestamptz))
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING s.id, s.status, s.topic, s.endpoint, s.secret, s.headers, s.content, s.timeout_ms, s.events_since_start::text AS events_since_start, s.handshake_attempts, s.status = 'requested' AS handshake`,
    [now, options.limit ?? 200],
  );
  if (due.rows.length === 0) return { handshakes: 0, heartbeats: 0, failedHandshakes: 0, failedHeartbeats: 0, released: [] };

  const outcomes = await Promise.all(
    due.rows.map(async (s): Promise<{ s: Due; error?: string }> => {
      const type = s.handshake ? NotificationType.HANDSHAKE : NotificationType.HEARTBEAT;
      // A handshake's key is the same on every attempt (it is one notification); each heartbeat is a new one.
      const idempotencyKey = s.handshake ? `${s.id}-handshake` : `${s.id}-heartbeat-${now}`;
      const bundle = notificationBundle({
        bundleId: uuidV5(idempotencyKey, BUNDLE_NAMESPACE),
        timestamp: now,
        fhirBase: options.fhirBase,
        subscriptionId: s.id,
        topic: s.topic as Topic,
        status: s.status as SubscriptionState,
        type,
        eventsSinceSubscriptionStart: Number(s.events_since_start),
        content: s.content as PayloadContent,
        events: [],
      });
      try {
        await postSignedBundle({ endpoint: s.endpoint, secret: s.secret, headers: s.headers, subscriptionId: s.id, idempotencyKey, timeoutMs: s.timeout_ms }, bundle);
        return { s };
      } catch (err) {
        const error = (err instanceof Error ? err.message : String(err)).slice(0, 500);
        options.logger.warn({ subscriptionId: s.id, type, attempt: s.handshake ? s.handshake_attempts : undefined, error }, `subscription ${type} failed`);
        return { s, error };
      }
    }),
  );

  const rows = outcomes.map(({ s, error }) => {
    const failedHandshake = s.handshake && error !== undefined;
    const dead = failedHandshake && s.handshake_attempts >= Math.min(HANDSHAKE_ATTEMPTS, options.retry.maxAttempts);
    return { id: s.id, handshake: s.handshake, ok: error === undefined, error: error === undefined ? null : `${s.handshake ? 'handshake' : 'heartbeat'}: ${error}`, dead, delayMs: failedHandshake && !dead ? retryDelayMs(options.retry, s.handshake_attempts) : 0 };
  });
  // One statement: each outcome, and the deliveries that waited for a handshake now answered (the lane heads).
  const released = await engine.query<{ id: string }>(
    `WITH x AS (SELECT * FROM unnest($1::text[], $2::boolean[], $3::boolean[], $4::text[], $5::boolean[], $6::int[]) AS x(id, handshake, ok, error, dead, delay)),
     done AS (
       UPDATE notify_subscription s SET
              control_leased_until = NULL,
              status = CASE WHEN x.handshake AND x.ok THEN '${SubscriptionState.ACTIVE}' WHEN x.handshake AND x.dead THEN '${SubscriptionState.ERROR}' ELSE s.status END,
              handshake_next_at = CASE WHEN x.handshake AND NOT x.ok AND NOT x.dead THEN $7::timestamptz + make_interval(secs => x.delay / 1000.0) WHEN x.handshake THEN NULL ELSE s.handshake_next_at END,
              last_heartbeat_at = CASE WHEN x.handshake THEN s.last_heartbeat_at ELSE $7::timestamptz END,
              -- When the answer came (the round's clock, $7, is when it began).
              last_success_at = CASE WHEN x.ok THEN greatest(now(), $7::timestamptz) ELSE s.last_success_at END,
              last_error_at = CASE WHEN x.ok THEN s.last_error_at ELSE greatest(now(), $7::timestamptz) END,
              last_error = CASE WHEN x.ok THEN s.last_error ELSE x.error END
         FROM x WHERE s.id = x.id AND s.deleted_at IS NULL
       RETURNING s.id, x.handshake AND x.ok AS answered
     )
     SELECT DISTINCT ON (d.lane) d.id::text AS id FROM notify_delivery d JOIN done ON done.id = d.subscription_id AND done.answered
      WHERE d.status IN ('pending', 'retry') ORDER BY d.lane, d.outbox_id`,
    [rows.map((r) => r.id), rows.map((r) => r.handshake), rows.map((r) => r.ok), rows.map((r) => r.error), rows.map((r) => r.dead), rows.map((r) => r.delayMs), now],
  );
  return {
    handshakes: rows.filter((r) => r.handshake && r.ok).length,
    heartbeats: rows.filter((r) => !r.handshake && r.ok).length,
    failedHandshakes: rows.filter((r) => r.handshake && !r.ok).length,
    failedHeartbeats: rows.filter((r) => !r.handshake && !r.ok).length,
    released: released.rows.map((r) => r.id),
  };
}
