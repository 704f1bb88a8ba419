import type { SqlClient } from '../store/engine';

/** Dead deliveries (every attempt failed), for `carebridge notify dlq`, with no notification content. */
export interface DeadDelivery {
  readonly id: string;
  readonly subscriptionId: string;
  readonly endpoint: string;
  readonly eventNumber: string;
  readonly kind: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: string;
}

export async function listDeadDeliveries(db: SqlClient, limit = 100): Promise<DeadDelivery[]> {
  const rows = await db.query<{ id: string; subscription_id: string; endpoint: string; event_number: string; kind: string; attempts: number; last_error: string | null; created_at: Date }>(
    `SELECT d.id::text AS id, d.subscription_id, s.endpoint, d.event_number::text AS event_number, e.kind, d.attempts, d.last_error, d.created_at
       FROM notify_delivery d JOIN notify_subscription s ON s.id = d.subscription_id JOIN notify_event e ON e.outbox_id = d.outbox_id
      WHERE d.status = 'dead' ORDER BY d.id DESC LIMIT $1`,
    [limit],
  );
  return rows.rows.map((r) => ({
    id: r.id,
    subscriptionId: r.subscription_id,
    endpoint: r.endpoint,
    eventNumber: r.event_number,
    kind: r.kind,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

/**
 * Puts dead deliveries back to pending with fresh attempts; a running worker's overdue poll picks
 * them up within seconds (the same idempotency key and event number as before: receivers that
 * already had them see a repeat). Returns the ids put back.
 */
export async function redeliver(db: SqlClient, ids: readonly string[] | 'all-dead'): Promise<string[]> {
  const rows =
    ids === 'all-dead'
      ? await db.query<{ id: string }>(`UPDATE notify_delivery SET status = 'pending', attempts = 0, next_attempt_at = now() - interval '1 hour', last_error = NULL WHERE status = 'dead' RETURNING id::text AS id`)
      : await db.query<{ id: string }>(
          `UPDATE notify_delivery SET status = 'pending', attempts = 0, next_attempt_at = now() - interval '1 hour', last_error = NULL WHERE status = 'dead' AND id = ANY($1::bigint[]) RETURNING id::text AS id`,
          [ids],
        );
  return rows.rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
}
