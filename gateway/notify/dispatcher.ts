import type { Patient, Resource } from '@medplum/fhirtypes';
import { eventFacts } from '../../mappings/notify/event-facts';
import { resolveRecipients } from '../../mappings/notify/recipients';
import { isOutboxEventKind, topicOfEvent, type TopicOfEvent } from '../../mappings/notify/topics';
import { sourceOrganisations } from '../access/source-systems';
import type { SqlClient, SqlEngine } from '../store/engine';
import { pgArrayLiteral } from '../store/resource-writer';
import type { NotificationAccessCheck, NotifyEventView, WithheldBy } from './access';
import { loadBatchRecords } from './records';

/**
 * Turns the outbox of applied events into notifications: for each new outbox row, the recipients
 * from the record, one `notify_event` row (which also marks the row as dispatched), a worklist
 * item per recipient allowed to know, and a delivery per matching subscription, with the
 * subscription's next event number; for a recipient the access check withholds the event from, a
 * `notify_withheld` row (the reason, no content) and one more on the `withheld_events` count of
 * each subscription that would have been told; all in one transaction. One dispatcher at a time across
 * processes (the cursor row is locked, SKIP LOCKED: another process simply waits its turn).
 *
 * The cursor only moves past rows older than CURSOR_SETTLE: outbox ids are taken before commit,
 * so a row with a lower id can appear after a higher one; rows above the cursor are found by
 * "not yet dispatched", never skipped.
 *
 * Finding them means passing over every row already dispatched above the cursor, up to a
 * minute's worth (60,000 rows at 1,000 events a second), on every pass. So a dispatcher that is
 * given a DispatchScan remembers the highest id it has dispatched and looks only above it, and
 * does the full pass from the cursor (which also moves the cursor) once every FULL_SCAN_MS: a
 * row that commits after a higher one was dispatched waits at most that long, nothing is missed.
 */

const CURSOR_SETTLE = '1 minute';

/** How often a remembering dispatcher looks again from the cursor for rows that committed late. */
export const FULL_SCAN_MS = 1_000;

/** What one dispatcher loop remembers between passes (per process; the database stays the truth). */
export interface DispatchScan {
  /** The highest outbox id this dispatcher has dispatched (0 before its first). */
  highWater: bigint;
  /** When it last looked from the cursor (ms since the epoch). */
  fullScanAt: number;
}

interface OutboxRow {
  id: string;
  kind: string;
  patient_id: string | null;
  encounter_id: string | null;
  source: string;
  event_time: Date;
  created_at: Date;
  payload: { changedState?: boolean } | null;
}

interface SubscriptionMatch {
  id: string;
  topic: string;
  recipient: string;
  cancelled_events: string[];
}

export interface DispatchResult {
  readonly events: number;
  readonly deliveryIds: string[];
  /** Recipients not told, by reason (one per event and recipient). */
  readonly withheld: Partial<Record<WithheldBy, number>>;
}

export interface DispatcherOptions {
  readonly access: NotificationAccessCheck;
  readonly batchSize?: number;
  /** This dispatcher's memory between passes; without it every pass looks from the cursor. */
  readonly scan?: DispatchScan;
  readonly now?: () => number;
}

