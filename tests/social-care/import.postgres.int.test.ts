import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { importSuite } from './import-suite';

/** The social care importer on PostgreSQL (a fresh database for this file, dropped afterwards). */
jest.setTimeout(180_000);

let drop: (() => Promise<void>) | undefined;
afterAll(async () => {
  await drop?.();
});

importSuite(async () => {
  const db = await createTestDatabase();
  drop = db.drop;
  const store = await Store.open({ databaseUrl: db.url });
  await store.migrate();
  return store;
});
