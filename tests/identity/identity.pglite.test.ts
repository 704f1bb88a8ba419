import { Store } from '../../gateway/store/store';
import { describeIdentitySuite } from './identity-suite';

describeIdentitySuite('PGlite', async () => {
  const store = await Store.open({});
  await store.migrate();
  return { store, dispose: () => Promise.resolve() };
});
