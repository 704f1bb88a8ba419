import { closeSync, existsSync, fsyncSync, openSync, readdirSync, rmSync } from 'node:fs';
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

const WRITE_STATEMENT = /^\s*(INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|TRUNCATE)\b/i;

/**
 * PGlite's PostgreSQL believes it fsyncs, but on Node the call is a no-op (electric-sql/pglite#1107):
 * a commit reaches the OS page cache, which survives a killed process but not a power cut. So after
 * every commit we fsync the newest WAL segments ourselves; WAL replay at the next start then
 * restores every acknowledged commit.
 */
function fsyncWal(pgdata: string): void {
  const walDir = join(pgdata, 'pg_wal');
  const segments = readdirSync(walDir).filter((name) => /^[0-9A-F]{24}$/.test(name)).sort();
  // A commit can straddle a segment boundary: sync the last two.
  for (const name of [...segments.slice(-2), '.']) {
    const fd = openSync(join(walDir, name), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * PGlite runs queries synchronously inside WebAssembly and resolves without giving the event loop a
 * turn; a loop of writes would starve HTTP requests, timers and signal handlers in the same process.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
    private readonly pgdata: string | undefined,
  ) {}

  private durable(): void {
    if (this.pgdata) fsyncWal(this.pgdata);
  }

  static async open(dir?: string): Promise<PgliteEngine> {
    if (!dir) return new PgliteEngine(await PGlite.create(), undefined, undefined);
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
      return new PgliteEngine(db, lock, pgdata);
    } catch (err) {
      lock.release();
      throw new EmbeddedStoreUnreadableError(pgdata, { cause: err });
    }
  }

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const result = await wrap(this.db).query<R>(sql, params);
    if (WRITE_STATEMENT.test(sql)) this.durable();
    await yieldToEventLoop();
    return result;
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const result = await this.db.transaction((tx) => fn(wrap(tx)));
    this.durable();
    await yieldToEventLoop();
    return result;
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
    this.durable();
  }

  async close(): Promise<void> {
    try {
      await this.db.close();
    } finally {
      this.lock?.release();
    }
  }
}
