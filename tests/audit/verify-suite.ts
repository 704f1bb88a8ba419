import { createPrivateKey, createPublicKey } from 'node:crypto';
import { AuditTrail } from '../../gateway/audit/audit-trail';
import { exportCheckpoints, parseCheckpointFile } from '../../gateway/audit/checkpoint-file';
import { CheckpointKeySet, generateSigningKeyPem, signerFromPem, type CheckpointSigner } from '../../gateway/audit/signing';
import { verifyAuditTrail } from '../../gateway/audit/verify';
import type { Store } from '../../gateway/store/store';
import { readRecord } from './support';
import { changeUserAndRehash, changeUserInPlace, deleteEntry, deleteStoredCheckpoints, hidePatientColumn, resetTrail, rewriteChainFrom, truncateTail } from './tamper';

/**
 * `verify` against each kind of tampering, on whichever engine `open` gives. 25 entries with a
 * checkpoint every 10 entries: signed checkpoints at seq 10 and 20.
 */
export function verifySuite(open: () => Promise<Store>): void {
  let store: Store;
  let signer: CheckpointSigner;
  let keys: CheckpointKeySet;
  let ids: Map<number, string>;
  let keyPem: string;

  beforeAll(async () => {
    keyPem = generateSigningKeyPem();
    signer = await signerFromPem(keyPem);
    keys = await CheckpointKeySet.from({ signers: [signer] });
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  beforeEach(async () => {
    await resetTrail(store.engine);
    const trail = new AuditTrail({ engine: store.engine, node: 'test-node', signer, checkpointEvery: 10 });
    for (let n = 1; n <= 25; n++) await trail.record(readRecord(n));
    await trail.close();
    const rows = (await store.engine.query<{ seq: string; id: string }>('SELECT seq, id::text AS id FROM audit_event')).rows;
    ids = new Map(rows.map((r) => [Number(r.seq), r.id]));
  });
  test('an untouched trail verifies: every entry, the head and both signed checkpoints', async () => {
    const report = await verifyAuditTrail(store.engine, keys, { pageSize: 7 });
    expect(report).toEqual({ ok: true, entries: 25, headSeq: 25, checkpoints: 2, exportedCheckpoints: 0, problems: [] });
    const checkpoints = (await store.engine.query<{ seq: string }>('SELECT seq FROM audit_checkpoint ORDER BY seq')).rows.map((r) => Number(r.seq));
    expect(checkpoints).toEqual([10, 20]);
  });

  test('an entry changed in place (trigger disabled) is named by sequence and id', async () => {
    await changeUserInPlace(store.engine, 7, 'someone-else');
    const report = await verifyAuditTrail(store.engine, keys);
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toEqual({ seq: 7, id: ids.get(7), reason: 'entry 7 was changed: its hash does not match its content' });
  });

  test('an entry changed with its own hash recomputed breaks the link to the next entry', async () => {
    await changeUserAndRehash(store.engine, 7, 'someone-else');
    const report = await verifyAuditTrail(store.engine, keys);
    expect(report.ok).toBe(false);
    expect(report.firstBroken?.seq).toBe(8);
    expect(report.firstBroken?.id).toBe(ids.get(8));
    expect(report.firstBroken?.reason).toMatch(/entry 8 does not link to entry 7/);
    // The signed checkpoint at 10 still holds: the link, not the checkpoint, caught this one.
    expect(report.problems.map((p) => p.kind)).toEqual(['entry']);
  });

  test('a deleted entry is reported missing', async () => {
    await deleteEntry(store.engine, 12);
    const report = await verifyAuditTrail(store.engine, keys);
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toEqual({ seq: 12, reason: `entry 12 missing: the next entry is seq 13 (id ${String(ids.get(13))})` });
  });

  test('a search column changed to hide a patient from the access report is caught', async () => {
    await hidePatientColumn(store.engine, 3);
    const report = await verifyAuditTrail(store.engine, keys);
    expect(report.firstBroken).toEqual({ seq: 3, id: ids.get(3), reason: 'entry 3: its patient_ids column(s) disagree with the stored event' });
  });

  test('entries cut from the end with the head moved back are caught by the signed checkpoint', async () => {
    await truncateTail(store.engine, 18);
    const report = await verifyAuditTrail(store.engine, keys);
    expect(report.ok).toBe(false);
    expect(report.entries).toBe(17);
    expect(report.firstBroken?.seq).toBe(20);
    expect(report.firstBroken?.reason).toMatch(/stored checkpoint at seq 20: entry 20 no longer exists/);
  });

  test('a consistent rewrite of the whole chain is caught by the stored checkpoints', async () => {
    await rewriteChainFrom(store.engine, 4, 'someone-else');
    const report = await verifyAuditTrail(store.engine, keys);
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toEqual({ seq: 10, id: ids.get(10), reason: `stored checkpoint at seq 10: entry 10 (id ${String(ids.get(10))}) does not have the signed hash; the chain was rewritten somewhere in entries 1-10` });
  });

  test('a rewrite that also deletes the stored checkpoints passes the database alone but not the exported checkpoints', async () => {
    const exported = await exportCheckpoints(store.engine, keys, new Date('2026-11-23T12:00:00Z'));
    const file = parseCheckpointFile(JSON.stringify(exported), 'checkpoints.json');
    expect(file).toHaveLength(2);

    await rewriteChainFrom(store.engine, 4, 'someone-else');
    await deleteStoredCheckpoints(store.engine);

    const alone = await verifyAuditTrail(store.engine, keys);
    expect(alone).toEqual({ ok: true, entries: 25, headSeq: 25, checkpoints: 0, exportedCheckpoints: 0, problems: [] });

    const withFile = await verifyAuditTrail(store.engine, keys, { exported: file });
    expect(withFile.ok).toBe(false);
    expect(withFile.firstBroken).toEqual({
      seq: 10,
      id: ids.get(10),
      reason: `checkpoints.json checkpoints[0] (seq 10): entry 10 (id ${String(ids.get(10))}) does not have the signed hash; the chain was rewritten somewhere in entries 1-10`,
    });
    expect(withFile.problems.map((p) => p.seq)).toEqual([10, 20]);
  });

  test('after a key rotation, checkpoints of the old key verify with its public key in the set, and name their key', async () => {
        // The trail so far was signed with `signer`; rotate to a new key for the next entries.
    const next = await signerFromPem(generateSigningKeyPem());
    const trail = new AuditTrail({ engine: store.engine, node: 'test-node', signer: next, checkpointEvery: 10 });
    for (let n = 26; n <= 35; n++) await trail.record(readRecord(n));
    await trail.close();
    const kids = (await store.engine.query<{ seq: string; kid: string }>('SELECT seq, kid FROM audit_checkpoint ORDER BY seq')).rows.map((r) => [Number(r.seq), r.kid]);
    expect(kids).toEqual([
      [10, signer.kid],
      [20, signer.kid],
      [30, next.kid],
    ]);
    const previousPublicPem = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'pem' }).toString();
    const rotated = await CheckpointKeySet.from({ signers: [next], publicPems: [previousPublicPem] });
    expect(await verifyAuditTrail(store.engine, rotated)).toEqual({ ok: true, entries: 35, headSeq: 35, checkpoints: 3, exportedCheckpoints: 0, problems: [] });
    const newOnly = await verifyAuditTrail(store.engine, await CheckpointKeySet.from({ signers: [next] }));
    expect(newOnly.problems.map((p) => p.seq)).toEqual([10, 20]);
  });

  test('a checkpoint signed by a key outside the verifying set is refused', async () => {
    const stranger = await CheckpointKeySet.from({ signers: [await signerFromPem(generateSigningKeyPem())] });
    const report = await verifyAuditTrail(store.engine, stranger);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.message)).toEqual([
      `checkpoint at seq 10: signed with an unknown key (kid ${signer.kid})`,
      `checkpoint at seq 20: signed with an unknown key (kid ${signer.kid})`,
    ]);
  });
}
