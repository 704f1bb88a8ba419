import { Store } from '../../gateway/store/store';
import { importSuite } from './import-suite';

/** The social care importer on the embedded store (PGlite in memory). */
jest.setTimeout(180_000);

importSuite(async () => {
  const store = await Store.open({});
  await store.migrate();
  return store;
});
