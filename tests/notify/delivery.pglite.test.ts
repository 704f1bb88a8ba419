import { Store } from '../../gateway/store/store';
import { deliverySuite } from './delivery-suite';

deliverySuite('PGlite', async () => ({ store: await Store.open({}), drop: () => Promise.resolve() }));
