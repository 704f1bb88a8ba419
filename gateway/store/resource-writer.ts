import type { Resource } from '@medplum/fhirtypes';
import { canonicalJson, sha256Hex } from '../fhir/canonical-json';
import type { SqlClient, SqlEngine } from './engine';
import { indexResource, patientCompartmentIds, securityLabels, type IndexRows } from './indexer';

export interface WrittenResource {
  readonly resourceType: string;
  readonly id: string;
  readonly versionId: string;
  /** False when the stored content was already the same: no new version was made. */
  readonly changed: boolean;
}

/** The identity of a resource's content, excluding the meta the store itself assigns. */
export function contentHash(resource: Resource): string {
  const { meta, ...rest } = resource;
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {};
  return sha256Hex(canonicalJson(Object.keys(keptMeta).length > 0 ? { ...rest, meta: keptMeta } : rest));
}

interface Prepared {
  resource: Resource;
  key: string;
  hash: string;
  /** Search-index rows, compartment and labels: computed up front, or only once the resource is known to have changed. */
  indexed?: Indexed;
}

interface Indexed {
  rows: IndexRows;
  patientIds: string[];
  security: string[];
}

function indexed(p: Prepared): Indexed {
  if (!p.indexed) {
    const rows = indexResource(p.resource);
    p.indexed = { rows, patientIds: patientCompartmentIds(p.resource, rows), security: securityLabels(p.resource) };
  }
  return p.indexed;
}

/** Every array column a batch writes, built once per batch: one multi-row INSERT per table. */
class BatchColumns {
  /** 'Type/id' of the resources that existed before this batch: only their old index rows need deleting. */
  readonly replacing: string[] = [];
  readonly res = { type: [] as string[], id: [] as string[], version: [] as string[], updated: [] as string[], content: [] as string[], hash: [] as string[], patients: [] as string[], security: [] as string[] };
  readonly token = { type: [] as string[], id: [] as string[], code: [] as string[], system: [] as (string | null)[], value: [] as string[] };
  readonly string = { type: [] as string[], id: [] as string[], code: [] as string[], value: [] as string[], raw: [] as string[] };
  readonly date = { type: [] as string[], id: [] as string[], code: [] as string[], low: [] as string[], high: [] as string[] };
  readonly reference = { type: [] as string[], id: [] as string[], code: [] as string[], targetType: [] as string[], targetId: [] as string[] };
  readonly number = { type: [] as string[], id: [] as string[], code: [] as string[], value: [] as number[], system: [] as (string | null)[], unit: [] as (string | null)[] };

  add(p: Prepared, versionId: string, lastUpdated: string, content: string): void {
    const type = p.resource.resourceType;
    const id = p.resource.id as string;
    const { rows, patientIds, security } = indexed(p);
    this.res.type.push(type);
    this.res.id.push(id);
    this.res.version.push(versionId);
    this.res.updated.push(lastUpdated);
    this.res.content.push(content);
    this.res.hash.push(p.hash);
    this.res.patients.push(pgArrayLiteral(patientIds));
    this.res.security.push(pgArrayLiteral(security));
    for (const t of rows.token) push(this.token, { type, id, code: t.code, system: t.system, value: t.value });
    for (const s of rows.string) push(this.string, { type, id, code: s.code, value: s.value, raw: s.raw });
    for (const d of rows.date) push(this.date, { type, id, code: d.code, low: d.low, high: d.high });
    for (const r of rows.reference) push(this.reference, { type, id, code: r.code, targetType: r.targetType, targetId: r.targetId });
    for (const n of rows.number) push(this.number, { type, id, code: n.code, value: n.value, system: n.system, unit: n.unit });
  }
}

function push<T extends Record<string, unknown[]>>(columns: T, row: { [K in keyof T]: T[K][number] }): void {
  for (const key of Object.keys(columns) as (keyof T)[]) (columns[key] as unknown[]).push(row[key]);
}

