import { MIGRATIONS } from '../../gateway/store/migrations';
import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { describeStoreConformance } from './conformance';

describeStoreConformance('PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  return {
    open: async () => {
      database = await createTestDatabase();
      const store = await Store.open({ databaseUrl: database.url });
      await store.migrate();
      return store;
    },
    openSecond: () => Store.open({ databaseUrl: (database as { url: string }).url }),
    dispose: async () => {
      await database?.drop();
    },
  };
});

describe('PostgreSQL migrations', () => {
  test('two processes migrating a new database at once apply each migration exactly once', async () => {
    const database = await createTestDatabase();
    const a = await Store.open({ databaseUrl: database.url });
    const b = await Store.open({ databaseUrl: database.url });
    try {
      const [appliedByA, appliedByB] = await Promise.all([a.migrate(), b.migrate()]);
      const all = MIGRATIONS.map((m) => m.version);
      expect([...appliedByA, ...appliedByB].sort((x, y) => x - y)).toEqual(all);
      const rows = await a.engine.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.rows).toEqual(all.map((version) => ({ version })));
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});
