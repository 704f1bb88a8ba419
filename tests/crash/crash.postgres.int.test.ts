import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { missingBatches, runAndKill } from './crash-harness';

describe('crash safety on PostgreSQL', () => {
  test('kill -9 of the gateway process during writes: every acknowledged write is there', async () => {
    const database = await createTestDatabase();
    try {
      const acknowledged: Record<string, number[]> = {};
      for (const run of ['r1', 'r2', 'r3']) {
        acknowledged[run] = await runAndKill(run, { DATABASE_URL: database.url }, 20);
        expect(acknowledged[run].length).toBeGreaterThanOrEqual(20);
      }
      const store = await Store.open({ databaseUrl: database.url });
      try {
        for (const [run, acked] of Object.entries(acknowledged)) expect(await missingBatches(store, run, acked)).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      await database.drop();
    }
  });
});
