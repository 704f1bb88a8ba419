import type { Patient, PatientLink, Resource } from '@medplum/fhirtypes';
import { eachReference } from '../fhir/references';
import type { SqlClient } from '../store/engine';
import { parseStoredResource } from '../store/resource-reader';
import { heldKeys, lockWriteKeys, MERGE_EDGES_SQL, writeResourcesInTransaction } from '../store/resource-writer';
import type { Store } from '../store/store';
import { resolveIdentity } from './resolver';
import { sourceOf } from './source-records';

/**
 * A source saying two of its records are one person (HL7 A40, or an admin acting for it): the
 * merged record's references move to the survivor, the merged record stays (inactive, linked
 * replaced-by), nothing is deleted, every change is a new version, and the person-level record is
 * recomputed. An unmerge moves back exactly what the merge moved.
 */
export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

const MERGE_LOCK_KEY = 7_200_319;

const withoutLink = (links: PatientLink[] | undefined, type: PatientLink['type'], other: string): PatientLink[] =>
  (links ?? []).filter((l) => !(l.type === type && l.other.reference === `Patient/${other}`));

/** A source's record as merged into another: inactive, replaced-by the survivor. */
const asMergedInto = (patient: Patient, survivorId: string): Patient => ({
  ...patient,
  active: false,
  link: [...withoutLink(patient.link, 'replaced-by', survivorId), { other: { reference: `Patient/${survivorId}` }, type: 'replaced-by' }],
});

/** Replaces every reference to `from` (relative or absolute) with `to`, anywhere in the resource. */
export function moveReferences<T>(value: T, from: string, to: string): T {
  if (Array.isArray(value)) return value.map((v: unknown) => moveReferences(v, from, to)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = k === 'reference' && typeof v === 'string' && (v === from || v.endsWith(`/${from}`)) ? to : moveReferences(v, from, to);
  }
  return out as T;
}

async function loadResource(tx: SqlClient, type: string, id: string): Promise<Resource | undefined> {
  const rows = await tx.query<{ content: string }>('SELECT content::text AS content FROM resource WHERE resource_type = $1 AND id = $2', [type, id]);
  const row = rows.rows[0];
  return row ? parseStoredResource(row.content) : undefined;
}

async function referrers(tx: SqlClient, patientId: string): Promise<{ type: string; id: string }[]> {
  const rows = await tx.query<{ resource_type: string; resource_id: string }>(
    `SELECT DISTINCT resource_type, resource_id FROM sp_reference WHERE target_type = 'Patient' AND target_id = $1 AND resource_type <> 'Patient' ORDER BY resource_type, resource_id`,
    [patientId],
  );
  return rows.rows.map((r) => ({ type: r.resource_type, id: r.resource_id }));
}

/**
 * Takes the write locks of the two records and of everything that refers to the merged one, then
 * reads the referrers again until no new one appears: a worker in another process that committed a
 * new one while the locks were being taken is seen, and none can commit another or change one
 * until the merge has. The Patients' keys come first (lockWriteKeys' hierarchy), and every writer
 * of the merged patient's resources asks for that Patient's key before any of theirs
 * (lockFollowingMerges), so a worker the merge waits for in a later round is never one waiting for
 * the merge.
 */
async function lockMerge(tx: SqlClient, mergedId: string, survivorId: string): Promise<{ type: string; id: string }[]> {
  const held = heldKeys(tx);
  let found = await referrers(tx, mergedId);
  for (;;) {
    const keys = [`Patient/${mergedId}`, `Patient/${survivorId}`, ...found.map((r) => `${r.type}/${r.id}`)].filter((k) => !held.has(k));
    if (keys.length === 0) return found;
    await lockWriteKeys(tx, keys);
    found = await referrers(tx, mergedId);
  }
}

/** The Patients of this store a resource refers to (`Patient/id`); references to other servers are theirs, and versioned ones are of that version: neither is followed. */
function patientReferences(resource: Resource): Set<string> {
  const found = new Set<string>();
  eachReference(resource, (v) => {
    if (/^Patient\/[^/]+$/.test(v)) found.add(v);
  });
  return found;
}

/** For each of these Patients its source merged, the records it was merged into, in order: the last is the survivor. */
async function mergeChains(tx: SqlClient, patients: readonly string[]): Promise<Map<string, string[]>> {
  const edges = await tx.query<{ k: string; survivor: string }>(`${MERGE_EDGES_SQL} SELECT k, survivor FROM edge`, [[...new Set(patients)]]);
  const into = new Map(edges.rows.map((e) => [e.k, e.survivor]));
  const chains = new Map<string, string[]>();
  for (const start of patients) {
    const chain: string[] = [];
    // A merged record cannot be merged again, so merges make no cycle; a hand-edited store should not hang us either.
    for (let to = into.get(start); to !== undefined && to !== start && !chain.includes(to); to = into.get(to)) chain.push(to);
    if (chain.length > 0) chains.set(start, chain);
  }
  return chains;
}