/** text[] columns inside a text[] parameter can't nest, so array-valued columns travel as literals. */
export function pgArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

export class DuplicateInBatchError extends Error {
  constructor(key: string) {
    super(`The batch holds ${key} twice; a batch writes each resource once.`);
    this.name = 'DuplicateInBatchError';
  }
}

/**
 * The intake side's one way to write: a transactional, idempotent batch upsert. Resources must
 * carry ids (mappings derive them from source identifiers). Content equal to what is stored makes
 * no new version; changed content makes version n+1 and keeps version n in history. The optional
 * Provenance is built from what actually changed and written in the same transaction.
 */
/** The same write inside a transaction the caller already holds (identity resolution, merges). */
export async function writeResourcesInTransaction(tx: SqlClient, resources: readonly Resource[], now: Date = new Date()): Promise<WrittenResource[]> {
  // Indexed only once known to have changed: an unchanged resource (a person-level Patient the
  // resolution rebuilt the same, a message sent twice) costs its hash, not its indexing.
  return writePrepared(tx, prepare(resources, false), now);
}

/** `index`: index every resource now (before a transaction is opened) rather than only the changed ones, inside it. */
function prepare(resources: readonly Resource[], index: boolean): Prepared[] {
  const seen = new Set<string>();
  return resources.map((resource) => {
    if (!resource.id) throw new Error(`A ${resource.resourceType} without an id cannot be stored`);
    const key = `${resource.resourceType}/${resource.id}`;
    if (seen.has(key)) throw new DuplicateInBatchError(key);
    seen.add(key);
    const p: Prepared = { resource, key, hash: contentHash(resource) };
    if (index) indexed(p);
    return p;
  });
}

export async function upsertResources(
  engine: SqlEngine,
  resources: readonly Resource[],
  options: { now?: Date; provenance?: (changed: readonly WrittenResource[]) => Resource | undefined } = {},
): Promise<WrittenResource[]> {
  const prepared = prepare(resources, true);
  return engine.transaction(async (tx) => {
    const written = await writePrepared(tx, prepared, options.now ?? new Date());
    const provenance = options.provenance?.(written.filter((w) => w.changed));
    if (provenance) {
      const extra = await writePrepared(tx, prepare([provenance], true), options.now ?? new Date());
      written.push(...extra);
    }
    return written;
  });
}

/**
 * Transaction-scoped advisory locks on keys (`Type/id` for a resource; an intake may add keys of
 * its own, such as a visit), taken in one order so that two writers never deadlock on them: the
 * Patient keys first, then the rest, each in byte order. Patients first is the lock hierarchy a
 * merge relies on: it takes the two Patients' keys, then those of whatever refers to the merged
 * one, learning these only as it reads, while every writer of a patient's resources asks for that
 * Patient's key in its first statement, before any of theirs, so it queues behind the merge holding
 * none of the keys the merge goes on to take.
 *
 * `withSurvivors`: also the keys of the Patients that the Patients among `keys` were merged into
 * (replaced-by, through later merges too), as stored when the statement starts, in the same
 * statement and order: a writer naming a merged record (lockFollowingMerges) needs its survivor's
 * key as well, and taking it later, after other keys, would break the order.
 *
 * The writer takes the keys of what it writes; an intake that reads stored state to decide what to
 * write (merge with the stored record, fold a visit's events) takes them before it reads, so no
 * other worker's write can fall between its reading and its writing. Locks are held until the
 * transaction ends; keys this transaction already holds are not asked for again.
 */