export async function dispatchOutbox(engine: SqlEngine, options: DispatcherOptions): Promise<DispatchResult> {
  const { scan } = options;
  const now = (options.now ?? Date.now)();
  const result = await engine.transaction(async (tx) => {
    const cursor = await tx.query<{ outbox_id: string }>(`SELECT outbox_id::text AS outbox_id FROM notify_cursor WHERE name = 'dispatch' FOR UPDATE SKIP LOCKED`);
    const from = cursor.rows[0]?.outbox_id;
    if (from === undefined) return { events: 0, deliveryIds: [], withheld: {}, full: false, last: undefined };
    const full = scan === undefined || now - scan.fullScanAt >= FULL_SCAN_MS;
    const start = full || scan.highWater < BigInt(from) ? from : scan.highWater.toString();
    const rows = await tx.query<OutboxRow>(
      `SELECT o.id::text AS id, o.kind, o.patient_id, NULLIF(o.encounter_id, '') AS encounter_id, o.source, o.event_time, o.created_at, o.payload FROM outbox o
        WHERE o.id > $1::bigint AND NOT EXISTS (SELECT 1 FROM notify_event e WHERE e.outbox_id = o.id) ORDER BY o.id LIMIT $2`,
      [start, options.batchSize ?? 500],
    );
    const last = rows.rows.length > 0 ? BigInt((rows.rows[rows.rows.length - 1] as OutboxRow).id) : undefined;
    const dispatched = rows.rows.length === 0 ? { events: 0, deliveryIds: [], withheld: {} } : await dispatchRows(tx, rows.rows, options.access);
    if (full) await advanceCursor(tx);
    return { ...dispatched, full, last };
  });
  // Remembered only once committed: a pass that rolled back dispatched nothing.
  if (scan) {
    if (result.full) scan.fullScanAt = now;
    if (result.last !== undefined && result.last > scan.highWater) scan.highWater = result.last;
  }
  return { events: result.events, deliveryIds: result.deliveryIds, withheld: result.withheld };
}

async function advanceCursor(tx: SqlClient): Promise<void> {
  await tx.query(
    `UPDATE notify_cursor c SET outbox_id = greatest(c.outbox_id, coalesce((
       SELECT max(o.id) FROM outbox o WHERE o.id > c.outbox_id AND o.created_at < now() - interval '${CURSOR_SETTLE}'
         AND o.id < coalesce((SELECT min(u.id) FROM outbox u WHERE u.id > c.outbox_id AND NOT EXISTS (SELECT 1 FROM notify_event e WHERE e.outbox_id = u.id)), 9223372036854775807)
     ), c.outbox_id)) WHERE c.name = 'dispatch'`,
  );
}

interface Planned {
  row: OutboxRow;
  topic: TopicOfEvent | undefined;
  personKey: string;
  view: NotifyEventView;
  facts: ReturnType<typeof eventFacts>;
  superseded: boolean;
  allowed: string[];
  withheld: { recipient: string; reason: WithheldBy; detail: string | null }[];
}

