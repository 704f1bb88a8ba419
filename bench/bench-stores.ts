import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { Store } from '../gateway/store/store';

/**
 * Fresh, migrated stores for one engine. PGlite gets a new file-backed data directory each (the
 * embedded default is file-backed, so that is what is measured); PostgreSQL gets a new schema each
 * in the one database, selected through search_path, so a DATABASE_URL given by the user is never
 * touched outside the bench schemas, which are dropped again at the end.
 */
export interface BenchStores {
  readonly engine: 'pglite' | 'postgres';
  /** Opens a fresh, empty, migrated store under a name unique within this run. */
  fresh(name: string): Promise<Store>;
  /**
   * After the bulk write, before lookups: on PostgreSQL a VACUUM (ANALYZE) of the written tables,
   * what autovacuum would do shortly after a load anyway, so it does not run during the timed
   * reads. PGlite has no autovacuum worker, so nothing is run there: it is measured as it is left.
   */
  settle(store: Store): Promise<void>;
  /** Closes every store opened here and removes its directory or schema. */
  dispose(): Promise<void>;
  /** On a signal: removes what can be removed synchronously (PGlite directories), without closing. */
  abandon(): void;
}

const WRITTEN_TABLES = ['resource', 'resource_history', 'sp_token', 'sp_string', 'sp_date', 'sp_reference', 'sp_number'];

/** PGlite stores in new directories under parentDir (the run's temp directory). */
export function pgliteStores(parentDir: string): BenchStores {
  const opened: { store: Store; dir: string }[] = [];
  return {
    engine: 'pglite',
    async fresh(name) {
      const dir = mkdtempSync(join(parentDir, `pglite-${name}-`));
      const store = await Store.open({ dataDir: dir });
      opened.push({ store, dir });
      await store.migrate();
      return store;
    },
    settle: () => Promise.resolve(),
    async dispose() {
      for (const { store, dir } of opened.splice(0)) {
        await store.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    abandon() {
      for (const { dir } of opened.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The URL with search_path set to one schema (node-postgres passes `options` to the server). */
export function withSearchPath(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** The schema postgresStores(…).fresh(name) creates and migrates, for a second process or app on the same data. */
export const benchSchema = (name: string): string => `carebridge_bench_${name.replace(/[^a-z0-9_]/g, '_')}`;

export function postgresStores(databaseUrl: string): BenchStores {
  const admin = new Pool({ connectionString: databaseUrl, max: 1 });
  const opened: { store: Store; schema: string }[] = [];
  let ended = false;
  return {
    engine: 'postgres',
    async fresh(name) {
      const schema = benchSchema(name);
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`CREATE SCHEMA ${schema}`);
      const store = await Store.open({ databaseUrl: withSearchPath(databaseUrl, schema) });
      opened.push({ store, schema });
      await store.migrate();
      return store;
    },
    async settle(store) {
      await store.engine.exec(`VACUUM (ANALYZE) ${WRITTEN_TABLES.join(', ')}`);
    },
    async dispose() {
      for (const { store, schema } of opened.splice(0)) {
        await store.close().catch(() => undefined);
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      }
      if (!ended) {
        ended = true;
        await admin.end();
      }
    },
    // The schemas stay behind; the next run's fresh() drops them (a throw-away server goes whole).
    abandon: () => undefined,
  };
}
