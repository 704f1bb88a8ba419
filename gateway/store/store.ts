import type { Resource } from '@medplum/fhirtypes';
import { EngineKind, type SqlEngine } from './engine';
import { migrate, pendingMigrations } from './migrations';
import { PgliteEngine } from './pglite-engine';
import { PostgresEngine } from './pg-engine';
import { upsertResources, type WrittenResource } from './resource-writer';

export interface StoreOptions {
  /** postgres://… selects PostgreSQL; otherwise PGlite. */
  databaseUrl?: string;
  /** PGlite data directory; omitted means in memory (tests only). */
  dataDir?: string;
  poolSize?: number;
}

export interface Readiness {
  ok: boolean;
  engine: string;
  pendingMigrations: number[];
  error?: string;
}

/** The store: one engine, its migrations, and the intake side's write interface. */
export class Store {
  private constructor(readonly engine: SqlEngine) {}

  static async open(options: StoreOptions): Promise<Store> {
    const engine = options.databaseUrl ? new PostgresEngine(options.databaseUrl, options.poolSize) : await PgliteEngine.open(options.dataDir);
    return new Store(engine);
  }

  async migrate(): Promise<number[]> {
    const applied = await migrate(this.engine);
    // PGlite runs no autovacuum worker, so its planner has statistics only if we gather them.
    if (this.engine.kind === EngineKind.PGLITE) await this.engine.exec('ANALYZE');
    return applied;
  }

  /** Refreshes planner statistics (PGlite has no autovacuum; PostgreSQL's does this itself). */
  async analyze(): Promise<void> {
    await this.engine.exec('ANALYZE');
  }

  /** Transactional, idempotent batch upsert with an optional Provenance (see resource-writer.ts). */
  upsert(resources: readonly Resource[], options?: Parameters<typeof upsertResources>[2]): Promise<WrittenResource[]> {
    return upsertResources(this.engine, resources, options);
  }

  async readiness(): Promise<Readiness> {
    try {
      const pending = await pendingMigrations(this.engine);
      return { ok: pending.length === 0, engine: this.engine.kind, pendingMigrations: pending };
    } catch {
      return { ok: false, engine: this.engine.kind, pendingMigrations: [], error: 'store unreachable' };
    }
  }

  async countResources(): Promise<number> {
    const result = await this.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM resource');
    return result.rows[0]?.n ?? 0;
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
