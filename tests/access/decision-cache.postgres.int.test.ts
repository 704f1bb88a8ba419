import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { describeDecisionCacheSuite } from './decision-cache-suite';

describeDecisionCacheSuite('PostgreSQL', async () => {
  const database = await createTestDatabase();
  const store = await Store.open({ databaseUrl: database.url });
  await store.migrate();
  return {
    store,
    dispose: async () => {
      await store.close();
      await database.drop();
    },
  };
});