async function dispatchRows(tx: SqlClient, rows: readonly OutboxRow[], access: NotificationAccessCheck): Promise<DispatchResult> {
  const records = await loadBatchRecords(tx, rows.map((r) => ({ patientId: r.patient_id, encounterId: r.encounter_id })));
  const sources = await sourceOrganisations(tx);
  const planned: Planned[] = rows.map((row) => {
    const topic = isOutboxEventKind(row.kind) ? topicOfEvent(row.kind) : undefined;
    const person = row.patient_id ? records.person(row.patient_id) : undefined;
    const eventTime = new Date(row.event_time).toISOString();
    const recipients = person ? resolveRecipients({ patients: person.patients, careTeams: person.careTeams, episodesOfCare: person.episodesOfCare, lookup: records.lookup, at: eventTime }) : [];
    const encounter = records.encounter(row.encounter_id);
    const subject = row.patient_id ? (records.lookup(`Patient/${row.patient_id}`) as Patient | undefined) : undefined;
    const facts = eventFacts(encounter, [subject], records.lookup, row.source);
    const resources = [encounter, subject].filter((r): r is NonNullable<typeof r> => r !== undefined) as Resource[];
    const view: NotifyEventView = {
      outboxId: row.id,
      kind: row.kind,
      topic: topic?.topic,
      patientId: row.patient_id ?? undefined,
      encounterId: row.encounter_id ?? undefined,
      recipients,
      resources,
      restricted: facts.restricted,
      record: person ? [...person.patients, ...person.careTeams, ...person.episodesOfCare, ...(encounter ? [encounter] : []), ...person.consents] : [],
      sourceOrganisations: sources,
    };
    // An event that did not change where the visit stands now (an admission arriving after its
    // discharge) is recorded but told to nobody: the later event already said where things are.
    const superseded = row.payload?.changedState === false;
    const allowed: string[] = [];
    const withheld: Planned['withheld'] = [];
    if (topic && !superseded) {
      for (const r of recipients) {
        const verdict = access(view, r.id);
        if (verdict.told) allowed.push(r.id);
        else withheld.push({ recipient: r.id, reason: verdict.reason, detail: verdict.detail ?? null });
      }
    }
    return { row, topic, personKey: person?.personKey ?? row.patient_id ?? `outbox-${row.id}`, view, facts, superseded, allowed, withheld };
  });

  await tx.query(
    `INSERT INTO notify_event (outbox_id, kind, topic, cancelled, patient_id, person_key, encounter_id, source, event_time, applied_at, expected_discharge, hospital, ward, recipients, restricted, superseded)
     SELECT outbox_id, kind, topic, cancelled, patient_id, person_key, encounter_id, source, event_time, applied_at, expected_discharge, hospital, ward, recipients::text[], restricted, superseded
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[], $14::text[], $15::boolean[], $16::boolean[])
       AS x(outbox_id, kind, topic, cancelled, patient_id, person_key, encounter_id, source, event_time, applied_at, expected_discharge, hospital, ward, recipients, restricted, superseded)
     ON CONFLICT (outbox_id) DO NOTHING`,
    [
      planned.map((p) => p.row.id),
      planned.map((p) => p.row.kind),
      planned.map((p) => p.topic?.topic ?? null),
      planned.map((p) => p.topic?.cancelled ?? null),
      planned.map((p) => p.row.patient_id),
      planned.map((p) => p.personKey),
      planned.map((p) => p.row.encounter_id),
      planned.map((p) => p.row.source),
      planned.map((p) => new Date(p.row.event_time).toISOString()),
      planned.map((p) => new Date(p.row.created_at).toISOString()),
      planned.map((p) => (p.facts.expectedDischarge && !Number.isNaN(Date.parse(p.facts.expectedDischarge)) ? p.facts.expectedDischarge : null)),
      planned.map((p) => p.facts.hospital ?? null),
      planned.map((p) => p.facts.ward ?? null),
      // A text[] column of arrays: each event's recipients as one Postgres array literal.
      planned.map((p) => pgArrayLiteral(p.view.recipients.map((r) => r.id))),
      planned.map((p) => p.facts.restricted),
      planned.map((p) => p.superseded),
    ],
  );

  const items = planned.flatMap((p) => p.allowed.map((recipient) => ({ outboxId: p.row.id, recipient, roles: p.view.recipients.find((r) => r.id === recipient)?.roles ?? [] })));
  if (items.length > 0) {
    await tx.query(
      `INSERT INTO notify_worklist_item (outbox_id, recipient, roles) SELECT o, r, g::text[] FROM unnest($1::bigint[], $2::text[], $3::text[]) AS x(o, r, g) ON CONFLICT (outbox_id, recipient) DO NOTHING`,
      [items.map((i) => i.outboxId), items.map((i) => i.recipient), items.map((i) => pgArrayLiteral(i.roles))],
    );
  }

  const withheldRows = planned.flatMap((p) => p.withheld.map((w) => ({ outboxId: p.row.id, ...w })));
  const withheldCounts: Partial<Record<WithheldBy, number>> = {};
  for (const w of withheldRows) withheldCounts[w.reason] = (withheldCounts[w.reason] ?? 0) + 1;
  if (withheldRows.length > 0) {
    await tx.query(
      `INSERT INTO notify_withheld (outbox_id, recipient, reason, detail) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) ON CONFLICT (outbox_id, recipient) DO NOTHING`,
      [withheldRows.map((w) => w.outboxId), withheldRows.map((w) => w.recipient), withheldRows.map((w) => w.reason), withheldRows.map((w) => w.detail)],
    );
  }

  const recipients = [...new Set(planned.flatMap((p) => [...p.allowed, ...p.withheld.map((w) => w.recipient)]))];
  const topics = [...new Set(planned.map((p) => p.topic?.topic).filter((t): t is NonNullable<typeof t> => t !== undefined))];
  const done = (deliveryIds: string[]): DispatchResult => ({ events: planned.length, deliveryIds, withheld: withheldCounts });
  if (recipients.length === 0 || topics.length === 0) return done([]);
  const subs = await tx.query<SubscriptionMatch>(
    `SELECT id, topic, recipient, cancelled_events FROM notify_subscription
      WHERE deleted_at IS NULL AND status <> 'off' AND (end_at IS NULL OR end_at > now()) AND recipient = ANY($1::text[]) AND topic = ANY($2::text[])`,
    [recipients, topics],
  );
  const byKey = new Map<string, SubscriptionMatch[]>();
  for (const s of subs.rows) {
    const k = `${s.recipient} ${s.topic}`;
    byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  const matching = (topic: TopicOfEvent, recipient: string): SubscriptionMatch[] =>
    (byKey.get(`${recipient} ${topic.topic}`) ?? []).filter((s) => s.cancelled_events.length === 0 || (topic.cancelled !== undefined && s.cancelled_events.includes(topic.cancelled)));
  const deliveries: { subscriptionId: string; outboxId: string; lane: string }[] = [];
  const withheldBySubscription = new Map<string, number>();
  for (const p of planned) {
    if (!p.topic) continue;
    for (const recipient of p.allowed) {
      for (const s of matching(p.topic, recipient)) deliveries.push({ subscriptionId: s.id, outboxId: p.row.id, lane: `${s.id}|${p.personKey}` });
    }
    for (const w of p.withheld) {
      for (const s of matching(p.topic, w.recipient)) withheldBySubscription.set(s.id, (withheldBySubscription.get(s.id) ?? 0) + 1);
    }
  }
  if (withheldBySubscription.size > 0) {
    await tx.query(`UPDATE notify_subscription s SET withheld_events = s.withheld_events + x.c FROM unnest($1::text[], $2::int[]) AS x(id, c) WHERE s.id = x.id`, [
      [...withheldBySubscription.keys()],
      [...withheldBySubscription.values()],
    ]);
  }
  if (deliveries.length === 0) return done([]);
  // Event numbers: each subscription's counter moves by its share of the batch, numbers in outbox order.
  const counts = new Map<string, number>();
  for (const d of deliveries) counts.set(d.subscriptionId, (counts.get(d.subscriptionId) ?? 0) + 1);
  const counters = await tx.query<{ id: string; n: string }>(
    `UPDATE notify_subscription s SET events_since_start = s.events_since_start + x.c FROM unnest($1::text[], $2::int[]) AS x(id, c) WHERE s.id = x.id RETURNING s.id, s.events_since_start::text AS n`,
    [[...counts.keys()], [...counts.values()]],
  );
  const next = new Map(counters.rows.map((r) => [r.id, Number(r.n) - (counts.get(r.id) ?? 0)]));
  const numbers = deliveries.map((d) => {
    const n = (next.get(d.subscriptionId) ?? 0) + 1;
    next.set(d.subscriptionId, n);
    return n;
  });
  const inserted = await tx.query<{ id: string }>(
    `INSERT INTO notify_delivery (subscription_id, outbox_id, lane, event_number) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])
     ON CONFLICT (subscription_id, outbox_id) DO NOTHING RETURNING id::text AS id`,
    [deliveries.map((d) => d.subscriptionId), deliveries.map((d) => d.outboxId), deliveries.map((d) => d.lane), numbers],
  );
  return done(inserted.rows.map((r) => r.id));
}