/**
 * What every intake does before it writes (ingestResourcesInTransaction): takes the write locks of
 * the resources, of the Patients they refer to and of those Patients' survivors, in one statement
 * (Patients first), then applies the merges their source has made, which stand until undone:
 *  - a reference to a Patient merged into another moves to the one that survived, and the merge
 *    records that it moved, so an unmerge moves it back. A merge holds both Patients' keys until
 *    it commits, so a writer that resolved its references before a merge (a FHIR Bundle's
 *    conditional references, the feed's stored visit) and writes after it lands on the survivor,
 *    never on the record merged away;
 *  - a merged Patient its source sends again stays merged (inactive, replaced-by the survivor),
 *    whatever else of it changes.
 * The merges are read again once the locks are held; a merge committed between the two readings
 * (rare) adds its survivor's key in a statement of its own.
 */
export async function lockFollowingMerges(tx: SqlClient, resources: readonly Resource[]): Promise<Resource[]> {
  const referred = new Set(resources.flatMap((r) => (r.resourceType === 'Patient' ? [] : [...patientReferences(r)])));
  const patients = [...new Set([...referred, ...resources.filter((r) => r.resourceType === 'Patient').map((r) => `Patient/${r.id ?? ''}`)])];
  await lockWriteKeys(tx, [...referred, ...resources.map((r) => `${r.resourceType}/${r.id ?? ''}`)], { withSurvivors: true });
  if (patients.length === 0) return [...resources];
  const held = heldKeys(tx);
  let chains = await mergeChains(tx, patients);
  for (let late = [...chains.values()].flat().filter((k) => !held.has(k)); late.length > 0; late = [...chains.values()].flat().filter((k) => !held.has(k))) {
    await lockWriteKeys(tx, late);
    chains = await mergeChains(tx, patients);
  }
  if (chains.size === 0) return [...resources];
  const moves = [...chains].filter(([from]) => referred.has(from));
  /** merged id → keys of resources whose references to it (or to a record merged into it) moved. */
  const movedBy = new Map<string, Set<string>>();
  const out = resources.map((r): Resource => {
    if (r.resourceType === 'Patient') {
      const chain = chains.get(`Patient/${r.id ?? ''}`);
      return chain ? asMergedInto(r, (chain[0] as string).slice('Patient/'.length)) : r;
    }
    const refs = patientReferences(r);
    const applicable = moves.filter(([from]) => refs.has(from));
    for (const [from, chain] of applicable) {
      for (const merged of [from, ...chain.slice(0, -1)]) movedBy.set(merged, (movedBy.get(merged) ?? new Set<string>()).add(`${r.resourceType}/${r.id ?? ''}`));
    }
    return applicable.reduce((moved, [from, chain]) => moveReferences(moved, from, chain[chain.length - 1] as string), r);
  });
  const pairs = [...movedBy].flatMap(([merged, keys]) => [...keys].map((key) => [merged.slice('Patient/'.length), key] as const));
  if (pairs.length > 0) {
    await tx.query(
      `UPDATE identity_merge m SET moved = m.moved || ARRAY(SELECT DISTINCT x.k FROM unnest($1::text[], $2::text[]) AS x(merged, k) WHERE x.merged = m.merged_id AND NOT x.k = ANY(m.moved) ORDER BY x.k)
        WHERE m.unmerged_at IS NULL AND m.merged_id = ANY($1::text[])`,
      [pairs.map(([merged]) => merged), pairs.map(([, key]) => key)],
    );
  }
  return out;
}

/**
 * Where references to these Patients (`Patient/id`) should point: a record its source merged into
 * another (replaced-by) is followed to the one that survived, and on through later merges of that
 * one. Records never merged map to themselves; ids not stored are left out.
 */
export async function survivorsOf(db: SqlClient, references: readonly string[]): Promise<Map<string, string>> {
  const starts = [...new Set(references)].filter((r) => r.startsWith('Patient/'));
  if (starts.length === 0) return new Map();
  const chains = await mergeChains(db, starts);
  const stored = await db.query<{ id: string }>(`SELECT id FROM resource WHERE resource_type = 'Patient' AND id = ANY($1::text[])`, [starts.map((r) => r.slice('Patient/'.length))]);
  const isStored = new Set(stored.rows.map((r) => `Patient/${r.id}`));
  return new Map(starts.filter((s) => isStored.has(s)).map((s) => [s, chains.get(s)?.at(-1) ?? s]));
}

