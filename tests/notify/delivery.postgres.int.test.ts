import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { deliverySuite } from './delivery-suite';

deliverySuite('PostgreSQL', async () => {
  const database = await createTestDatabase();
  return { store: await Store.open({ databaseUrl: database.url }), drop: database.drop };
});
