import { measuredRole, summariseTimeliness, withLeadTimes, type DischargeNoticeRow, type TimelinessSummaryRow } from '../../mappings/notify/timeliness';
import type { SqlClient } from '../store/engine';

/**
 * The rows behind the timeliness measure: each discharge in [from, to) (the latest discharge
 * event of each encounter, unless a later A13 withdrew it), each recipient the record named for it
 * (its worklist items), and when that recipient was first told of the pending discharge and of the
 * discharge: a delivered notification on one of its subscriptions, or its worklist item acknowledged.
 */
interface Row {
  encounter_id: string;
  hospital: string;
  ward: string;
  discharged_at: Date;
  recipient: string;
  roles: string[];
  pending_told: Date | null;
  actual_told: Date | null;
}

const toldSql = (topic: string): string => `(
  SELECT min(t) FROM (
    SELECT dl.delivered_at AS t FROM notify_event pe JOIN notify_delivery dl ON dl.outbox_id = pe.outbox_id AND dl.status = 'delivered'
      JOIN notify_subscription s ON s.id = dl.subscription_id AND s.recipient = w.recipient
     WHERE pe.encounter_id = d.encounter_id AND pe.topic = '${topic}'
    UNION ALL
    SELECT wi.acknowledged_at FROM notify_event pe JOIN notify_worklist_item wi ON wi.outbox_id = pe.outbox_id AND wi.recipient = w.recipient
     WHERE pe.encounter_id = d.encounter_id AND pe.topic = '${topic}' AND wi.acknowledged_at IS NOT NULL
  ) x)`;

export async function dischargeNotices(db: SqlClient, from: Date, to: Date): Promise<DischargeNoticeRow[]> {
  const rows = await db.query<Row>(
    `WITH latest AS (
       SELECT DISTINCT ON (e.encounter_id) e.outbox_id, e.encounter_id, e.event_time, coalesce(e.hospital, e.source) AS hospital, coalesce(e.ward, 'unknown') AS ward
         FROM notify_event e WHERE e.topic = 'discharge' AND NOT e.superseded AND e.encounter_id IS NOT NULL AND e.event_time >= $1 AND e.event_time < $2
        ORDER BY e.encounter_id, e.outbox_id DESC
     ), d AS (
       SELECT l.* FROM latest l WHERE NOT EXISTS (SELECT 1 FROM notify_event c WHERE c.encounter_id = l.encounter_id AND c.cancelled = 'discharge' AND c.outbox_id > l.outbox_id)
     )
     SELECT d.encounter_id, d.hospital, d.ward, d.event_time AS discharged_at, w.recipient, w.roles, ${toldSql('pending-discharge')} AS pending_told, ${toldSql('discharge')} AS actual_told
       FROM d JOIN notify_worklist_item w ON w.outbox_id = d.outbox_id
      ORDER BY d.event_time, d.encounter_id, w.recipient`,
    [from.toISOString(), to.toISOString()],
  );
  const out: DischargeNoticeRow[] = [];
  for (const r of rows.rows) {
    const role = measuredRole(r.roles);
    if (!role) continue;
    out.push(
      withLeadTimes({
        encounterId: r.encounter_id,
        hospital: r.hospital,
        ward: r.ward,
        dischargedAt: new Date(r.discharged_at).toISOString(),
        recipient: r.recipient,
        recipientRole: role,
        ...(r.pending_told ? { pendingToldAt: new Date(r.pending_told).toISOString() } : {}),
        ...(r.actual_told ? { actualToldAt: new Date(r.actual_told).toISOString() } : {}),
      }),
    );
  }
  return out;
}

export async function timelinessSummary(db: SqlClient, from: Date, to: Date): Promise<TimelinessSummaryRow[]> {
  return summariseTimeliness(await dischargeNotices(db, from, to));
}
