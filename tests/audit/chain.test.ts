import type { AuditEvent } from '@medplum/fhirtypes';
import { AuditTrail } from '../../gateway/audit/audit-trail';
import { entryHash, GENESIS_HASH } from '../../gateway/audit/chain';
import { generateSigningKeyPem, signerFromPem } from '../../gateway/audit/signing';
import { canonicalJson, sha256Hex } from '../../gateway/fhir/canonical-json';
import type { Store } from '../../gateway/store/store';
import { memoryStore, readRecord } from './support';
import { resetTrail } from './tamper';

describe('audit chain on PGlite', () => {
  let store: Store;
  let trail: AuditTrail;
  beforeAll(async () => {
    store = await memoryStore();
    trail = new AuditTrail({ engine: store.engine, node: 'test-node' });
  });
  afterAll(async () => {
    await trail.close();
    await store.close();
  });
  beforeEach(async () => {
    await resetTrail(store.engine);
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

  test('an entry\'s hash is sha-256 of the canonical JSON of its seq, previous hash and event, as stored', async () => {
    await trail.record(readRecord(1));
    await trail.record(readRecord(2));
    const rows = (await store.engine.query<{ seq: string; prev_hash: string; hash: string; event: AuditEvent }>('SELECT seq, prev_hash, hash, event FROM audit_event ORDER BY seq')).rows;
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.hash).toBe(sha256Hex(canonicalJson({ seq: Number(row.seq), prevHash: row.prev_hash, event: row.event })));
      expect(row.event.resourceType).toBe('AuditEvent');
    }
  });

  test('the database refuses UPDATE, DELETE and TRUNCATE of audit entries and checkpoints', async () => {
    await trail.record(readRecord(1));
    await expect(store.engine.query(`UPDATE audit_event SET user_id = 'someone-else'`)).rejects.toThrow(/append-only: UPDATE on audit_event/);
    await expect(store.engine.query('DELETE FROM audit_event')).rejects.toThrow(/append-only: DELETE on audit_event/);
    await expect(store.engine.query('TRUNCATE audit_event')).rejects.toThrow(/append-only: TRUNCATE on audit_event/);
    await expect(store.engine.query('DELETE FROM audit_chain_head')).rejects.toThrow(/append-only: DELETE on audit_chain_head/);
    await store.engine.query(`INSERT INTO audit_checkpoint (seq, hash, created, kid, jws) VALUES (1, 'h', now(), 'k', 'a.b.c')`);
    await expect(store.engine.query(`UPDATE audit_checkpoint SET hash = 'x'`)).rejects.toThrow(/append-only: UPDATE on audit_checkpoint/);
    await expect(store.engine.query('DELETE FROM audit_checkpoint')).rejects.toThrow(/append-only: DELETE on audit_checkpoint/);
    const count = (await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_event')).rows[0]?.n;
    expect(count).toBe(1);
  });

  test('group commit: entries queued while a transaction is in flight go together in the next one', async () => {
    await Promise.all(Array.from({ length: 25 }, (_, i) => trail.record(readRecord(i))));
    const rows = (await store.engine.query<{ tx: string; request_id: string }>('SELECT tx, request_id FROM audit_event ORDER BY seq')).rows;
    expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 25 }, (_, i) => `req-${String(i)}`));
    const txs = [...new Set(rows.map((r) => r.tx))];
    expect(txs).toHaveLength(2);
    expect(rows.filter((r) => r.tx === txs[1])).toHaveLength(24);
  });

  test('a batch larger than maxBatch is split into transactions of at most maxBatch entries, in order', async () => {
    const small = new AuditTrail({ engine: store.engine, node: 'test-node', maxBatch: 10 });
    await Promise.all(Array.from({ length: 25 }, (_, i) => small.record(readRecord(i))));
    await small.close();
    const rows = (await store.engine.query<{ seq: string; tx: string }>('SELECT seq, tx FROM audit_event ORDER BY seq')).rows;
    const sizes = [...new Set(rows.map((r) => r.tx))].map((tx) => rows.filter((r) => r.tx === tx).length);
    expect(sizes).toEqual([1, 10, 10, 4]);
  });

  test('a timed checkpoint is signed when the interval has passed and entries were added, not otherwise', async () => {
    let now = Date.parse('2026-11-23T09:00:00Z');
    const timed = new AuditTrail({ engine: store.engine, node: 'test-node', signer: await signerFromPem(generateSigningKeyPem()), checkpointEvery: 1000, checkpointIntervalMs: 15 * 60_000, clock: () => new Date(now) });
    expect(await timed.checkpointIfDue()).toBeUndefined();
    for (let n = 1; n <= 3; n++) await timed.record(readRecord(n));
    expect((await timed.checkpointIfDue())?.seq).toBe(3);
    now += 5 * 60_000;
    await timed.record(readRecord(4));
    expect(await timed.checkpointIfDue()).toBeUndefined();
    now += 11 * 60_000;
    const second = await timed.checkpointIfDue();
    expect(second && { seq: second.seq, time: second.time, node: second.node }).toEqual({ seq: 4, time: '2026-11-23T09:16:00.000Z', node: 'test-node' });
    now += 60 * 60_000;
    expect(await timed.checkpointIfDue()).toBeUndefined();
    await timed.close();
  });
});
