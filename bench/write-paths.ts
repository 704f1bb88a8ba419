import type { Resource } from '@medplum/fhirtypes';
import { indexResource, patientCompartmentIds, securityLabels } from '../gateway/store/indexer';
import type { SqlClient } from '../gateway/store/engine';
import { BatchColumns, contentHash, insertIndexRows } from '../gateway/store/resource-writer';
import type { Store } from '../gateway/store/store';
import { msSince, yieldToEventLoop } from './stats';

/**
 * The two write paths being compared. The store path is `store.upsert`, the real intake write
 * (FHIRPath indexing, hashing, locking, history, one transaction per batch). The ceiling writes
 * exactly the same resource, history and index rows, computed before the clock starts, with one
 * statement for the resource and history rows (as the store), one multi-row INSERT per index
 * table, no conflict handling and nothing else in between: what the database alone costs.
 */
export interface WriteTiming {
  readonly resources: number;
  readonly batches: number;
  readonly ms: number;
  readonly perSecond: number;
}

type PreparedResource = Parameters<BatchColumns['add']>[0];

export function batchesOf<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

/** Every row the ceiling will write, built up front: version 1 of each resource, stamped `now`. */
export function prepareCeilingBatches(batches: readonly (readonly Resource[])[], now: Date): { columns: BatchColumns[]; ms: number } {
  const started = process.hrtime.bigint();
  const lastUpdated = now.toISOString();
  const columns = batches.map((batch) => {
    const b = new BatchColumns();
    for (const resource of batch) {
      const rows = indexResource(resource);
      const prepared: PreparedResource = {
        resource,
        key: `${resource.resourceType}/${resource.id as string}`,
        hash: contentHash(resource),
        indexed: { rows, patientIds: patientCompartmentIds(resource, rows), security: securityLabels(resource) },
      };
      // The same content text the store writes for a first version (resource-writer.ts writePrepared).
      const content = JSON.stringify({ ...resource, meta: { ...resource.meta, versionId: '1', lastUpdated } });
      b.add(prepared, '1', lastUpdated, content);
    }
    return b;
  });
  return { columns, ms: msSince(started) };
}

async function insertCeilingBatch(tx: SqlClient, b: BatchColumns): Promise<void> {
  const r = b.res;
  // The current row and its history row in one statement, each content sent once (as the store
  // does, resource-writer.ts writeBatch), but with no conflict handling: the ceiling's database is fresh.
  await tx.query(
    `WITH x AS MATERIALIZED (
       SELECT t, i, v::bigint AS v, u::timestamptz AS u, c, h, p::text[] AS p, s::text[] AS s
         FROM ROWS FROM (unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), jsonb_array_elements($5::jsonb), unnest($6::text[]), unnest($7::text[]), unnest($8::text[])) AS x(t, i, v, u, c, h, p, s)
     ), cur AS (
       INSERT INTO resource (resource_type, id, version_id, last_updated, content, content_hash, patient_ids, security) SELECT t, i, v, u, c, h, p, s FROM x
     )
     INSERT INTO resource_history (resource_type, id, version_id, last_updated, content, patient_ids, security) SELECT t, i, v, u, c, p, s FROM x`,
    [r.type, r.id, r.version, r.updated, `[${r.content.join(',')}]`, r.hash, r.patients, r.security],
  );
  await insertIndexRows(tx, b);
}

export interface WriteComparison {
  readonly store: WriteTiming;
  readonly ceiling: WriteTiming;
}

/**
 * Batch by batch, the store path then the ceiling for the same batch, each into its own fresh
 * store, so both see the same machine state (caches, checkpoints, JIT) as the tables grow.
 */
export async function timeWrites(storeDb: Store, ceilingDb: Store, batches: readonly (readonly Resource[])[], columns: readonly BatchColumns[], now: Date): Promise<WriteComparison> {
  let storeMs = 0;
  let ceilingMs = 0;
  let resources = 0;
  for (let i = 0; i < batches.length; i++) {
    const batch = batches[i] as readonly Resource[];
    const b = columns[i] as BatchColumns;
    const t = process.hrtime.bigint();
    const written = await storeDb.upsert(batch, { now });
    storeMs += msSince(t);
    const unchanged = written.filter((w) => !w.changed).length;
    if (unchanged > 0) throw new Error(`store.upsert left ${unchanged} of a fresh batch unchanged: the store was not empty`);
    const c = process.hrtime.bigint();
    await ceilingDb.engine.transaction((tx) => insertCeilingBatch(tx, b));
    ceilingMs += msSince(c);
    resources += batch.length;
    await yieldToEventLoop();
  }
  const timing = (ms: number): WriteTiming => ({ resources, batches: batches.length, ms, perSecond: (resources / ms) * 1000 });
  return { store: timing(storeMs), ceiling: timing(ceilingMs) };
}
