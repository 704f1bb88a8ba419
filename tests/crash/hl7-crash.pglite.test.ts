import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../gateway/store/store';
import { ackProblems, HL7_CRASH_PLAN, runHl7Crash } from './hl7-crash-harness';
import { checkExactlyOnce } from './hl7-exactly-once';

describe('crash safety of the hospital feed on PGlite', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-hl7-crash-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // Slow by nature: the in-process worker applies about 30 messages/s on PGlite on 2 cores.
  test('kill -9 of the gateway three times while 5,000 admissions stream in over MLLP: after restart every message is applied exactly once', async () => {
    const run = await runHl7Crash({ ...HL7_CRASH_PLAN, env: { DATA_DIR: dir, DATABASE_URL: '' } });
    expect(run.kills.length).toBe(3);
    // Messages in flight at each kill were retransmitted, some after a reply timeout (the hang).
    expect(run.sender.retransmissions).toBeGreaterThan(0);
    expect(run.sender.timeouts).toBeGreaterThan(0);
    expect(ackProblems(run)).toEqual([]);
    const store = await Store.open({ dataDir: dir });
    try {
      const summary = await checkExactlyOnce(store.engine, HL7_CRASH_PLAN.messages, run.controlIds);
      expect(summary.problems).toEqual([]);
    } finally {
      await store.close();
    }
  }, 420_000);
});