export async function lockWriteKeys(tx: SqlClient, keys: readonly string[], options: { withSurvivors?: boolean } = {}): Promise<void> {
  const held = heldKeys(tx);
  const wanted = [...new Set(keys)].filter((k) => !held.has(k));
  if (wanted.length === 0) return;
  const rows = await tx.query<{ k: string }>(
    options.withSurvivors
      ? `${MERGE_EDGES_SQL}, wanted(k) AS (SELECT unnest($1::text[]) UNION SELECT survivor FROM edge)
         SELECT k, pg_advisory_xact_lock(hashtextextended(k, 0))::text AS locked FROM wanted ORDER BY left(k, 8) <> 'Patient/', k COLLATE "C"`
      : `SELECT k, pg_advisory_xact_lock(hashtextextended(k, 0))::text AS locked FROM unnest($1::text[]) AS k ORDER BY left(k, 8) <> 'Patient/', k COLLATE "C"`,
    [wanted],
  );
  for (const row of rows.rows) held.add(row.k);
}

/** The record a stored Patient (`key`, as `Patient/id`) was merged into: its replaced-by link to a Patient of this store, if any. */
const survivorOf = (key: string): string =>
  `SELECT l->'other'->>'reference' AS survivor FROM resource r
     CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.content->'link') = 'array' THEN r.content->'link' ELSE '[]'::jsonb END) AS l
    WHERE ${key} LIKE 'Patient/%' AND r.resource_type = 'Patient' AND r.id = substr(${key}, 9)
      AND l->>'type' = 'replaced-by' AND l->'other'->>'reference' ~ '^Patient/[^/]+$' LIMIT 1`;

/**
 * SQL opening a WITH clause: `edge(k, survivor)`, each merge met from the keys in `$1` (text[])
 * on: a Patient among them merged into another, that one merged on, and so on. The one reading of
 * "merged into" for lockWriteKeys (withSurvivors) and the merge chains (gateway/identity/merge.ts).
 */
export const MERGE_EDGES_SQL = `WITH RECURSIVE edge(k, survivor) AS (
    SELECT g.k, e.survivor FROM unnest($1::text[]) AS g(k) CROSS JOIN LATERAL (${survivorOf('g.k')}) AS e
    UNION
    SELECT p.survivor, e.survivor FROM edge p CROSS JOIN LATERAL (${survivorOf('p.survivor')}) AS e
  )`;

/** The write-lock keys a transaction holds (lockWriteKeys), so none is asked for twice. */
const heldByTransaction = new WeakMap<SqlClient, Set<string>>();

export function heldKeys(tx: SqlClient): Set<string> {
  let held = heldByTransaction.get(tx);
  if (!held) {
    held = new Set();
    heldByTransaction.set(tx, held);
  }
  return held;
}

async function writePrepared(tx: SqlClient, prepared: Prepared[], now: Date): Promise<WrittenResource[]> {
  if (prepared.length === 0) return [];
  const types = prepared.map((p) => p.resource.resourceType);
  const ids = prepared.map((p) => p.resource.id as string);
  // Serialise writers of the same resources (PostgreSQL with several workers).
  await lockWriteKeys(tx, prepared.map((p) => p.key));
  const existing = await tx.query<{ resource_type: string; id: string; version_id: string; content_hash: string }>(
    `SELECT r.resource_type, r.id, r.version_id::text AS version_id, r.content_hash
       FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i`,
    [types, ids],
  );
  const current = new Map(existing.rows.map((r) => [`${r.resource_type}/${r.id}`, r]));
  const lastUpdated = now.toISOString();
  const batch = new BatchColumns();
  const results: WrittenResource[] = [];
  for (const p of prepared) {
    const before = current.get(p.key);
    if (before && before.content_hash === p.hash) {
      results.push({ resourceType: p.resource.resourceType, id: p.resource.id as string, versionId: before.version_id, changed: false });
      continue;
    }
    const versionId = String(before ? Number(before.version_id) + 1 : 1);
    const content = JSON.stringify({ ...p.resource, meta: { ...p.resource.meta, versionId, lastUpdated } });
    batch.add(p, versionId, lastUpdated, content);
    if (before) batch.replacing.push(p.key);
    results.push({ resourceType: p.resource.resourceType, id: p.resource.id as string, versionId, changed: true });
  }
  if (batch.res.id.length > 0) await writeBatch(tx, batch);
  return results;
}

