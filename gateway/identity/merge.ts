import type { Patient, PatientLink, Resource } from '@medplum/fhirtypes';
import type { SqlClient } from '../store/engine';
import { parseStoredResource } from '../store/resource-reader';
import { lockWriteKeys, writeResourcesInTransaction } from '../store/resource-writer';
import type { Store } from '../store/store';
import { resolveIdentity } from './resolver';
import { replacedBy, sourceOf } from './source-records';

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
 * Takes the write locks of the two records and of everything that refers to the merged one, as
 * every writer does (lockWriteKeys: the hospital feed takes its patient's and its resources' keys
 * before it reads), then reads the referrers again: a worker in another process that committed a
 * new one while the locks were being taken is seen, and none can commit another or change one
 * until the merge has. All in one sorted statement where it can be, so the merge and a worker never
 * wait on each other in a cycle; a referrer that appeared meanwhile is locked in a second.
 */
async function lockMerge(tx: SqlClient, mergedId: string, survivorId: string): Promise<{ type: string; id: string }[]> {
  const locked = new Set<string>();
  let found = await referrers(tx, mergedId);
  for (;;) {
    const keys = [`Patient/${mergedId}`, `Patient/${survivorId}`, ...found.map((r) => `${r.type}/${r.id}`)].filter((k) => !locked.has(k));
    if (keys.length === 0) return found;
    await lockWriteKeys(tx, keys);
    for (const key of keys) locked.add(key);
    found = await referrers(tx, mergedId);
  }
}

/**
 * Where references to these Patients (`Patient/id`) should point: a record its source merged into
 * another (replaced-by) is followed to the one that survived, and on through later merges of that
 * one. Records never merged map to themselves; ids not stored are left out.
 */
export async function survivorsOf(db: SqlClient, references: readonly string[]): Promise<Map<string, string>> {
  const starts = [...new Set(references)].filter((r) => r.startsWith('Patient/'));
  /** Each stored Patient read, with the record it was merged into. */
  const mergedInto = new Map<string, string | undefined>();
  const looked = new Set<string>();
  for (let unread = starts; unread.length > 0; unread = [...new Set([...mergedInto.values()].filter((r): r is string => r !== undefined && !looked.has(r)))]) {
    for (const ref of unread) looked.add(ref);
    const rows = await db.query<{ content: string }>(`SELECT content::text AS content FROM resource WHERE resource_type = 'Patient' AND id = ANY($1::text[])`, [unread.map((r) => r.slice('Patient/'.length))]);
    for (const row of rows.rows) {
      const patient = parseStoredResource(row.content) as Patient;
      mergedInto.set(`Patient/${patient.id ?? ''}`, replacedBy(patient));
    }
  }
  const survivors = new Map<string, string>();
  for (const start of starts) {
    if (!mergedInto.has(start)) continue;
    // A merged record cannot be merged again, so merges make no cycle; a hand-edited store should not hang us either.
    const seen = new Set([start]);
    let at = start;
    for (let to = mergedInto.get(at); to !== undefined && mergedInto.has(to) && !seen.has(to); to = mergedInto.get(at)) {
      seen.add(to);
      at = to;
    }
    survivors.set(start, at);
  }
  return survivors;
}

const withoutLink = (links: PatientLink[] | undefined, type: PatientLink['type'], other: string): PatientLink[] =>
  (links ?? []).filter((l) => !(l.type === type && l.other.reference === `Patient/${other}`));

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
    const mergedAfter: Patient = { ...merged, active: false, link: [...withoutLink(merged.link, 'replaced-by', survivorId), { other: { reference: `Patient/${survivorId}` }, type: 'replaced-by' }] };
    const survivorAfter: Patient = { ...survivor, link: [...withoutLink(survivor.link, 'replaces', mergedId), { other: { reference: `Patient/${mergedId}` }, type: 'replaces' }] };
    await writeResourcesInTransaction(tx, [mergedAfter, survivorAfter, ...moved], now);
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
    await lockWriteKeys(tx, [`Patient/${input.mergedId}`, `Patient/${merge.survivor_id}`, ...merge.moved]);
    const merged = (await loadResource(tx, 'Patient', input.mergedId)) as Patient;
    const survivor = (await loadResource(tx, 'Patient', merge.survivor_id)) as Patient;
    const back: Resource[] = [];
    for (const key of merge.moved) {
      const [type, id] = key.split('/') as [string, string];
      const resource = await loadResource(tx, type, id);
      if (resource) back.push(moveReferences(resource, `Patient/${merge.survivor_id}`, `Patient/${input.mergedId}`));
    }
    const { active: _active, ...mergedRest } = merged;
    const mergedLinks = withoutLink(merged.link, 'replaced-by', merge.survivor_id);
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
