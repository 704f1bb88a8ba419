import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { verifySuite } from './verify-suite';

describe('carebridge audit verify on PostgreSQL', () => {
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });
  verifySuite(async () => {
    const store = await Store.open({ databaseUrl: db.url });
    await store.migrate();
    return store;
  });
});
