import { Interaction, noAudit, permitAll, PurposeOfUse, type ReadRequest } from '../gateway/access/hooks';
import { SecureReader } from '../gateway/access/secure-reader';
import { AuditTrail } from '../gateway/audit/audit-trail';
import { CheckpointKeySet, generateSigningKeyPem, signerFromPem } from '../gateway/audit/signing';
import { verifyAuditTrail } from '../gateway/audit/verify';
import type { BenchStores } from './bench-stores';
import { summarise, type LatencySummary } from './stats';
import { syntheticPopulation } from './synthetic-data';
import { formatTable, ms, rate } from './table';

/**
 * The cost of the audit trail on the read path: read-by-id through SecureReader with the audit
 * trail (group commit, hash chain, a signed checkpoint every 1,000 entries) against the same reads
 * with no audit (the ceiling), `concurrency` requests in flight, in alternating rounds so drift on
 * a shared machine hits both alike. Then the chain is verified, and how many entries each
 * transaction carried is read back from the trail.
 */
export interface AuditBenchResult {
  readonly resources: number;
  readonly concurrency: number;
  readonly unaudited: LatencySummary & { perSecond: number };
  readonly audited: LatencySummary & { perSecond: number };
  readonly auditedOverUnaudited: number;
  readonly entries: number;
  readonly transactions: number;
  readonly entriesPerTransaction: number;
  readonly checkpoints: number;
  readonly verified: boolean;
  readonly verifyMs: number;
}

async function closedLoop(reader: SecureReader, keys: readonly { type: string; id: string }[], concurrency: number, ms: number, start: number): Promise<{ latencies: number[]; elapsedMs: number }> {
  const latencies: number[] = [];
  const began = process.hrtime.bigint();
  const deadline = Number(began) / 1e6 + ms;
  let next = start;
  const worker = async (w: number): Promise<void> => {
    while (Number(process.hrtime.bigint()) / 1e6 < deadline) {
      const key = keys[(next++ * 7919) % keys.length] as { type: string; id: string };
      const request: ReadRequest = { requestId: `bench-${String(w)}-${String(next)}`, requester: { userId: `bench-user-${String(w)}`, role: 'gp', purposeOfUse: PurposeOfUse.TREAT }, interaction: Interaction.READ, resourceType: key.type };
      const t = process.hrtime.bigint();
      const outcome = await reader.read(request, key.type, key.id);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!outcome.found) throw new Error(`bench read of ${key.type}/${key.id} found nothing`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return { latencies, elapsedMs: Number(process.hrtime.bigint() - began) / 1e6 };
}

export async function benchAudit(stores: BenchStores, options: { patients: number; seconds: number; concurrency: number; log: (m: string) => void }): Promise<AuditBenchResult> {
  const store = await stores.fresh('audit');
  const { resources } = syntheticPopulation(options.patients);
  for (let i = 0; i < resources.length; i += 500) await store.upsert(resources.slice(i, i + 500));
  await stores.settle(store);
  const keys = resources.map((r) => ({ type: r.resourceType, id: r.id as string }));
  const signer = await signerFromPem(generateSigningKeyPem());
  const trail = new AuditTrail({ engine: store.engine, node: 'bench', signer, checkpointEvery: 1000 });
  const plain = new SecureReader(store.engine, permitAll, noAudit);
  const audited = new SecureReader(store.engine, permitAll, trail);

  const rounds = 4;
  const roundMs = (options.seconds * 1000) / (2 * rounds);
  const samples = { plain: [] as number[], audited: [] as number[] };
  const elapsed = { plain: 0, audited: 0 };
  options.log(`audit: ${String(resources.length)} resources; ${String(rounds)} rounds of ${(roundMs / 1000).toFixed(1)} s each way, ${String(options.concurrency)} reads in flight…`);
  await closedLoop(plain, keys, options.concurrency, 1000, 0);
  for (let round = 0; round < rounds; round++) {
    const p = await closedLoop(plain, keys, options.concurrency, roundMs, round * 100_000);
    samples.plain.push(...p.latencies);
    elapsed.plain += p.elapsedMs;
    const a = await closedLoop(audited, keys, options.concurrency, roundMs, round * 100_000 + 50_000);
    samples.audited.push(...a.latencies);
    elapsed.audited += a.elapsedMs;
  }
  await trail.close();

  const counts = (await store.engine.query<{ entries: number; transactions: number }>('SELECT count(*)::int AS entries, count(DISTINCT tx)::int AS transactions FROM audit_event')).rows[0] ?? { entries: 0, transactions: 0 };
  const checkpoints = (await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_checkpoint')).rows[0]?.n ?? 0;
  const verifyStarted = process.hrtime.bigint();
  const report = await verifyAuditTrail(store.engine, await CheckpointKeySet.from({ signers: [signer] }));
  const verifyMs = Number(process.hrtime.bigint() - verifyStarted) / 1e6;
  const unaudited = { ...summarise(samples.plain), perSecond: (samples.plain.length / elapsed.plain) * 1000 };
  const auditedSummary = { ...summarise(samples.audited), perSecond: (samples.audited.length / elapsed.audited) * 1000 };
  return {
    resources: resources.length,
    concurrency: options.concurrency,
    unaudited,
    audited: auditedSummary,
    auditedOverUnaudited: unaudited.perSecond / auditedSummary.perSecond,
    entries: counts.entries,
    transactions: counts.transactions,
    entriesPerTransaction: counts.entries / Math.max(1, counts.transactions),
    checkpoints,
    verified: report.ok,
    verifyMs,
  };
}

export function auditTable(r: AuditBenchResult): string {
  return formatTable([
    ['read by id through SecureReader', 'reads/s', 'p50 ms', 'p99 ms', 'reads', 'cost (time per read, × unaudited)'],
    ['no audit (ceiling)', rate(r.unaudited.perSecond), ms(r.unaudited.p50Ms), ms(r.unaudited.p99Ms), rate(r.unaudited.count), '1.00×'],
    ['audited (group commit, hash chain, checkpoints)', rate(r.audited.perSecond), ms(r.audited.p50Ms), ms(r.audited.p99Ms), rate(r.audited.count), `${r.auditedOverUnaudited.toFixed(2)}×`],
  ]) +
    `\n${rate(r.entries)} audit entries in ${rate(r.transactions)} transactions (${r.entriesPerTransaction.toFixed(1)} per transaction), ${rate(r.checkpoints)} signed checkpoints; ` +
    `verify: ${r.verified ? 'chain intact' : 'FAILED'}, ${rate(r.entries / (r.verifyMs / 1000))} entries/s.`;
}
