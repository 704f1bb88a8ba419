/**
 * Exactly-once, checked in the store after the HL7v2 crash test: every message is in the inbox once
 * and applied, and everything applying it writes is there once: its visit event, its Encounter
 * and Patient (one version each), its Provenance, its identity record, its outbox event. Returns
 * what is wrong, as readable lines (none when all is well).
 */
import type { Encounter, Patient } from '@medplum/fhirtypes';
import type { SqlClient } from '../../gateway/store/engine';
import { CRASH_SENDER, crashMrn, crashVisitNumber } from './hl7-messages';

const SENDER_KEY = `${CRASH_SENDER.facility}|${CRASH_SENDER.application}`;
const SOURCE = `urn:carebridge:hl7v2:${CRASH_SENDER.facility}:${CRASH_SENDER.application}`;
/** Show a few examples of each problem, and how many there are. */
const EXAMPLES = 5;

function report(problems: string[], what: string, offenders: readonly string[]): void {
  if (offenders.length > 0) problems.push(`${what}: ${String(offenders.length)}, e.g. ${offenders.slice(0, EXAMPLES).join(', ')}`);
}

function countsOf(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

function repeats(keys: readonly string[]): string[] {
  return [...countsOf(keys)].filter(([, n]) => n > 1).map(([k, n]) => `${k}×${String(n)}`);
}

/** Keys that occur other than exactly once among `keys`, against the expected set. */
function notExactlyOnce(expected: readonly string[], keys: readonly string[]): { missing: string[]; repeated: string[]; unexpected: string[] } {
  const counts = countsOf(keys);
  const wanted = new Set(expected);
  return {
    missing: expected.filter((k) => !counts.has(k)),
    repeated: [...counts].filter(([k, n]) => n > 1 && wanted.has(k)).map(([k, n]) => `${k}×${String(n)}`),
    unexpected: [...counts.keys()].filter((k) => !wanted.has(k)),
  };
}

function exactlyOnce(problems: string[], what: string, expected: readonly string[], keys: readonly string[]): void {
  const { missing, repeated, unexpected } = notExactlyOnce(expected, keys);
  report(problems, `${what} missing`, missing);
  report(problems, `${what} more than once`, repeated);
  report(problems, `${what} not sent`, unexpected);
}

export interface ExactlyOnceSummary {
  problems: string[];
  /** Inbox rows by number of apply attempts (more than one means a retry, not a repeat). */
  attempts: Record<string, number>;
}

export async function checkExactlyOnce(db: SqlClient, messages: number, controlIds: readonly string[]): Promise<ExactlyOnceSummary> {
  const problems: string[] = [];

  // The inbox: one row per control id, applied.
  const inbox = await db.query<{ id: string; kind: string; dedup_key: string; status: string; attempts: number }>(`SELECT id::text AS id, kind, dedup_key, status, attempts FROM inbox WHERE source = $1 OR kind <> 'hl7v2'`, [SENDER_KEY]);
  report(problems, 'inbox rows rejected or of another kind', inbox.rows.filter((r) => r.kind !== 'hl7v2').map((r) => `${r.kind} ${r.dedup_key}`));
  const rows = inbox.rows.filter((r) => r.kind === 'hl7v2');
  exactlyOnce(problems, 'inbox row', controlIds, rows.map((r) => r.dedup_key));
  report(problems, 'inbox rows not done', rows.filter((r) => r.status !== 'done').map((r) => `${r.dedup_key}=${r.status}`));
  const inboxIdOf = new Map(rows.map((r) => [r.dedup_key, r.id]));
  const attempts: Record<string, number> = {};
  for (const r of rows) attempts[String(r.attempts)] = (attempts[String(r.attempts)] ?? 0) + 1;

  // One visit event per message, tied to its inbox row, one per visit.
  const events = await db.query<{ control_id: string; inbox_id: string; visit_key: string }>(`SELECT control_id, inbox_id::text AS inbox_id, visit_key FROM hl7_visit_event WHERE source = $1`, [SOURCE]);
  exactlyOnce(problems, 'visit event', controlIds, events.rows.map((e) => e.control_id));
  report(problems, 'visit events not tied to their inbox row', events.rows.filter((e) => inboxIdOf.get(e.control_id) !== e.inbox_id).map((e) => e.control_id));
  report(problems, 'visits with more than one event', repeats(events.rows.map((e) => e.visit_key)));

  // One Encounter per visit number and one Patient per MRN, each written once (version 1, one history row).
  const resources = await db.query<{ resource_type: string; id: string; version_id: string; content: string }>(
    `SELECT resource_type, id, version_id::text AS version_id, content::text AS content FROM resource WHERE resource_type IN ('Encounter', 'Patient', 'Provenance')`,
  );
  const parsed = resources.rows.map((r) => ({ ...r, resource: JSON.parse(r.content) as Encounter | Patient }));
  const ours = parsed.filter((r) => r.resource.meta?.source === SOURCE || r.resource_type === 'Provenance');
  const encounters = ours.filter((r) => r.resource_type === 'Encounter');
  const patients = ours.filter((r) => r.resource_type === 'Patient');
  const provenances = ours.filter((r) => r.resource_type === 'Provenance');
  const visitOf = (e: Encounter): string => e.identifier?.find((i) => i.system === `${SOURCE}/visit-number`)?.value ?? '(none)';
  const mrnOf = (p: Patient): string => p.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))?.value ?? p.identifier?.[0]?.value ?? '(none)';
  const visitNumbers = Array.from({ length: messages }, (_, n) => crashVisitNumber(n));
  const mrns = Array.from({ length: messages }, (_, n) => crashMrn(n));
  exactlyOnce(problems, 'Encounter for visit', visitNumbers, encounters.map((e) => visitOf(e.resource as Encounter)));
  exactlyOnce(problems, 'Patient for MRN', mrns, patients.map((p) => mrnOf(p.resource as Patient)));
  report(problems, 'Encounters or Patients written more than once (version > 1)', [...encounters, ...patients].filter((r) => r.version_id !== '1').map((r) => `${r.resource_type}/${r.id} v${r.version_id}`));
  report(problems, 'Encounters not in progress, or with a location history not of one entry', encounters
    .filter((e) => (e.resource as Encounter).status !== 'in-progress' || (e.resource as Encounter).location?.length !== 1)
    .map((e) => visitOf(e.resource as Encounter)));
  const patientIdOfMrn = new Map(patients.map((p) => [mrnOf(p.resource as Patient), p.id]));
  report(problems, 'Encounters whose subject is not their own patient', encounters
    .filter((e) => {
      const n = Number(visitOf(e.resource as Encounter).slice(2));
      return (e.resource as Encounter).subject?.reference !== `Patient/${patientIdOfMrn.get(crashMrn(n)) ?? '?'}`;
    })
    .map((e) => visitOf(e.resource as Encounter)));
  const history = await db.query<{ resource_type: string; n: number }>(`SELECT resource_type, count(*)::int AS n FROM resource_history WHERE resource_type IN ('Encounter', 'Patient', 'Provenance') GROUP BY resource_type`);
  const historyOf = new Map(history.rows.map((h) => [h.resource_type, h.n]));
  for (const [type, found] of [['Encounter', encounters.length], ['Patient', patients.length], ['Provenance', provenances.length]] as const) {
    if (historyOf.get(type) !== found) problems.push(`${type}: ${String(historyOf.get(type) ?? 0)} history rows for ${String(found)} resources (a second write of one)`);
  }
  // One Provenance per message (its id derives from MSH-10), written once.
  if (provenances.length !== messages) problems.push(`${String(provenances.length)} Provenance resources for ${String(messages)} messages`);
  report(problems, 'Provenances written more than once', provenances.filter((r) => r.version_id !== '1').map((r) => `Provenance/${r.id} v${r.version_id}`));

  // Identity resolution ran for every Patient: each is a member of exactly one person.
  const persons = await db.query<{ member: string }>(`SELECT unnest(members) AS member FROM identity_person`);
  const patientLabel = new Map(patients.map((p) => [p.id, `Patient/${p.id} (MRN ${mrnOf(p.resource as Patient)})`]));
  const label = (id: string): string => patientLabel.get(id) ?? `Patient/${id}`;
  exactlyOnce(problems, 'Patient in an identity person', patients.map((p) => label(p.id)), persons.rows.map((p) => label(p.member)));

  // One admission in the outbox per message, for its inbox row, which changed the visit's state.
  const outbox = await db.query<{ kind: string; inbox_id: string; control_id: string; changed: boolean }>(
    `SELECT kind, inbox_id::text AS inbox_id, payload->>'controlId' AS control_id, (payload->>'changedState')::boolean AS changed FROM outbox WHERE source = $1`,
    [SOURCE],
  );
  exactlyOnce(problems, 'outbox event', controlIds, outbox.rows.map((o) => o.control_id));
  report(problems, 'outbox events not an admission of their own inbox row that changed the state', outbox.rows
    .filter((o) => o.kind !== 'admission' || inboxIdOf.get(o.control_id) !== o.inbox_id || !o.changed)
    .map((o) => `${o.control_id} ${o.kind} changed=${String(o.changed)}`));

  return { problems, attempts };
}
