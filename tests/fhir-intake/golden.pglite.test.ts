import { describeGoldenSuite } from './golden-suite';
import { openStore } from './support';

describeGoldenSuite('PGlite', async () => ({ store: await openStore(), dispose: () => Promise.resolve() }));
