import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { describeGoldenSuite } from './golden-suite';

// The expected files are written from the embedded store's run only.
describeGoldenSuite(
  'PostgreSQL',
  async () => {
    loadFhirDefinitions();
    const database = await createTestDatabase();
    const store = await Store.open({ databaseUrl: database.url });
    await store.migrate();
    return { store, dispose: database.drop };
  },
  false,
);
