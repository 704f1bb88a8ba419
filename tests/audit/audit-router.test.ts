import { auditRouterSuite } from './audit-router-suite';
import { memoryStore } from './support';

describe('privacy officer API on PGlite', () => {
  auditRouterSuite(memoryStore);
});
