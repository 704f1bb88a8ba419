import { loadConfig } from '../config';
import { loadFhirDefinitions } from '../fhir/definitions';
import { Store } from '../store/store';

/** Opens the configured store (DATABASE_URL or DATA_DIR), migrated, runs fn, and always closes it. */
export async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig();
  loadFhirDefinitions();
  const store = await Store.open({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await store.migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}
