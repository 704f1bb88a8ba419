import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';
import type { SqlClient, SqlEngine } from '../store/engine';
import { parseStoredResource } from '../store/resource-reader';
import { pgArrayLiteral, writeResourcesInTransaction } from '../store/resource-writer';
import { buildGoldenPatient, GOLDEN_TAG, isGolden, retiredGolden } from './golden';
import { decideIdentity, type ManualDecision, type Person, type Review } from './rules';
import { toSourceRecord } from './source-records';
import { NOT_PREPARED } from '../store/pg-engine';

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

/** jsonb containment equivalent of isGolden: a meta.tag entry with the person-level system and code. */
const GOLDEN_TAG_FILTER = JSON.stringify([{ system: GOLDEN_TAG.system, code: GOLDEN_TAG.code }]);

/**
 * The lookups by record id below are written as a LATERAL probe per id (LIMIT 1 on a primary key,
 * OFFSET 0 elsewhere, neither changing the rows): with `= ANY` of a few hundred ids, PostgreSQL's
 * default costs chose sequential scans of identity_member and sp_reference, measured at 100-200 ms
 * a statement at 100,000 records against under 10 ms probing the indexes.
 *
 * One step of the closure, in one statement: the source Patients connected to the records just
 * loaded (`ids`) and not yet known (`known`), with their content. Connected: the records that
 * were one person with them until now (identity_member), records sharing the NHS numbers not yet
 * looked up (`numbers`), records merged into them (Patient.link, sp_reference), either side of an
 * admin's decision touching them, and the survivors they were merged into (`targets`).
 * Person-level Patients share the number and link the records too: they are left out here
 * (isGolden in SQL) instead of being read and dropped.
 */
async function connectedPatients(
  tx: SqlClient,
  ids: readonly string[],
  numbers: readonly string[],
  targets: readonly string[],
  known: readonly string[],
): Promise<Patient[]> {
  const rows = await tx.query<{ content: string }>(
    `WITH candidate AS (
       SELECT m2.patient_id AS id FROM unnest($1::text[]) AS k(id)
         CROSS JOIN LATERAL (SELECT person_key FROM identity_member WHERE patient_id = k.id LIMIT 1) m1
         CROSS JOIN LATERAL (SELECT patient_id FROM identity_member WHERE person_key = m1.person_key OFFSET 0) m2
       UNION SELECT resource_id FROM sp_token WHERE resource_type = 'Patient' AND code = 'identifier' AND system = $2 AND value = ANY($3::text[])
       UNION SELECT s.resource_id FROM unnest($1::text[]) AS k(id)
         CROSS JOIN LATERAL (SELECT resource_id FROM sp_reference WHERE target_type = 'Patient' AND target_id = k.id AND resource_type = 'Patient' AND code = 'link' OFFSET 0) s
       UNION SELECT unnest(ARRAY[a, b]) FROM identity_decision WHERE a = ANY($1::text[]) OR b = ANY($1::text[])
       UNION SELECT unnest($4::text[])
     )
     SELECT r.content::text AS content FROM candidate c JOIN resource r ON r.resource_type = 'Patient' AND r.id = c.id
      WHERE c.id <> ALL($5::text[]) AND NOT COALESCE(r.content->'meta'->'tag' @> $6::jsonb, false)${NOT_PREPARED}`,
    [ids, NHS_NUMBER_SYSTEM, numbers, targets, known, GOLDEN_TAG_FILTER],
  );
  return rows.rows.map((r) => parseStoredResource(r.content) as Patient);
}

/** What the database holds about these records besides the records themselves, read in one statement. */
interface StandingState {
  /** The standing manual decisions touching these records: the latest decision per pair wins. */
  readonly manual: ManualDecision[];
  /** 'patientId|number' of the numbers CareBridge verified against PDS. */
  readonly traced: Set<string>;
  /** The person each record belonged to until now. */
  readonly memberOf: Map<string, string>;
  /** Those persons: their person-level record and members. */
  readonly persons: Map<string, { goldenId: string | null; members: string[] }>;
  /** The open reviews touching these records. */
  readonly openReviews: { kind: string; a: string; b: string }[];
}

