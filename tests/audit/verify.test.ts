import { memoryStore } from './support';
import { verifySuite } from './verify-suite';

describe('carebridge audit verify on PGlite', () => {
  verifySuite(memoryStore);
});
