import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';
import type { SqlClient, SqlEngine } from '../store/engine';
import { parseStoredResource } from '../store/resource-reader';
import { pgArrayLiteral, writeResourcesInTransaction } from '../store/resource-writer';
import { buildGoldenPatient, isGolden, retiredGolden } from './golden';
import { decideIdentity, type ManualDecision, type Person, type Review } from './rules';
import { toSourceRecord } from './source-records';

/** One identity resolution at a time across every process: decisions read and write overlapping sets. */
const IDENTITY_LOCK_KEY = 7_200_318;
const MAX_CLOSURE_ROUNDS = 20;

export interface ResolutionResult {
  persons: Person[];
  reviews: Review[];
  goldenWritten: number;
}

async function loadPatients(tx: SqlClient, ids: readonly string[]): Promise<Patient[]> {
  if (ids.length === 0) return [];
  const rows = await tx.query<{ content: string }>(`SELECT content::text AS content FROM resource WHERE resource_type = 'Patient' AND id = ANY($1::text[])`, [ids]);
  return rows.rows.map((r) => parseStoredResource(r.content) as Patient);
}

async function patientIdsWithNumbers(tx: SqlClient, numbers: readonly string[]): Promise<string[]> {
  if (numbers.length === 0) return [];
  const rows = await tx.query<{ id: string }>(
    `SELECT DISTINCT resource_id AS id FROM sp_token WHERE resource_type = 'Patient' AND code = 'identifier' AND system = $1 AND value = ANY($2::text[])`,
    [NHS_NUMBER_SYSTEM, numbers],
  );
  return rows.rows.map((r) => r.id);
}

/** Records merged into any of these (their Patient.link replaced-by points here). */
async function mergedInto(tx: SqlClient, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await tx.query<{ id: string }>(`SELECT DISTINCT resource_id AS id FROM sp_reference WHERE resource_type = 'Patient' AND code = 'link' AND target_type = 'Patient' AND target_id = ANY($1::text[])`, [ids]);
  return rows.rows.map((r) => r.id);
}

/** Records that were the same person as these until now: a change to one can dissolve the person. */
async function formerCompanions(tx: SqlClient, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await tx.query<{ id: string }>(
    `SELECT DISTINCT m2.patient_id AS id FROM identity_member m1 JOIN identity_member m2 ON m2.person_key = m1.person_key WHERE m1.patient_id = ANY($1::text[])`,
    [ids],
  );
  return rows.rows.map((r) => r.id);
}

/** The standing manual decisions touching these records: the latest decision per pair wins. */
async function manualDecisions(tx: SqlClient, ids: readonly string[]): Promise<ManualDecision[]> {
  if (ids.length === 0) return [];
  const rows = await tx.query<{ kind: 'link' | 'unlink'; a: string; b: string }>(
    `SELECT DISTINCT ON (least(a, b), greatest(a, b)) kind, a, b FROM identity_decision
      WHERE a = ANY($1::text[]) OR b = ANY($1::text[])
      ORDER BY least(a, b), greatest(a, b), id DESC`,
    [ids],
  );
  return rows.rows;
}

async function tracedNumbers(tx: SqlClient, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx.query<{ patient_id: string; nhs_number: string }>(`SELECT patient_id, nhs_number FROM pds_trace WHERE outcome = 'verified' AND patient_id = ANY($1::text[])`, [ids]);
  return new Set(rows.rows.map((r) => `${r.patient_id}|${r.nhs_number}`));
}

/**
 * Recomputes identity for everything connected to the given source Patients: the records sharing
 * their NHS numbers, records merged into them, records an admin linked to them, and the records
 * that were one person with them until now. Writes the
 * person-level Patients (new versions only where they changed), retires persons that no longer
 * exist, and refreshes the review list. One transaction.
 */
export async function resolveIdentity(engine: SqlEngine, patientIds: readonly string[], now: Date = new Date()): Promise<ResolutionResult> {
  return engine.transaction((tx) => resolveIdentityInTransaction(tx, patientIds, now));
}

