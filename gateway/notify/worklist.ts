import type { SqlClient } from '../store/engine';

/**
 * The worklist, for the many GP practices, teams and care homes that run no webhook receiver:
 * built from the dispatched events and the record (the Encounter's current status), one item per
 * event and recipient, each acknowledged by a person. Items carry references, never names or
 * clinical detail: the viewer reads those through the normal, audited API.
 */

export const WorklistView = {
  ADMITTED_TODAY: 'admitted-today',
  DISCHARGES_EXPECTED: 'discharges-expected',
  DISCHARGED_NOT_FOLLOWED_UP: 'discharged-not-followed-up',
} as const;
export type WorklistView = (typeof WorklistView)[keyof typeof WorklistView];

export interface WorklistItem {
  readonly id: string;
  readonly kind: string;
  readonly topic: string;
  readonly eventTime: string;
  readonly patient: { reference: string } | null;
  readonly encounter: { reference: string } | null;
  readonly encounterStatus: string | null;
  readonly hospital: string | null;
  readonly ward: string | null;
  readonly expectedDischarge: string | null;
  readonly recipient: string;
  readonly roles: readonly string[];
  /** `by` is the user id; `name` the display name they signed in with, when known. */
  readonly acknowledged: { at: string; by: string; name?: string } | null;
}

interface Row {
  id: string;
  kind: string;
  topic: string;
  event_time: Date;
  patient_id: string | null;
  encounter_id: string | null;
  encounter_status: string | null;
  hospital: string | null;
  ward: string | null;
  expected_discharge: Date | null;
  recipient: string;
  roles: string[];
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  acknowledged_by_name: string | null;
}

const COLUMNS = `w.id::text AS id, e.kind, e.topic, e.event_time, e.patient_id, e.encounter_id, r.content->>'status' AS encounter_status, e.hospital, e.ward, e.expected_discharge,
  w.recipient, w.roles, w.acknowledged_at, w.acknowledged_by, w.acknowledged_by_name`;
const FROM = `notify_worklist_item w JOIN notify_event e ON e.outbox_id = w.outbox_id LEFT JOIN resource r ON r.resource_type = 'Encounter' AND r.id = e.encounter_id`;

/** One item per encounter: its latest event of the view's topics for this recipient. */
const SQL: Record<WorklistView, string> = {
  // Admitted or attended since midnight UK time and still there.
  'admitted-today': `SELECT * FROM (SELECT DISTINCT ON (e.encounter_id) ${COLUMNS} FROM ${FROM}
      WHERE w.recipient = $1 AND e.topic IN ('admission', 'ed-attendance')
        AND e.event_time >= (date_trunc('day', $2::timestamptz AT TIME ZONE 'Europe/London') AT TIME ZONE 'Europe/London')
        AND coalesce(r.content->>'status', 'in-progress') = 'in-progress'
      ORDER BY e.encounter_id, e.outbox_id DESC) x ORDER BY event_time, id LIMIT $3`,
  // A pending discharge whose expected date falls before seven days from now (overdue ones included), the person still in hospital.
  'discharges-expected': `SELECT * FROM (SELECT DISTINCT ON (e.encounter_id) ${COLUMNS} FROM ${FROM}
      WHERE w.recipient = $1 AND e.topic = 'pending-discharge' AND coalesce(r.content->>'status', 'in-progress') = 'in-progress'
        AND (e.expected_discharge IS NULL OR e.expected_discharge < $2::timestamptz + interval '7 days')
        AND NOT EXISTS (SELECT 1 FROM notify_event c WHERE c.encounter_id = e.encounter_id AND c.cancelled = 'pending-discharge' AND c.outbox_id > e.outbox_id)
      ORDER BY e.encounter_id, e.outbox_id DESC) x ORDER BY expected_discharge NULLS LAST, id LIMIT $3`,
  // Discharged (or died) in the last 30 days and nobody in the recipient has acknowledged it yet.
  'discharged-not-followed-up': `SELECT * FROM (SELECT DISTINCT ON (e.encounter_id) ${COLUMNS} FROM ${FROM}
      WHERE w.recipient = $1 AND e.topic IN ('discharge', 'death') AND w.acknowledged_at IS NULL
        AND e.event_time >= $2::timestamptz - interval '30 days' AND coalesce(r.content->>'status', 'finished') = 'finished'
      ORDER BY e.encounter_id, e.outbox_id DESC) x ORDER BY event_time, id LIMIT $3`,
};

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

function toItem(r: Row): WorklistItem {
  return {
    id: r.id,
    kind: r.kind,
    topic: r.topic,
    eventTime: new Date(r.event_time).toISOString(),
    patient: r.patient_id ? { reference: `Patient/${r.patient_id}` } : null,
    encounter: r.encounter_id ? { reference: `Encounter/${r.encounter_id}` } : null,
    encounterStatus: r.encounter_status,
    hospital: r.hospital,
    ward: r.ward,
    expectedDischarge: iso(r.expected_discharge),
    recipient: r.recipient,
    roles: r.roles,
    acknowledged: r.acknowledged_at ? { at: new Date(r.acknowledged_at).toISOString(), by: r.acknowledged_by ?? '', ...(r.acknowledged_by_name ? { name: r.acknowledged_by_name } : {}) } : null,
  };
}

export async function worklist(db: SqlClient, view: WorklistView, recipient: string, now: Date, limit = 500): Promise<WorklistItem[]> {
  const rows = await db.query<Row>(SQL[view], [recipient, now.toISOString(), limit]);
  return rows.rows.map(toItem);
}

export async function worklistItem(db: SqlClient, id: string): Promise<WorklistItem | undefined> {
  const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM ${FROM} WHERE w.id = $1::bigint`, [id]);
  const row = rows.rows[0];
  return row ? toItem(row) : undefined;
}

/** Acknowledges an item once; acknowledging again keeps the first acknowledgement. */
export async function acknowledgeItem(db: SqlClient, id: string, by: string, now: Date, name?: string): Promise<WorklistItem | undefined> {
  await db.query(`UPDATE notify_worklist_item SET acknowledged_at = $2::timestamptz, acknowledged_by = $3, acknowledged_by_name = $4 WHERE id = $1::bigint AND acknowledged_at IS NULL`, [id, now.toISOString(), by, name ?? null]);
  return worklistItem(db, id);
}

/**
 * Discharges (and deaths) of the last 30 days whose item was acknowledged since midnight UK time:
 * they have left "discharged, not followed up", and the viewer shows them below it with who
 * acknowledged them and when.
 */
export async function recentlyFollowedUp(db: SqlClient, recipient: string, now: Date, limit = 100): Promise<WorklistItem[]> {
  const rows = await db.query<Row>(
    `SELECT * FROM (SELECT DISTINCT ON (e.encounter_id) ${COLUMNS} FROM ${FROM}
      WHERE w.recipient = $1 AND e.topic IN ('discharge', 'death') AND w.acknowledged_at IS NOT NULL
        AND w.acknowledged_at >= (date_trunc('day', $2::timestamptz AT TIME ZONE 'Europe/London') AT TIME ZONE 'Europe/London')
        AND e.event_time >= $2::timestamptz - interval '30 days'
      ORDER BY e.encounter_id, e.outbox_id DESC) x ORDER BY acknowledged_at, id LIMIT $3`,
    [recipient, now.toISOString(), limit],
  );
  return rows.rows.map(toItem);
}
