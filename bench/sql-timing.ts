import type { QueryResult, SqlClient, SqlEngine } from '../gateway/store/engine';
import type { Store } from '../gateway/store/store';
import { msSince } from './stats';

/**
 * Where a write path's time goes, statement by statement, without changing the path: the store is
 * handed to the code under test as a view whose engine times every query and transaction (one
 * hrtime read each side, microseconds against statements of milliseconds). Both paths of a
 * comparison go through it, so both pay the same.
 *
 * A transaction's statements are the upsert's until the identity resolver's advisory lock and the
 * resolution's from it on (ingestResources does both in one transaction). Per phase it records each statement kind
 * (count, ms), the transactions' own overhead (connect, BEGIN, COMMIT: transaction time minus the
 * time inside fn) and the JavaScript inside fn (fn time minus its statements: parsing, the
 * linking rules, building and indexing person-level records, FHIRPath indexing of written rows).
 */
export type Phase = 'upsert' | 'resolve';

export interface StatementTiming {
  readonly phase: Phase;
  readonly label: string;
  count: number;
  ms: number;
}

export interface PhaseTotals {
  transactions: number;
  /** Whole transactions, from asking for a connection to COMMIT returning. */
  transactionMs: number;
  /** Inside fn: statements plus JavaScript between them. */
  fnMs: number;
  statementMs: number;
}

export class SqlTimings {
  readonly statements = new Map<string, StatementTiming>();
  readonly phases: Record<Phase, PhaseTotals> = {
    upsert: { transactions: 0, transactionMs: 0, fnMs: 0, statementMs: 0 },
    resolve: { transactions: 0, transactionMs: 0, fnMs: 0, statementMs: 0 },
  };

  record(phase: Phase, sql: string, ms: number): void {
    const label = statementLabel(sql);
    const key = `${phase}|${label}`;
    const entry = this.statements.get(key) ?? { phase, label, count: 0, ms: 0 };
    entry.count++;
    entry.ms += ms;
    this.statements.set(key, entry);
    this.phases[phase].statementMs += ms;
  }

  /** Statements by total time, largest first. */
  sorted(phase?: Phase): StatementTiming[] {
    return [...this.statements.values()].filter((s) => !phase || s.phase === phase).sort((a, b) => b.ms - a.ms);
  }
}