/** The same resolution inside a transaction the caller holds (a batch of inbox items applied at once). */
export async function resolveIdentityInTransaction(
  tx: SqlClient,
  patientIds: readonly string[],
  now: Date = new Date(),
  /** Patients the caller wrote in this same transaction, as stored: not read back. */
  known: ReadonlyMap<string, Patient> = new Map(),
): Promise<ResolutionResult> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [IDENTITY_LOCK_KEY]);
  const patients = new Map<string, Patient>();
  let frontier = [...new Set(patientIds)];
  let manual: ManualDecision[] = [];
  for (let round = 0; frontier.length > 0 && round < MAX_CLOSURE_ROUNDS; round++) {
    const given = frontier.flatMap((id) => known.get(id) ?? []);
    const loaded = [...given, ...(await loadPatients(tx, frontier.filter((id) => !known.has(id))))].filter((p) => !isGolden(p));
    for (const p of loaded) patients.set(p.id as string, p);
    const numbers = loaded.map((p) => toSourceRecord(p, new Set()).nhsNumber).filter((n): n is string => n !== undefined);
    const linkedTargets = loaded.flatMap((p) => (p.link ?? []).filter((l) => l.type === 'replaced-by').map((l) => l.other.reference?.replace(/^Patient\//, '') ?? ''));
    manual = await manualDecisions(tx, [...patients.keys()]);
    const candidates = new Set([
      ...(await formerCompanions(tx, loaded.map((p) => p.id as string))),
      ...(await patientIdsWithNumbers(tx, numbers)),
      ...(await mergedInto(tx, loaded.map((p) => p.id as string))),
      ...linkedTargets,
      ...manual.flatMap((m) => [m.a, m.b]),
    ]);
    frontier = [...candidates].filter((id) => id && !patients.has(id));
  }
  const ids = [...patients.keys()];
  const traced = await tracedNumbers(tx, ids);
  const records = [...patients.values()].map((p) => toSourceRecord(p, traced));
  const decision = decideIdentity(records, manual);

  const verified = new Map(records.map((r) => [r.patientId, r.verified]));
  // Only a person with more than one source record needs a record that links them; a lone source
  // record is its own person.
  const goldenOf = new Map(
    decision.persons
      .filter((person) => person.members.length > 1)
      .map((person) => [person.key, buildGoldenPatient(person, person.members.map((m) => ({ patient: patients.get(m) as Patient, verified: verified.get(m) ?? false })))]),
  );
  const goldens = [...goldenOf.values()];
  // Persons that held any of these records before but no longer exist are retired, not deleted.
  const before = await tx.query<{ key: string; golden_id: string | null }>(
    `SELECT key, golden_id FROM identity_person WHERE key IN (SELECT person_key FROM identity_member WHERE patient_id = ANY($1::text[]))`,
    [ids],
  );
  const keys = new Set(decision.persons.map((p) => p.key));
  const gone = before.rows.filter((r) => !keys.has(r.key));
  const dissolved = before.rows.filter((r) => r.golden_id && !goldens.some((g) => g.id === r.golden_id)).map((r) => r.golden_id as string);
  const retired = (await loadPatients(tx, dissolved)).map(retiredGolden);
  const written = await writeResourcesInTransaction(tx, [...goldens, ...retired], now);
  if (gone.length > 0) await tx.query(`DELETE FROM identity_person WHERE key = ANY($1::text[])`, [gone.map((g) => g.key)]);
  await tx.query(
    `INSERT INTO identity_member (patient_id, person_key) SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (patient_id) DO UPDATE SET person_key = EXCLUDED.person_key WHERE identity_member.person_key <> EXCLUDED.person_key`,
    [decision.persons.flatMap((p) => p.members), decision.persons.flatMap((p) => p.members.map(() => p.key))],
  );
  const persons = decision.persons;
  await tx.query(
    `INSERT INTO identity_person (key, golden_id, members, updated_at)
     SELECT k, g, m::text[], $4::timestamptz FROM unnest($1::text[], $2::text[], $3::text[]) AS x(k, g, m)
     ON CONFLICT (key) DO UPDATE SET golden_id = EXCLUDED.golden_id, members = EXCLUDED.members, updated_at = EXCLUDED.updated_at
     WHERE identity_person.members IS DISTINCT FROM EXCLUDED.members OR identity_person.golden_id IS DISTINCT FROM EXCLUDED.golden_id`,
    [persons.map((p) => p.key), persons.map((p) => goldenOf.get(p.key)?.id ?? null), persons.map((p) => pgArrayLiteral(p.members)), now.toISOString()],
  );
  // Reviews: what the rules raise now is open; what they no longer raise among these records is resolved.
  await tx.query(`UPDATE identity_review SET status = 'resolved', last_seen = $2::timestamptz WHERE status = 'open' AND (a = ANY($1::text[]) OR b = ANY($1::text[]))`, [ids, now.toISOString()]);
  const reviews = decision.reviews;
  if (reviews.length > 0) {
    await tx.query(
      `INSERT INTO identity_review (kind, nhs_number, a, b, reason, status, first_seen, last_seen)
       SELECT k, n, a, b, r, 'open', $6::timestamptz, $6::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(k, n, a, b, r)
       ON CONFLICT (kind, a, b) DO UPDATE SET status = 'open', reason = EXCLUDED.reason, last_seen = EXCLUDED.last_seen`,
      [reviews.map((r) => r.kind), reviews.map((r) => r.nhsNumber), reviews.map((r) => r.a), reviews.map((r) => r.b), reviews.map((r) => r.reason), now.toISOString()],
    );
  }
  return { persons: [...decision.persons], reviews: [...decision.reviews], goldenWritten: written.filter((w) => w.changed).length };
}

/** Every Patient id that is the same person as this one (the person-level record and its sources), itself included. */
export async function samePersonIds(db: SqlClient, patientId: string): Promise<string[]> {
  const rows = await db.query<{ golden_id: string | null; members: string[] }>(
    `SELECT golden_id, members FROM identity_person WHERE golden_id = $1 OR key = (SELECT person_key FROM identity_member WHERE patient_id = $1)`,
    [patientId],
  );
  const row = rows.rows[0];
  if (!row) return [patientId];
  return [...new Set([...(row.golden_id ? [row.golden_id] : []), ...row.members, patientId])].sort();
}
