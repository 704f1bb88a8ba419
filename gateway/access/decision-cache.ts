import type { SqlClient, SqlEngine } from '../store/engine';

/**
 * Remembered access decisions. A decision for (requester, person) is kept with the person's
 * "epoch" read in the same snapshot as their identity links (the sum of their rows in
 * access_change, which the database's own triggers add to on every write that could change the
 * decision: see access-change-schema.ts), and is used again only while
 *  - the epoch read now is the same (one indexed statement instead of the decision's three or four
 *    and the rules' JavaScript), and
 *  - the clock has not reached the first instant at which the rules could decide otherwise for the
 *    same input (consent/validity.ts), nor the cache's own lifetime.
 * Any write committed before a request's epoch read is therefore seen by that request, in every
 * process on the same database: nothing here needs to be told of changes.
 */

/** The id whose changes concern everyone (the organisations holding each source's data). */
export const EVERYONE = '*';

export const DEFAULT_DECISION_CACHE = { maxEntries: 20_000, ttlMs: 60_000 } as const;

/** SQL for the epoch of a person whose ids are the text[] expression given, to read in the same statement as those ids. */
export const epochOfIdsSql = (ids: string): string => `(SELECT coalesce(sum(c.weight), 0)::text FROM access_change c WHERE c.patient_id = ANY(${ids} || '${EVERYONE}'::text))`;

/** The person's epoch now: the sum of the weights of their ids' changes, and everyone's. */
export async function readAccessEpoch(db: SqlClient, personIds: readonly string[]): Promise<string> {
  const rows = await db.query<{ epoch: string }>(`SELECT ${epochOfIdsSql('$1::text[]')} AS epoch`, [[...personIds]]);
  return rows.rows[0]?.epoch ?? '0';
}

/**
 * Replaces each patient's many change rows by one holding their sum, a batch of patients at a
 * time: one statement, so readers see the sums before or after, never between. Rows inserted
 * meanwhile are not in the statement's snapshot and stay as they are. Returns the rows removed.
 */
export async function compactAccessChanges(engine: SqlEngine, patientsPerBatch = 5_000): Promise<number> {
  // One process at a time (they all run the same timer): two at once would only wait on each other's rows.
  return engine.transaction(async (tx) => {
    const locked = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [COMPACTION_LOCK_KEY]);
    if (!locked.rows[0]?.locked) return 0;
    return compactIn(tx, patientsPerBatch);
  });
}

/** An arbitrary constant shared by every CareBridge process: the advisory lock key for compaction. */
const COMPACTION_LOCK_KEY = 7_200_318;

async function compactIn(db: SqlClient, patientsPerBatch: number): Promise<number> {
  const result = await db.query<{ removed: string }>(
    `WITH many AS (SELECT patient_id FROM access_change GROUP BY patient_id HAVING count(*) > 1 LIMIT $1),
          gone AS (DELETE FROM access_change c USING many WHERE c.patient_id = many.patient_id RETURNING c.patient_id, c.weight),
          kept AS (INSERT INTO access_change (patient_id, weight) SELECT patient_id, sum(weight) FROM gone GROUP BY patient_id RETURNING 1)
     SELECT ((SELECT count(*) FROM gone) - (SELECT count(*) FROM kept))::text AS removed`,
    [patientsPerBatch],
  );
  return Number(result.rows[0]?.removed ?? 0);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as Record<string, unknown>)) deepFreeze(inner);
  }
  return value;
}

interface Entry<T> {
  readonly value: T;
  readonly personIds: readonly string[];
  readonly epoch: string;
  readonly validUntil: number;
}

/** Least recently used first out; values are frozen, since every request that gets one shares it. */
export class DecisionCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly options: { readonly maxEntries: number; readonly ttlMs: number } = DEFAULT_DECISION_CACHE) {}

  /** The entry still in its time, if any (the caller checks its epoch). */
  get(key: string, nowMs: number): Entry<T> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (nowMs >= entry.validUntil) return undefined;
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: { value: T; personIds: readonly string[]; epoch: string; nowMs: number; changesAt: number | undefined }): void {
    const validUntil = Math.min(entry.nowMs + this.options.ttlMs, entry.changesAt ?? Number.POSITIVE_INFINITY);
    if (this.options.maxEntries <= 0 || validUntil <= entry.nowMs) return;
    this.entries.delete(key);
    this.entries.set(key, { value: deepFreeze(entry.value), personIds: entry.personIds, epoch: entry.epoch, validUntil });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
