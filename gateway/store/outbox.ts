import type { SqlClient } from './engine';

/** One outbox event, written in the transaction that made it happen (ARCHITECTURE.md: the outbox). */
export interface OutboxEvent {
  readonly kind: string;
  readonly patientId: string;
  /** '' when the event is not about an encounter. */
  readonly encounterId: string;
  readonly source: string;
  /** The inbox row the event came from; null for events CareBridge makes itself (the red bag's steps). */
  readonly inboxId: string | null;
  readonly eventTime: string;
  readonly payload: Record<string, unknown>;
}

/**
 * Writes an outbox event. The same inbox row applied again (a retry) writes nothing: the outbox is
 * unique on (inbox_id, kind, encounter_id). Events without an inbox row never conflict.
 */
export async function recordOutboxEvent(db: SqlClient, event: OutboxEvent): Promise<void> {
  await db.query(
    `INSERT INTO outbox (kind, patient_id, encounter_id, source, inbox_id, event_time, payload) VALUES ($1, $2, $3, $4, $5::bigint, $6::timestamptz, $7::jsonb)
     ON CONFLICT (inbox_id, kind, encounter_id) DO NOTHING`,
    [event.kind, event.patientId, event.encounterId, event.source, event.inboxId, event.eventTime, JSON.stringify(event.payload)],
  );
}
