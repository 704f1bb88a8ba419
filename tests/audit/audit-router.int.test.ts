import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { auditRouterSuite } from './audit-router-suite';

describe('privacy officer API on PostgreSQL', () => {
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });
  auditRouterSuite(async () => {
    const store = await Store.open({ databaseUrl: db.url });
    await store.migrate();
    return store;
  });
});