async function standingState(tx: SqlClient, ids: readonly string[]): Promise<StandingState> {
  // Manual decisions keep the order the rules were always given (by pair), for the rules apply links in order.
  const rows = await tx.query<{ k: string; x: string; y: string | null; z: string | null }>(
    `WITH member AS MATERIALIZED (
       SELECT m.patient_id, m.person_key FROM unnest($1::text[]) AS k(id)
        CROSS JOIN LATERAL (SELECT patient_id, person_key FROM identity_member WHERE patient_id = k.id LIMIT 1) m
     )
     SELECT k, x, y, z FROM (
        SELECT 'm' AS k, kind AS x, a AS y, b AS z, least(a, b) AS s1, greatest(a, b) AS s2 FROM (
          SELECT DISTINCT ON (least(a, b), greatest(a, b)) kind, a, b FROM identity_decision
           WHERE a = ANY($1::text[]) OR b = ANY($1::text[])
           ORDER BY least(a, b), greatest(a, b), id DESC) d
        UNION ALL SELECT 't', t.patient_id, t.nhs_number, NULL::text, NULL::text, NULL::text FROM unnest($1::text[]) AS k(id)
          CROSS JOIN LATERAL (SELECT patient_id, nhs_number FROM pds_trace WHERE patient_id = k.id AND outcome = 'verified' OFFSET 0) t
        UNION ALL SELECT 'b', patient_id, person_key, NULL::text, NULL::text, NULL::text FROM member
        UNION ALL SELECT 'p', p.key, p.golden_id, array_to_json(p.members)::text, NULL::text, NULL::text
          FROM (SELECT DISTINCT person_key FROM member) mk JOIN identity_person p ON p.key = mk.person_key
        UNION ALL SELECT 'r', kind, a, b, NULL::text, NULL::text FROM identity_review WHERE status = 'open' AND (a = ANY($1::text[]) OR b = ANY($1::text[]))
      ) AS standing ORDER BY k, s1, s2`,
    [ids],
  );
  const state: StandingState = { manual: [], traced: new Set(), memberOf: new Map(), persons: new Map(), openReviews: [] };
  for (const r of rows.rows) {
    if (r.k === 'm') state.manual.push({ kind: r.x as ManualDecision['kind'], a: r.y as string, b: r.z as string });
    else if (r.k === 't') state.traced.add(`${r.x}|${r.y as string}`);
    else if (r.k === 'b') state.memberOf.set(r.x, r.y as string);
    else if (r.k === 'r') state.openReviews.push({ kind: r.x, a: r.y as string, b: r.z as string });
    else state.persons.set(r.x, { goldenId: r.y, members: JSON.parse(r.z as string) as string[] });
  }
  return state;
}

