import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { ackProblems, HL7_CRASH_PLAN, runHl7Crash } from './hl7-crash-harness';
import { checkExactlyOnce } from './hl7-exactly-once';

describe('crash safety of the hospital feed on PostgreSQL', () => {
  // Slow by nature: the in-process worker applies about 55 messages/s on PostgreSQL on 2 cores.
  test('kill -9 of the gateway three times while 5,000 admissions stream in over MLLP: after restart every message is applied exactly once', async () => {
    const database = await createTestDatabase();
    try {
      // Its own DATA_DIR too: development keys (tokens, audit checkpoints) live there.
      const dataDir = mkdtempSync(join(tmpdir(), 'cb-hl7-crash-pg-'));
      const run = await runHl7Crash({ ...HL7_CRASH_PLAN, env: { DATABASE_URL: database.url, DATA_DIR: dataDir } });
      expect(run.kills.length).toBe(3);
      // Messages in flight at each kill were retransmitted, some after a reply timeout (the hang).
      expect(run.sender.retransmissions).toBeGreaterThan(0);
      expect(run.sender.timeouts).toBeGreaterThan(0);
      expect(ackProblems(run)).toEqual([]);
      const store = await Store.open({ databaseUrl: database.url });
      try {
        const summary = await checkExactlyOnce(store.engine, HL7_CRASH_PLAN.messages, run.controlIds);
        expect(summary.problems).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      await database.drop();
    }
  }, 300_000);
});
