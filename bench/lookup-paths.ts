import { parseSearch } from '../gateway/api/search-parser';
import { SYSTEM_SCOPE } from '../gateway/store/access-scope';
import { readResource, searchResources } from '../gateway/store/resource-reader';
import type { Store } from '../gateway/store/store';
import { NHS_NUMBER_SYSTEM } from '../mappings/identity/nhs-number';
import { msSince, summarise, yieldToEventLoop, type LatencySummary } from './stats';

/**
 * Indexed lookups, one at a time. The store path is what the API runs (the
 * search parser, the access scope, the generated SQL, parsing the stored JSON); the ceiling is the
 * bare indexed SELECT for the same answer.
 */
export interface LookupTiming extends LatencySummary {
  readonly ms: number;
  readonly perSecond: number;
}

export interface ResourceKey {
  readonly resourceType: string;
  readonly id: string;
}

export interface LookupKeys {
  readonly reads: readonly ResourceKey[];
  /** [NHS number, the Patient id it must find]. */
  readonly nhsNumbers: readonly (readonly [string, string])[];
}

/** `count` picks spread over the list by a fixed-seed LCG, the same for every path and engine. */
export function samplePicks<T>(items: readonly T[], count: number, seed = 42): T[] {
  const picks: T[] = [];
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    picks.push(items[state % items.length] as T);
  }
  return picks;
}

type Lookup<K> = (key: K) => Promise<void>;

interface Sample {
  latencies: number[];
  ms: number;
}

function timing(sample: Sample): LookupTiming {
  return { ...summarise(sample.latencies), ms: sample.ms, perSecond: (sample.latencies.length / sample.ms) * 1000 };
}

/**
 * Key by key, the store path then the ceiling, so both see the same caches and background work
 * (autovacuum after the load); stops after every key or once `maxMs` of lookups have run.
 */
async function timeLookupPair<K>(keys: readonly K[], store: Lookup<K>, ceiling: Lookup<K>, warmup: number, maxMs: number): Promise<{ store: LookupTiming; ceiling: LookupTiming }> {
  const warmupStarted = process.hrtime.bigint();
  for (const key of keys.slice(0, warmup)) {
    if (msSince(warmupStarted) >= maxMs / 5) break;
    await store(key);
    await ceiling(key);
  }
  const s: Sample = { latencies: [], ms: 0 };
  const c: Sample = { latencies: [], ms: 0 };
  for (const key of keys) {
    if (s.ms + c.ms >= maxMs) break;
    if (s.latencies.length % 100 === 0) await yieldToEventLoop();
    const t = process.hrtime.bigint();
    await store(key);
    const between = process.hrtime.bigint();
    await ceiling(key);
    const storeMs = Number(between - t) / 1e6;
    const ceilingMs = msSince(between);
    s.latencies.push(storeMs);
    s.ms += storeMs;
    c.latencies.push(ceilingMs);
    c.ms += ceilingMs;
  }
  return { store: timing(s), ceiling: timing(c) };
}

function expectOne(what: string, found: number): void {
  if (found !== 1) throw new Error(`${what} found ${found} resources, expected 1`);
}

export const storeLookups = {
  read: (store: Store): Lookup<ResourceKey> => async (key) => {
    const outcome = await readResource(store.engine, SYSTEM_SCOPE, key.resourceType, key.id);
    expectOne('store read', outcome.found && outcome.resource.id === key.id ? 1 : 0);
  },
  searchByNhsNumber: (store: Store): Lookup<readonly [string, string]> => async ([nhsNumber, patientId]) => {
    const query = parseSearch('Patient', new URLSearchParams({ identifier: `${NHS_NUMBER_SYSTEM}|${nhsNumber}` }));
    const page = await searchResources(store.engine, SYSTEM_SCOPE, query);
    expectOne('store search', page.resources.filter((r) => r.id === patientId).length === 1 ? page.resources.length : 0);
  },
};

export const ceilingLookups = {
  read: (store: Store): Lookup<ResourceKey> => async (key) => {
    const result = await store.engine.query('SELECT content FROM resource WHERE resource_type = $1 AND id = $2', [key.resourceType, key.id]);
    expectOne('ceiling read', result.rows.length);
  },
  searchByNhsNumber: (store: Store): Lookup<readonly [string, string]> => async ([nhsNumber]) => {
    const result = await store.engine.query(
      `SELECT r.content FROM sp_token x JOIN resource r ON r.resource_type = x.resource_type AND r.id = x.resource_id
        WHERE x.resource_type = $1 AND x.code = $2 AND x.value = $3 AND x.system = $4`,
      ['Patient', 'identifier', nhsNumber, NHS_NUMBER_SYSTEM],
    );
    expectOne('ceiling search', result.rows.length);
  },
};

export interface LookupResults {
  readonly read: LookupTiming;
  readonly searchByNhsNumber: LookupTiming;
}

export async function timeLookups(storeDb: Store, ceilingDb: Store, keys: LookupKeys, warmup: number, maxMsPerKind: number): Promise<{ store: LookupResults; ceiling: LookupResults }> {
  const read = await timeLookupPair(keys.reads, storeLookups.read(storeDb), ceilingLookups.read(ceilingDb), warmup, maxMsPerKind);
  const search = await timeLookupPair(keys.nhsNumbers, storeLookups.searchByNhsNumber(storeDb), ceilingLookups.searchByNhsNumber(ceilingDb), warmup, maxMsPerKind);
  return {
    store: { read: read.store, searchByNhsNumber: search.store },
    ceiling: { read: read.ceiling, searchByNhsNumber: search.ceiling },
  };
}
