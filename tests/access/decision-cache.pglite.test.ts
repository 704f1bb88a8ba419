import { Store } from '../../gateway/store/store';
import { describeDecisionCacheSuite } from './decision-cache-suite';

describeDecisionCacheSuite('PGlite', async () => {
  const store = await Store.open({});
  await store.migrate();
  return { store, dispose: () => store.close() };
});
