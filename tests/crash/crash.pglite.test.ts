import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../gateway/store/store';
import { missingBatches, runAndKill } from './crash-harness';

describe('crash safety of the embedded store (PGlite)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-crash-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('kill -9 during writes, three times: the store opens and every acknowledged write is there', async () => {
    const acknowledged: Record<string, number[]> = {};
    for (const run of ['r1', 'r2', 'r3']) {
      // Each restart must get past the lock file the killed process left behind.
      acknowledged[run] = await runAndKill(run, { DATA_DIR: dir, DATABASE_URL: '' }, 5);
      expect(acknowledged[run].length).toBeGreaterThanOrEqual(5);
    }
    const store = await Store.open({ dataDir: dir });
    try {
      for (const [run, acked] of Object.entries(acknowledged)) expect(await missingBatches(store, run, acked)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