const LABELS: readonly (readonly [RegExp, string])[] = [
  [/^SELECT pg_advisory_xact_lock\(\$1\)$/, 'identity advisory lock'],
  [/pg_advisory_xact_lock\(hashtextextended/, 'per-resource advisory locks'],
  [/^SELECT r\.resource_type, r\.id, r\.version_id/, 'existing versions and hashes'],
  [/^INSERT INTO resource \(/, 'INSERT resource'],
  [/^INSERT INTO resource_history/, 'INSERT resource_history'],
  [/^DELETE FROM (sp_\w+) d USING/, 'DELETE old index rows ($1)'],
  [/^INSERT INTO (sp_\w+)/, 'INSERT $1'],
  [/^WITH candidate AS/, 'connected Patients, one closure step (members, numbers, merges, decisions)'],
  [/^WITH member AS MATERIALIZED/, 'standing state (decisions, PDS traces, persons and reviews before)'],
  [/FROM resource WHERE resource_type = 'Patient' AND id = ANY/, 'load Patients by id'],
  [/FROM sp_token WHERE resource_type = 'Patient' AND code = 'identifier'/, 'Patients sharing an NHS number (sp_token)'],
  [/FROM sp_reference WHERE resource_type = 'Patient' AND code = 'link'/, 'records merged into these (sp_reference)'],
  [/^SELECT DISTINCT unnest\((\w+\.)?members\) AS id FROM/, 'former companions (identity_person members)'],
  [/^SELECT DISTINCT (\w+\.)?patient_id AS id FROM identity_member/, 'former companions (identity_member)'],
  [/FROM identity_decision/, 'manual decisions (identity_decision)'],
  [/FROM pds_trace/, 'PDS-traced numbers (pds_trace)'],
  [/^SELECT (DISTINCT )?(\w+\.)?key, (\w+\.)?golden_id FROM identity_person WHERE key IN \(SELECT person_key FROM identity_member/, 'persons before (identity_person via identity_member)'],
  [/^SELECT (DISTINCT )?(\w+\.)?key, (\w+\.)?golden_id FROM/, 'persons before (identity_person members)'],
  [/^DELETE FROM identity_person/, 'DELETE gone persons'],
  [/^INSERT INTO identity_person/, 'UPSERT identity_person'],
  [/^INSERT INTO identity_member/, 'UPSERT identity_member'],
  [/^DELETE FROM identity_member/, 'DELETE identity_member'],
  [/^UPDATE identity_review/, 'UPDATE identity_review (resolve stale)'],
  [/^INSERT INTO identity_review/, 'UPSERT identity_review'],
];

export function statementLabel(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  for (const [pattern, label] of LABELS) {
    const match = pattern.exec(text);
    if (match) return label.replace('$1', match[1] ?? '');
  }
  return text.length > 70 ? `${text.slice(0, 67)}…` : text;
}

function timedClient(client: SqlClient, timings: SqlTimings, phaseOf: (sql: string) => Phase): SqlClient {
  return {
    async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const phase = phaseOf(sql);
      const started = process.hrtime.bigint();
      try {
        return await client.query<R>(sql, params);
      } finally {
        timings.record(phase, sql, msSince(started));
      }
    },
  };
}

const IDENTITY_LOCK = /^SELECT pg_advisory_xact_lock\(\$1\)$/;

export function timedEngine(engine: SqlEngine, timings: SqlTimings): SqlEngine {
  return {
    kind: engine.kind,
    query: timedClient(engine, timings, () => 'upsert').query,
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      // A transaction is upsert until the identity lock, resolve from it on (ingestResources runs
      // both in one transaction); the time before the lock is the upsert's, the rest the resolve's.
      let phase: Phase = 'upsert';
      let upsertStatements = 0;
      let switchedAt: bigint | undefined;
      let fnEnd: bigint | undefined;
      let inside: bigint | undefined;
      const started = process.hrtime.bigint();
      const phaseOf = (sql: string): Phase => {
        if (phase === 'upsert' && IDENTITY_LOCK.test(sql.trim())) {
          phase = 'resolve';
          switchedAt = process.hrtime.bigint();
        }
        if (phase === 'upsert') upsertStatements++;
        return phase;
      };
      try {
        return await engine.transaction(async (tx) => {
          inside = process.hrtime.bigint();
          try {
            return await fn(timedClient(tx, timings, phaseOf));
          } finally {
            fnEnd = process.hrtime.bigint();
          }
        });
      } finally {
        const ended = process.hrtime.bigint();
        const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6;
        const fnStart = inside ?? started;
        const fnStop = fnEnd ?? ended;
        if (switchedAt === undefined) {
          add(timings.phases.upsert, ms(started, ended), ms(fnStart, fnStop));
        } else {
          // Connecting and BEGIN go to the first phase, COMMIT to the last.
          if (upsertStatements > 0) add(timings.phases.upsert, ms(started, switchedAt), ms(fnStart, switchedAt));
          add(timings.phases.resolve, ms(upsertStatements > 0 ? switchedAt : started, ended), ms(upsertStatements > 0 ? switchedAt : fnStart, fnStop));
        }
      }
    },
    exec: (sql) => engine.exec(sql),
    close: () => engine.close(),
  };
}

function add(totals: PhaseTotals, transactionMs: number, fnMs: number): void {
  totals.transactions++;
  totals.transactionMs += transactionMs;
  totals.fnMs += fnMs;
}

/**
 * The store as the code under test sees it, but on the timed engine. Store's methods reach the
 * database only through `this.engine`, so a view that shadows `engine` times every statement of
 * `store.upsert` and of anything handed `store.engine` (ingestResources → resolveIdentity).
 */
export function timedStore(store: Store, timings: SqlTimings): Store {
  return Object.create(store, { engine: { value: timedEngine(store.engine, timings), enumerable: true } }) as Store;
}
