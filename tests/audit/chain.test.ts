import { AuditTrail } from '../../gateway/audit/audit-trail';
import { entryHash, GENESIS_HASH } from '../../gateway/audit/chain';
import type { Store } from '../../gateway/store/store';
import { memoryStore, readRecord } from './support';

describe('audit chain on PGlite', () => {
  let store: Store;
  let trail: AuditTrail;
  beforeEach(async () => {
    store = await memoryStore();
    trail = new AuditTrail({ engine: store.engine, node: 'test-node' });
  });
  afterEach(async () => {
    await trail.close();
    await store.close();
  });

  test('entries form a linear chain from the genesis hash, and the head follows the last entry', async () => {
    for (let n = 1; n <= 3; n++) await trail.record(readRecord(n));
    const rows = (await store.engine.query<{ seq: string; prev_hash: string; hash: string; event: never }>('SELECT seq, prev_hash, hash, event FROM audit_event ORDER BY seq')).rows;
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3]);
    let prev = GENESIS_HASH;
    for (const row of rows) {
      expect(row.prev_hash).toBe(prev);
      expect(row.hash).toBe(entryHash(Number(row.seq), row.prev_hash, row.event));
      prev = row.hash;
    }
    const head = (await store.engine.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_chain_head')).rows[0];
    expect(head && Number(head.seq)).toBe(3);
    expect(head?.hash).toBe(prev);
  });

  test('the database refuses UPDATE, DELETE and TRUNCATE of audit entries', async () => {
    await trail.record(readRecord(1));
    await expect(store.engine.query(`UPDATE audit_event SET user_id = 'someone-else'`)).rejects.toThrow(/append-only: UPDATE on audit_event/);
    await expect(store.engine.query('DELETE FROM audit_event')).rejects.toThrow(/append-only: DELETE on audit_event/);
    await expect(store.engine.query('TRUNCATE audit_event')).rejects.toThrow(/append-only: TRUNCATE on audit_event/);
    await expect(store.engine.query('DELETE FROM audit_chain_head')).rejects.toThrow(/append-only: DELETE on audit_chain_head/);
    const count = (await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_event')).rows[0]?.n;
    expect(count).toBe(1);
  });
});