async function writeBatch(tx: SqlClient, b: BatchColumns): Promise<void> {
  const r = b.res;
  // The current row and its history row in one statement, the content sent once: as one JSON array
  // (the contents are JSON already, so joining them costs nothing), where a text[] would have
  // node-postgres escape every quote of every document and the server parse each twice.
  await tx.query(
    `WITH x AS MATERIALIZED (
       SELECT t, i, v::bigint AS v, u::timestamptz AS u, c, h, p::text[] AS p, s::text[] AS s
         FROM ROWS FROM (unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), jsonb_array_elements($5::jsonb), unnest($6::text[]), unnest($7::text[]), unnest($8::text[])) AS x(t, i, v, u, c, h, p, s)
     ), cur AS (
       INSERT INTO resource (resource_type, id, version_id, last_updated, content, content_hash, patient_ids, security)
       SELECT t, i, v, u, c, h, p, s FROM x
       ON CONFLICT (resource_type, id) DO UPDATE SET
         version_id = EXCLUDED.version_id, last_updated = EXCLUDED.last_updated, content = EXCLUDED.content,
         content_hash = EXCLUDED.content_hash, patient_ids = EXCLUDED.patient_ids, security = EXCLUDED.security
     )
     INSERT INTO resource_history (resource_type, id, version_id, last_updated, content, patient_ids, security)
     SELECT t, i, v, u, c, p, s FROM x`,
    [r.type, r.id, r.version, r.updated, `[${r.content.join(',')}]`, r.hash, r.patients, r.security],
  );
  if (b.replacing.length > 0) {
    const types = b.replacing.map((k) => k.slice(0, k.indexOf('/')));
    const ids = b.replacing.map((k) => k.slice(k.indexOf('/') + 1));
    for (const table of ['sp_token', 'sp_string', 'sp_date', 'sp_reference', 'sp_number']) {
      await tx.query(`DELETE FROM ${table} d USING unnest($1::text[], $2::text[]) AS k(t, i) WHERE d.resource_type = k.t AND d.resource_id = k.i`, [types, ids]);
    }
  }
  await insertIndexRows(tx, b);
}

/** The index inserts, shared with the benchmark's ceiling so both write exactly the same rows. */
export async function insertIndexRows(tx: SqlClient, b: BatchColumns): Promise<void> {
  if (b.token.id.length > 0) {
    await tx.query(`INSERT INTO sp_token (resource_type, resource_id, code, system, value) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`, [
      b.token.type, b.token.id, b.token.code, b.token.system, b.token.value,
    ]);
  }
  if (b.string.id.length > 0) {
    await tx.query(`INSERT INTO sp_string (resource_type, resource_id, code, value, raw) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`, [
      b.string.type, b.string.id, b.string.code, b.string.value, b.string.raw,
    ]);
  }
  if (b.date.id.length > 0) {
    await tx.query(
      `INSERT INTO sp_date (resource_type, resource_id, code, low, high) SELECT t, i, c, l::timestamptz, h::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(t, i, c, l, h)`,
      [b.date.type, b.date.id, b.date.code, b.date.low, b.date.high],
    );
  }
  if (b.reference.id.length > 0) {
    await tx.query(`INSERT INTO sp_reference (resource_type, resource_id, code, target_type, target_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`, [
      b.reference.type, b.reference.id, b.reference.code, b.reference.targetType, b.reference.targetId,
    ]);
  }
  if (b.number.id.length > 0) {
    await tx.query(`INSERT INTO sp_number (resource_type, resource_id, code, value, system, unit) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::text[])`, [
      b.number.type, b.number.id, b.number.code, b.number.value, b.number.system, b.number.unit,
    ]);
  }
}

export { BatchColumns };
