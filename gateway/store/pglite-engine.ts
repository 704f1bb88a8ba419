import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { lockDataDir, type DataDirLock } from './data-dir-lock';
import { EngineKind, type QueryResult, type SqlClient, type SqlEngine } from './engine';

export class EmbeddedStoreUnreadableError extends Error {
  constructor(readonly dir: string, options: { cause: unknown }) {
    super(
      `The embedded store in ${dir} could not be opened. It may have been damaged by a crash. ` +
        `Restore it from a backup, or move the directory aside to start empty; nothing has been changed.`,
      options,
    );
    this.name = 'EmbeddedStoreUnreadableError';
  }
}

function wrap(client: PGlite | Transaction): SqlClient {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await client.query<R>(sql, params as unknown[] | undefined);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
  };
}

/**
 * PGlite (PostgreSQL compiled to WebAssembly) in this process, file-backed in DATA_DIR: the
 * embedded default, so `npm start` needs nothing installed. Pass no dir for an in-memory store
 * (tests). PGlite serialises every query and transaction on its one connection.
 */
export class PgliteEngine implements SqlEngine {
  readonly kind = EngineKind.PGLITE;

  private constructor(
    private readonly db: PGlite,
    private readonly lock: DataDirLock | undefined,
  ) {}

  static async open(dir?: string): Promise<PgliteEngine> {
    if (!dir) return new PgliteEngine(await PGlite.create(), undefined);
    const lock = lockDataDir(dir);
    const pgdata = join(dir, 'pglite');
    try {
      // We hold the lock, so no other process is running PostgreSQL on this directory: a
      // postmaster.pid left behind is from a process that died and would block start-up.
      const pidFile = join(pgdata, 'postmaster.pid');
      if (existsSync(pidFile)) rmSync(pidFile);
      const db = await PGlite.create(pgdata);
      // A trivial query proves WAL recovery finished and the catalog is readable.
      await db.query('SELECT 1');
      return new PgliteEngine(db, lock);
    } catch (err) {
      lock.release();
      throw new EmbeddedStoreUnreadableError(pgdata, { cause: err });
    }
  }

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return wrap(this.db).query<R>(sql, params);
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(wrap(tx)));
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async close(): Promise<void> {
    try {
      await this.db.close();
    } finally {
      this.lock?.release();
    }
  }
}
