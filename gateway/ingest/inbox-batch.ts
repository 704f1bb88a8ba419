import type { Logger } from 'pino';
import { type InboxStatus } from '../store/inbox';
import type { SqlClient } from '../store/engine';
import type { Store } from '../store/store';
import { processInboxItem, type InboxHandler, type InboxItem, type ProcessOptions, type ProcessResult } from './inbox-processor';

/**
 * Applying many inbox rows in one transaction: one commit (one WAL flush) and one round of bulk
 * statements for the lot instead of thirty-odd statements and two or three commits per row.
 *
 *   1. prepare (no writes): each item is either a permanent failure (malformed, not applicable),
 *      an item to apply alone (an A40 merge: it is a barrier, nothing after it overtakes it), or a
 *      unit with the keys it writes (its patient, its visit).
 *   2. layering: an item goes into the first round after every earlier item sharing one of its
 *      keys, so one patient's or one visit's messages are applied in arrival order, each in its
 *      own round, while unrelated messages share a round.
 *   3. each round is one transaction: the handler's bulk apply plus the rows marked done. If the
 *      round fails (a transient error, or one bad message), its items fall back to being applied
 *      one by one through processInboxItem, so one failure fails only itself, with the usual
 *      retry, backoff and dead-letter handling.
 *
 * Exactly-once holds as for one row: a round's writes and its rows' `done` commit together, and
 * everything it writes is idempotent, so a crash mid-round leaves the rows pending and a re-run
 * writes the same.
 */
export interface PreparedItem<U> {
  readonly id: string;
  /** A message that can never be applied: the row is marked failed, never retried. */
  readonly failure?: string;
  /** Applied alone, through the per-item handler, after everything before it and before everything after it. */
  readonly alone?: boolean;
  /** What the item writes that another item of the same round must not: patient and visit keys. */
  readonly keys?: readonly string[];
  readonly unit?: U;
}

export interface InboxBatchHandler<U> {
  prepare(items: readonly InboxItem[]): Promise<PreparedItem<U>[]> | PreparedItem<U>[];
  /** Applies units that share no key, in the caller's transaction; resolves with each item's outcome. */
  apply(tx: SqlClient, units: readonly { id: string; unit: U }[]): Promise<Map<string, Record<string, unknown>>>;
}

export interface BatchResult {
  readonly results: Map<string, ProcessResult>;
  /** Rounds applied as one transaction, and items applied one by one (alone, or after a failed round). */
  readonly rounds: number;
  readonly oneByOne: number;
}

interface LoadedRow {
  id: string;
  source: string;
  kind: string;
  status: InboxStatus;
  content: Uint8Array;
  received_at: Date;
}

/** Items in the order given (arrival order), split into rounds of items sharing no key. */
export function layerIntoRounds<U>(prepared: readonly PreparedItem<U>[]): (PreparedItem<U> | PreparedItem<U>[])[] {
  const steps: (PreparedItem<U> | PreparedItem<U>[])[] = [];
  let rounds: PreparedItem<U>[][] = [];
  const lastRoundOf = new Map<string, number>();
  const flush = (): void => {
    steps.push(...rounds.filter((r) => r.length > 0));
    rounds = [];
    lastRoundOf.clear();
  };
  for (const item of prepared) {
    if (item.failure !== undefined) continue;
    if (item.alone) {
      flush();
      steps.push(item);
      continue;
    }
    const keys = item.keys ?? [];
    const round = keys.reduce((r, k) => Math.max(r, (lastRoundOf.get(k) ?? -1) + 1), 0);
    while (rounds.length <= round) rounds.push([]);
    rounds[round]?.push(item);
    for (const k of keys) lastRoundOf.set(k, round);
  }
  flush();
  return steps;
}

export async function processInboxBatch<U>(
  store: Store,
  ids: readonly string[],
  kind: string,
  batchHandler: InboxBatchHandler<U>,
  itemHandlers: Readonly<Record<string, InboxHandler>>,
  options: ProcessOptions & { logger?: Logger } = {},
): Promise<BatchResult> {
  const results = new Map<string, ProcessResult>();
  let oneByOne = 0;
  let rounds = 0;
  const one = async (id: string): Promise<void> => {
    oneByOne++;
    results.set(id, await processInboxItem(store, id, itemHandlers, options));
  };
  const loaded = await store.engine.query<LoadedRow>(
    `SELECT id::text AS id, source, kind, status, content, received_at FROM inbox WHERE id = ANY($1::bigint[]) AND status IN ('pending', 'retry') ORDER BY inbox.id`,
    [ids],
  );
  const found = new Set(loaded.rows.map((r) => r.id));
  for (const id of ids) if (!found.has(id)) results.set(id, 'skipped');
  // Rows of another kind go their own way, one by one.
  const ours = loaded.rows.filter((r) => r.kind === kind);
  for (const row of loaded.rows) if (row.kind !== kind) await one(row.id);
  const items: InboxItem[] = ours.map((r) => ({ id: r.id, source: r.source, kind: r.kind, content: Buffer.from(r.content), receivedAt: new Date(r.received_at) }));
  const prepared = await batchHandler.prepare(items);

  const failures = prepared.filter((p) => p.failure !== undefined);
  if (failures.length > 0) {
    await store.engine.query(
      `UPDATE inbox SET status = 'failed', outcome = COALESCE(outcome, '{}'::jsonb), last_error = x.e, attempts = attempts + 1, processed_at = now(), updated_at = now()
         FROM unnest($1::bigint[], $2::text[]) AS x(i, e) WHERE inbox.id = x.i`,
      [failures.map((f) => f.id), failures.map((f) => f.failure ?? '')],
    );
    for (const f of failures) {
      results.set(f.id, 'failed');
      options.logger?.warn({ inboxId: f.id, kind }, 'inbox item failed permanently');
    }
  }

  for (const step of layerIntoRounds(prepared)) {
    if (!Array.isArray(step)) {
      await one(step.id);
      continue;
    }
    const units = step.map((p) => ({ id: p.id, unit: p.unit as U }));
    try {
      await store.engine.transaction(async (tx) => {
        const outcomes = await batchHandler.apply(tx, units);
        const done = units.map((u) => u.id);
        await tx.query(
          `UPDATE inbox SET status = 'done', outcome = COALESCE(outcome, '{}'::jsonb) || x.o::jsonb, last_error = NULL, attempts = attempts + 1, processed_at = now(), updated_at = now()
             FROM unnest($1::bigint[], $2::text[]) AS x(i, o) WHERE inbox.id = x.i`,
          [done, done.map((id) => JSON.stringify(outcomes.get(id) ?? {}))],
        );
      });
      rounds++;
      for (const u of units) results.set(u.id, 'done');
    } catch (err) {
      options.logger?.warn({ err, items: units.length, kind }, 'inbox batch failed; applying its items one by one');
      for (const u of units) await one(u.id);
    }
  }
  return { results, rounds, oneByOne };
}