export async function mergeSourceRecords(store: Store, input: { mergedId: string; survivorId: string; reason: string; mergedBy: string; now?: Date }): Promise<{ mergeId: string; moved: string[] }> {
  const { mergedId, survivorId } = input;
  if (mergedId === survivorId) throw new MergeError('A record cannot be merged into itself');
  const now = input.now ?? new Date();
  const result = await store.engine.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MERGE_LOCK_KEY]);
    const referring = await lockMerge(tx, mergedId, survivorId);
    const merged = (await loadResource(tx, 'Patient', mergedId)) as Patient | undefined;
    const survivor = (await loadResource(tx, 'Patient', survivorId)) as Patient | undefined;
    if (!merged || !survivor) throw new MergeError(`Both records must exist (merged ${merged ? 'found' : 'missing'}, survivor ${survivor ? 'found' : 'missing'})`);
    if (sourceOf(merged) !== sourceOf(survivor)) throw new MergeError('A source can only merge its own records: these two come from different sources');
    if (merged.link?.some((l) => l.type === 'replaced-by')) throw new MergeError('The record to merge has already been merged');
    const moved: Resource[] = [];
    for (const ref of referring) {
      const resource = await loadResource(tx, ref.type, ref.id);
      if (resource) moved.push(moveReferences(resource, `Patient/${mergedId}`, `Patient/${survivorId}`));
    }
    const mergedAfter = asMergedInto(merged, survivorId);
    // The survivor itself is not rewritten: what it says is still its source's latest word (its
    // lastUpdated decides, for one, which practice the person is registered with), and the merge is
    // found from the merged record (`Patient?link=`, `_revinclude=Patient:link`).
    await writeResourcesInTransaction(tx, [mergedAfter, ...moved], now);
    const movedKeys = moved.map((r) => `${r.resourceType}/${r.id ?? ''}`);
    const row = await tx.query<{ id: string }>(
      `INSERT INTO identity_merge (merged_id, survivor_id, moved, reason, merged_by, merged_at) VALUES ($1, $2, $3::text[], $4, $5, $6::timestamptz) RETURNING id::text AS id`,
      [mergedId, survivorId, movedKeys, input.reason, input.mergedBy, now.toISOString()],
    );
    return { mergeId: (row.rows[0] as { id: string }).id, moved: movedKeys };
  });
  await resolveIdentity(store.engine, [mergedId, survivorId], now);
  return result;
}

export async function unmergeSourceRecords(store: Store, input: { mergedId: string; now?: Date }): Promise<{ movedBack: string[] }> {
  const now = input.now ?? new Date();
  const result = await store.engine.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MERGE_LOCK_KEY]);
    const rows = await tx.query<{ id: string; survivor_id: string; moved: string[] }>(
      `SELECT id::text AS id, survivor_id, moved FROM identity_merge WHERE merged_id = $1 AND unmerged_at IS NULL ORDER BY identity_merge.id DESC LIMIT 1`,
      [input.mergedId],
    );
    const merge = rows.rows[0];
    if (!merge) throw new MergeError('There is no standing merge of this record to undo');
    // The survivor may itself have been merged since (undone out of order): what moved may now name
    // any record along that chain, so those Patients are locked too (withSurvivors), and each is moved back.
    // A writer that moved a reference to the survivor (lockFollowingMerges) adds it to `moved` under
    // the Patients' keys: read again once they are held, until nothing new appears.
    for (let keys = [`Patient/${input.mergedId}`, `Patient/${merge.survivor_id}`, ...merge.moved]; keys.some((k) => !heldKeys(tx).has(k)); keys = merge.moved) {
      await lockWriteKeys(tx, keys, { withSurvivors: true });
      const again = await tx.query<{ moved: string[] }>('SELECT moved FROM identity_merge WHERE id = $1::bigint', [merge.id]);
      merge.moved = again.rows[0]?.moved ?? merge.moved;
    }
    const onward = (await mergeChains(tx, [`Patient/${merge.survivor_id}`])).get(`Patient/${merge.survivor_id}`) ?? [];
    await lockWriteKeys(tx, onward);
    const merged = (await loadResource(tx, 'Patient', input.mergedId)) as Patient;
    const survivor = (await loadResource(tx, 'Patient', merge.survivor_id)) as Patient;
    const back: Resource[] = [];
    for (const key of merge.moved) {
      const [type, id] = key.split('/') as [string, string];
      const resource = await loadResource(tx, type, id);
      if (resource) back.push([`Patient/${merge.survivor_id}`, ...onward].reduce((r, from) => moveReferences(r, from, `Patient/${input.mergedId}`), resource));
    }
    const { active: _active, ...mergedRest } = merged;
    const mergedLinks = withoutLink(merged.link, 'replaced-by', merge.survivor_id);
    // Merges before 2026-12-07 also wrote `replaces` on the survivor; none since does (no new version when there is none).
    const survivorLinks = withoutLink(survivor.link, 'replaces', input.mergedId);
    const mergedAfter: Patient = { ...mergedRest, active: true, ...(mergedLinks.length > 0 ? { link: mergedLinks } : { link: undefined }) };
    const survivorAfter: Patient = { ...survivor, link: survivorLinks.length > 0 ? survivorLinks : undefined };
    await writeResourcesInTransaction(tx, [mergedAfter, survivorAfter, ...back], now);
    await tx.query(`UPDATE identity_merge SET unmerged_at = $2::timestamptz WHERE id = $1::bigint`, [merge.id, now.toISOString()]);
    return { movedBack: merge.moved, survivorId: merge.survivor_id };
  });
  await resolveIdentity(store.engine, [input.mergedId, result.survivorId], now);
  return { movedBack: result.movedBack };
}
