import { AuditTrail } from '../../gateway/audit/audit-trail';
import { CheckpointKeySet, generateSigningKeyPem, signerFromPem } from '../../gateway/audit/signing';
import { verifyAuditTrail } from '../../gateway/audit/verify';
import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { readRecord, requester } from './support';

/**
 * Two API processes on one PostgreSQL: two stores (separate pools, separate connections), each with
 * its own AuditTrail and group-commit writer, appending at once. The chain must come out as one
 * line: seq 1..N without gaps, each entry linked to the one before, whichever process wrote it.
 */
describe('audit trail with concurrent writers on PostgreSQL', () => {
  let db: { url: string; drop: () => Promise<void> };
  let a: Store;
  let b: Store;
  beforeAll(async () => {
    db = await createTestDatabase();
    a = await Store.open({ databaseUrl: db.url, poolSize: 4 });
    b = await Store.open({ databaseUrl: db.url, poolSize: 4 });
    await Promise.all([a.migrate(), b.migrate()]);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });

  test('two processes writing at once keep one linear chain, with every entry and signed checkpoints that verify', async () => {
    const signer = await signerFromPem(generateSigningKeyPem());
    const trailA = new AuditTrail({ engine: a.engine, node: 'node-a', signer, checkpointEvery: 50, maxBatch: 20 });
    const trailB = new AuditTrail({ engine: b.engine, node: 'node-b', signer, checkpointEvery: 50, maxBatch: 20 });
    const perNode = 150;
    // Waves of concurrent requests on both nodes.
    for (let wave = 0; wave < 5; wave++) {
      const calls: Promise<void>[] = [];
      for (let i = 0; i < perNode / 5; i++) {
        const n = wave * 1000 + i;
        calls.push(trailA.record(readRecord(n, { request: { ...readRecord(n).request, requestId: `a-${String(n)}` } }, requester({ userId: 'user-a' }))));
        calls.push(trailB.record(readRecord(n, { request: { ...readRecord(n).request, requestId: `b-${String(n)}` } }, requester({ userId: 'user-b' }))));
      }
      await Promise.all(calls);
    }
    await Promise.all([trailA.close(), trailB.close()]);

    const rows = (await a.engine.query<{ seq: string; request_id: string; event: { source: { observer: { identifier: { value: string } } } } }>('SELECT seq, request_id, event FROM audit_event ORDER BY seq')).rows;
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 2 * perNode }, (_, i) => i + 1));
    expect(rows.filter((r) => r.request_id.startsWith('a-'))).toHaveLength(perNode);
    expect(rows.filter((r) => r.request_id.startsWith('b-'))).toHaveLength(perNode);
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(2 * perNode);
    // Both nodes' entries are interleaved in the one chain.
    const observers = new Set(rows.map((r) => r.event.source.observer.identifier.value));
    expect(observers).toEqual(new Set(['node-a', 'node-b']));

    const report = await verifyAuditTrail(a.engine, await CheckpointKeySet.from({ signers: [signer] }));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.entries).toBe(2 * perNode);
    expect(report.checkpoints).toBeGreaterThanOrEqual(5);
  });

  test('group commit: requests arriving while a batch is in flight are committed together in the next transaction', async () => {
    const trail = new AuditTrail({ engine: a.engine, node: 'node-a' });
    const before = Number((await a.engine.query<{ seq: string }>('SELECT seq FROM audit_chain_head')).rows[0]?.seq);
    // 40 requests in one tick: the first starts a transaction at once, the other 39 queue behind it.
    await Promise.all(Array.from({ length: 40 }, (_, i) => trail.record(readRecord(i, { request: { ...readRecord(i).request, requestId: `gc-${String(i)}` } }))));
    await trail.close();
    const rows = (await a.engine.query<{ seq: string; tx: string; request_id: string }>('SELECT seq, tx, request_id FROM audit_event WHERE seq > $1 ORDER BY seq', [before])).rows;
    expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 40 }, (_, i) => `gc-${String(i)}`));
    const transactions = [...new Set(rows.map((r) => r.tx))];
    expect(transactions).toHaveLength(2);
    expect(rows.filter((r) => r.tx === transactions[0]).map((r) => r.request_id)).toEqual(['gc-0']);
    expect(rows.filter((r) => r.tx === transactions[1])).toHaveLength(39);
  });
});