/** The same ids in the same order. */
export const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

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
  const initial = [...new Set(patientIds)];
  let loaded = [...initial.flatMap((id) => known.get(id) ?? []), ...(await loadPatients(tx, initial.filter((id) => !known.has(id))))];
  // Each number is looked up once: a later step finds nothing new by the same number.
  const numbersLookedUp = new Set<string>();
  // Round by round, as far as MAX_CLOSURE_ROUNDS reads of records: the records just read, then
  // everything connected to them that is not yet known, until nothing new turns up.
  for (let round = 1; loaded.length > 0; round++) {
    loaded = loaded.filter((p) => !isGolden(p) && !patients.has(p.id as string));
    for (const p of loaded) patients.set(p.id as string, p);
    if (round >= MAX_CLOSURE_ROUNDS || loaded.length === 0) break;
    const numbers = [...new Set(loaded.map((p) => toSourceRecord(p, new Set()).nhsNumber).filter((n): n is string => n !== undefined && !numbersLookedUp.has(n)))];
    for (const n of numbers) numbersLookedUp.add(n);
    const linkedTargets = loaded.flatMap((p) => (p.link ?? []).filter((l) => l.type === 'replaced-by').map((l) => l.other.reference?.replace(/^Patient\//, '') ?? '')).filter((id) => id !== '');
    loaded = await connectedPatients(tx, loaded.map((p) => p.id as string), numbers, linkedTargets, [...patients.keys()]);
  }
  const ids = [...patients.keys()];
  const standing = await standingState(tx, ids);
  const manual = standing.manual;
  const records = [...patients.values()].map((p) => toSourceRecord(p, standing.traced));
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
  const goldenIds = new Set(goldens.map((g) => g.id as string));
  // Persons that held any of these records before but no longer exist are retired, not deleted.
  const keys = new Set(decision.persons.map((p) => p.key));
  const before = [...standing.persons].map(([key, p]) => ({ key, golden_id: p.goldenId }));
  const gone = before.filter((r) => !keys.has(r.key));
  const dissolved = before.filter((r) => r.golden_id && !goldenIds.has(r.golden_id)).map((r) => r.golden_id as string);
  const retired = (await loadPatients(tx, dissolved)).map(retiredGolden);
  const written = await writeResourcesInTransaction(tx, [...goldens, ...retired], now);
  if (gone.length > 0) await tx.query(`DELETE FROM identity_person WHERE key = ANY($1::text[])`, [gone.map((g) => g.key)]);
  // Only what changed is sent; the statements' own conditions would leave the rest as it is anyway.
  const moved = decision.persons.flatMap((p) => p.members.filter((m) => standing.memberOf.get(m) !== p.key).map((m) => [m, p.key] as const));
  if (moved.length > 0) {
    await tx.query(
      `INSERT INTO identity_member (patient_id, person_key) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (patient_id) DO UPDATE SET person_key = EXCLUDED.person_key WHERE identity_member.person_key <> EXCLUDED.person_key`,
      [moved.map(([m]) => m), moved.map(([, k]) => k)],
    );
  }
  const persons = decision.persons.filter((p) => {
    const was = standing.persons.get(p.key);
    return !was || was.goldenId !== (goldenOf.get(p.key)?.id ?? null) || !sameList(was.members, p.members);
  });
  if (persons.length > 0) {
    await tx.query(
      `INSERT INTO identity_person (key, golden_id, members, updated_at)
       SELECT k, g, m::text[], $4::timestamptz FROM unnest($1::text[], $2::text[], $3::text[]) AS x(k, g, m)
       ON CONFLICT (key) DO UPDATE SET golden_id = EXCLUDED.golden_id, members = EXCLUDED.members, updated_at = EXCLUDED.updated_at
       WHERE identity_person.members IS DISTINCT FROM EXCLUDED.members OR identity_person.golden_id IS DISTINCT FROM EXCLUDED.golden_id`,
      [persons.map((p) => p.key), persons.map((p) => goldenOf.get(p.key)?.id ?? null), persons.map((p) => pgArrayLiteral(p.members)), now.toISOString()],
    );
  }
  // Reviews: what the rules raise now is open; what they no longer raise among these records is resolved.
  const reviews = decision.reviews;
  const raised = new Set(reviews.map((r) => `${r.kind}|${r.a}|${r.b}`));
  const stale = standing.openReviews.filter((r) => !raised.has(`${r.kind}|${r.a}|${r.b}`));
  if (stale.length > 0) {
    await tx.query(
      `UPDATE identity_review r SET status = 'resolved', last_seen = $4::timestamptz FROM unnest($1::text[], $2::text[], $3::text[]) AS x(k, a, b)
        WHERE r.kind = x.k AND r.a = x.a AND r.b = x.b AND r.status = 'open'`,
      [stale.map((r) => r.kind), stale.map((r) => r.a), stale.map((r) => r.b), now.toISOString()],
    );
  }
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
/** The person a patient id (an SQL expression) belongs to, by its golden id or as a member: golden_id, members (no row: a person of their own). */
export const personOfPatientSql = (patientId: string): string =>
  `SELECT golden_id, members FROM identity_person WHERE golden_id = ${patientId} OR key = (SELECT person_key FROM identity_member WHERE patient_id = ${patientId})`;

/** The ids of the person a row of PERSON_OF_PATIENT_SQL describes, sorted (the patient alone when there is no row). */
export function personIdsOf(row: { golden_id: string | null; members: string[] } | undefined, patientId: string): string[] {
  if (!row) return [patientId];
  return [...new Set([...(row.golden_id ? [row.golden_id] : []), ...row.members, patientId])].sort();
}

export async function samePersonIds(db: SqlClient, patientId: string): Promise<string[]> {
  const rows = await db.query<{ golden_id: string | null; members: string[] }>(personOfPatientSql('$1'), [patientId]);
  return personIdsOf(rows.rows[0], patientId);
}
