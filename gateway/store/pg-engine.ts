import { createHash } from 'node:crypto';
import { Pool, type PoolClient, type QueryConfig } from 'pg';
import { EngineKind, type QueryResult, type SqlClient, type SqlEngine } from './engine';

/**
 * Server-side prepared statements for the statements run again and again (reads by id, the access
 * epoch, the audit append, the intakes' batch writes): PostgreSQL then parses and plans each once
 * per connection instead of on every call, which for the small statements of a read is most of
 * their cost. A statement ending in NOT_PREPARED is always run unnamed: identity resolution's
 * closure step ran three times slower prepared (33 → 100–130 ms a call, at 20,000 records), generic
 * plan or not. As PgJDBC's prepareThreshold does, a statement text is prepared once it has been run
 * PREPARE_AFTER times with parameters, and no more than MAX_PREPARED texts are, so that
 * statements built from a request (searches) cannot fill the server's memory. The name is a hash
 * of the text, so one name never stands for two texts.
 */
export const PREPARE_AFTER = 5;
/** PostgreSQL's "cached plan must not change result type" (feature_not_supported). */
const CACHED_PLAN_CHANGED = '0A000';
export const MAX_PREPARED = 500;
/** Ends a statement that must be planned as an unnamed one, with its parameters' values, every time. */
export const NOT_PREPARED = ' /* not prepared */';

export class StatementNames {
  private readonly seen = new Map<string, number>();
  private readonly names = new Map<string, string>();

  constructor(
    private readonly prepareAfter = PREPARE_AFTER,
    private readonly maxPrepared = MAX_PREPARED,
  ) {}

  /** The prepared statement's name for this text, once it has earned one. */
  nameFor(sql: string): string | undefined {
    if (sql.endsWith(NOT_PREPARED)) return undefined;
    const named = this.names.get(sql);
    if (named !== undefined || this.names.size >= this.maxPrepared) return named;
    const count = (this.seen.get(sql) ?? 0) + 1;
    if (count < this.prepareAfter) {
      // Texts seen once or twice (searches) are forgotten rather than counted for ever.
      if (this.seen.size >= 10 * this.maxPrepared) this.seen.clear();
      this.seen.set(sql, count);
      return undefined;
    }
    this.seen.delete(sql);
    const name = `cb_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    this.names.set(sql, name);
    return name;
  }

  get prepared(): number {
    return this.names.size;
  }
}

function wrap(client: Pool | PoolClient, names: StatementNames): SqlClient {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const name = params && params.length > 0 ? names.nameFor(sql) : undefined;
      const unnamed: QueryConfig = { text: sql, ...(params ? { values: params as unknown[] } : {}) };
      let result;
      try {
        result = await client.query(name ? { ...unnamed, name } : unnamed);
      } catch (err) {
        // A table changed under a prepared statement whose columns it names by `*` (another process's
        // migration, mid-deploy): this connection keeps the old plan, so run the text unprepared.
        // (Inside a transaction the error stands: the transaction is aborted and its caller retries.)
        if (!name || (err as { code?: string }).code !== CACHED_PLAN_CHANGED) throw err;
        result = await client.query(unnamed);
      }
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
  };
}

/** PostgreSQL through node-postgres: the production engine. */
export class PostgresEngine implements SqlEngine {
  readonly kind = EngineKind.POSTGRES;
  private readonly pool: Pool;
  private readonly direct: SqlClient;
  /**
   * One naming for the pool: each connection prepares a named statement the first time it runs it.
   * DATABASE_PREPARED_STATEMENTS=false turns it off (a connection pooler in transaction mode
   * without prepared-statement support, such as PgBouncer before 1.21).
   */
  readonly statements = new StatementNames(PREPARE_AFTER, process.env['DATABASE_PREPARED_STATEMENTS'] === 'false' ? 0 : MAX_PREPARED);

  constructor(connectionString: string, poolSize = 10) {
    this.pool = new Pool({ connectionString, max: poolSize });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.direct = wrap(this.pool, this.statements);
  }

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.direct.query<R>(sql, params);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(wrap(client, this.statements));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
