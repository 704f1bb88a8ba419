import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { describeIdentitySuite } from './identity-suite';

describeIdentitySuite('PostgreSQL', async () => {
  const database = await createTestDatabase();
  const store = await Store.open({ databaseUrl: database.url });
  await store.migrate();
  return { store, dispose: database.drop };
});
