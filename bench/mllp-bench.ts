import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Registry } from 'prom-client';
import { MllpClient } from '../adapters/hl7v2/mllp-client';
import { parseHl7 } from '../adapters/hl7v2/parse';
import { mapForSender } from '../gateway/hl7v2/apply';
import { startHl7Feed } from '../gateway/hl7v2/feed';
import { senderDirectory } from '../gateway/hl7v2/senders';
import { createLogger } from '../gateway/logger';
import { INBOX_QUEUE_NAME } from '../gateway/queue/bullmq-queue';
import type { Store } from '../gateway/store/store';
import type { BenchStores } from './bench-stores';
import { mllpBenchTraffic, MLLP_BENCH_SENDER } from './mllp-data';
import { msSince, summarise, yieldToEventLoop, type LatencySummary } from './stats';
import { formatTable, ms, percent, rate } from './table';

/**
 * The hospital feed end to end: the real feed (MLLP listener, intake with its inbox commit before
 * the ACK, the in-process inbox worker that maps, folds, upserts, resolves identity and records
 * the outbox) on a fresh store, driven by 1 or 8 MLLP senders that each wait for their ACK before
 * the next message, as interface engines do. Throughput is messages from the first send until the
 * last message is applied (every inbox row done and every visit's Encounter finished); ACK
 * latency is send → ACK per message. The senders run in this process, on the same cores.
 * With REDIS_URL, PostgreSQL with 8 senders runs once more with BullMQ workers applying the inbox.
 *
 * Parse+map: parseHl7 + the mapping of the same messages in one process, against a bare split of
 * each message into segments and fields (the ceiling: what any parser must at least do).
 */
export interface MllpRun {
  readonly engine: 'pglite' | 'postgres';
  /** Who applies the inbox: the batching worker of the same process, or BullMQ workers over Redis (the scale-out deployment). */
  readonly workers: 'in-process' | 'BullMQ';
  readonly connections: number;
  readonly messages: number;
  readonly patients: number;
  /** First send until the last ACK. */
  readonly ackedMs: number;
  /** First send until every message is applied. */
  readonly appliedMs: number;
  readonly appliedPerSecond: number;
  readonly ack: LatencySummary;
  /** ACKs other than AA (must be 0: every message is valid). */
  readonly notAccepted: number;
  readonly failedRows: number;
}

export interface ParseMapResult {
  readonly messages: number;
  readonly rounds: number;
  readonly parseMapPerSecond: number;
  readonly parseOnlyPerSecond: number;
  readonly bareSplitPerSecond: number;
}

export interface MllpResults {
  readonly runs: MllpRun[];
  readonly parseMap: ParseMapResult;
  readonly goals: { readonly postgresAppliedPerSecondAt8: number; readonly ackP99Ms: number; readonly parseMapPerSecond: number };
}

export const MLLP_GOALS = { postgresAppliedPerSecondAt8: 1_000, ackP99Ms: 10, parseMapPerSecond: 10_000 } as const;

function msa1(ack: Buffer): string {
  const text = ack.toString('latin1');
  const at = text.indexOf('\rMSA|');
  return at < 0 ? '' : text.slice(at + 5, at + 7);
}

/**
 * Rows not yet applied: a probe of the pending-rows index, cheap enough to poll every 20 ms without
 * taking the database's time from the worker being measured (counting finished Encounters reads
 * every resource row: about 5 ms a poll at 1,200 messages, a fifth of a core).
 */
async function unappliedRows(store: Store): Promise<number> {
  const rows = await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE status IN ('pending', 'retry') AND kind = 'hl7v2'`);
  return rows.rows[0]?.n ?? 0;
}

async function appliedCounts(store: Store): Promise<{ finished: number; done: number; failed: number }> {
  const rows = await store.engine.query<{ done: number; failed: number; finished: number }>(
    `SELECT (SELECT count(*) FROM inbox WHERE kind = 'hl7v2' AND status = 'done')::int AS done,
            (SELECT count(*) FROM inbox WHERE kind = 'hl7v2' AND status IN ('failed', 'dead'))::int AS failed,
            (SELECT count(*) FROM resource WHERE resource_type = 'Encounter' AND content->>'status' = 'finished')::int AS finished`,
  );
  return rows.rows[0] ?? { done: 0, failed: 0, finished: 0 };
}

/** A fresh store numbers its inbox rows from 1 again: earlier runs' finished jobs of the same ids go first. */
async function emptyInboxQueue(redisUrl: string): Promise<void> {
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(INBOX_QUEUE_NAME, { connection });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

async function runOnce(stores: BenchStores, patients: number, connections: number, log: (m: string) => void, redisUrl?: string): Promise<MllpRun> {
  const traffic = mllpBenchTraffic(patients, connections);
  const store = await stores.fresh(`mllp_${String(connections)}${redisUrl ? '_bullmq' : ''}`);
  const feed = await startHl7Feed({ store, logger: createLogger('silent'), registry: new Registry(), listenMllp: true, mllpPort: 0, runWorkers: true, ...(redisUrl ? { redisUrl } : {}) });
  const clients = traffic.perConnection.map(() => new MllpClient({ host: '127.0.0.1', port: feed.mllpPort ?? 0, timeoutMs: 60_000 }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    log(`${String(connections)} connection(s), ${rate(traffic.messages)} messages for ${rate(patients)} patients…`);
    const latencies: number[] = [];
    let notAccepted = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      clients.map(async (client, c) => {
        for (const payload of traffic.perConnection[c] ?? []) {
          const sent = process.hrtime.bigint();
          const ack = await client.send(payload);
          latencies.push(msSince(sent));
          if (msa1(ack) !== 'AA') notAccepted++;
        }
      }),
    );
    const ackedMs = msSince(start);
    // Every row is in the inbox once its ACK is in (the intake commits before it answers); a row is
    // marked done in the transaction that writes its resources, so no pending row left means applied.
    // The full count below then checks it.
    let counts = { finished: 0, done: 0, failed: 0 };
    for (;;) {
      while ((await unappliedRows(store)) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      counts = await appliedCounts(store);
      if (counts.done + counts.failed >= traffic.messages && (counts.failed > 0 || counts.finished >= patients)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const appliedMs = msSince(start);
    if (counts.finished !== patients) throw new Error(`expected ${String(patients)} finished Encounters, found ${String(counts.finished)} (${String(counts.failed)} rows failed)`);
    return {
      engine: stores.engine,
      workers: redisUrl ? 'BullMQ' : 'in-process',
      connections,
      messages: traffic.messages,
      patients,
      ackedMs,
      appliedMs,
      appliedPerSecond: (traffic.messages / appliedMs) * 1000,
      ack: summarise(latencies),
      notAccepted,
      failedRows: counts.failed,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await feed.close();
  }
}

/** Parse+map against a bare split, alternating rounds over the same messages until minMs has passed for each. */
export async function benchParseMap(messages: readonly Buffer[], minMs = 2_000): Promise<ParseMapResult> {
  const sender = senderDirectory().senderOf({ sendingFacility: MLLP_BENCH_SENDER.facility, sendingApplication: MLLP_BENCH_SENDER.application });
  const receivedAt = new Date().toISOString();
  let mapMs = 0;
  let parseMs = 0;
  let splitMs = 0;
  let rounds = 0;
  let fields = 0;
  // Warm-up: JIT and caches (FHIR definitions, time zone offsets).
  for (const m of messages.slice(0, 200)) {
    const parsed = parseHl7(m);
    if (parsed.ok) mapForSender(parsed.message, sender, receivedAt);
  }
  while (rounds < 2 || mapMs < minMs || splitMs < minMs / 20) {
    let t = process.hrtime.bigint();
    for (const m of messages) {
      const parsed = parseHl7(m);
      if (!parsed.ok) throw new Error(`benchmark message did not parse: ${parsed.error.text}`);
      const result = mapForSender(parsed.message, sender, receivedAt);
      if (!result.event) throw new Error('benchmark message mapped to no event');
    }
    mapMs += msSince(t);
    t = process.hrtime.bigint();
    for (const m of messages) if (!parseHl7(m).ok) throw new Error('benchmark message did not parse');
    parseMs += msSince(t);
    t = process.hrtime.bigint();
    for (const m of messages) {
      for (const segment of m.toString('latin1').split('\r')) fields += segment.split('|').length;
    }
    splitMs += msSince(t);
    rounds++;
    await yieldToEventLoop();
  }
  if (fields === 0) throw new Error('bare split saw no fields');
  const total = messages.length * rounds;
  return { messages: messages.length, rounds, parseMapPerSecond: (total / mapMs) * 1000, parseOnlyPerSecond: (total / parseMs) * 1000, bareSplitPerSecond: (total / splitMs) * 1000 };
}

/**
 * `redisUrl`: also run PostgreSQL with 8 senders and BullMQ workers (in this process, on Redis), as
 * `carebridge serve --role worker` processes apply the feed in the multi-node deployment.
 * Parse+map is measured first, on a fresh process: after the end-to-end runs the same loop has
 * measured about half as fast in the same process (its heap grown to some 200 MB), with nothing
 * else running; the end-to-end figures include whatever that costs.
 */
export async function benchMllp(engines: readonly (() => BenchStores)[], patients: number, connectionCounts: readonly number[], log: (m: string) => void, redisUrl?: string): Promise<MllpResults> {
  log('parse+map against a bare split…');
  const parseMap = await benchParseMap(mllpBenchTraffic(Math.min(patients, 2_000), 1).perConnection[0] ?? []);
  const runs: MllpRun[] = [];
  for (const make of engines) {
    const stores = make();
    try {
      for (const connections of connectionCounts) runs.push(await runOnce(stores, patients, connections, (m) => log(`[${stores.engine}] ${m}`)));
      if (redisUrl && stores.engine === 'postgres') {
        await emptyInboxQueue(redisUrl);
        runs.push(await runOnce(stores, patients, 8, (m) => log(`[postgres, BullMQ] ${m}`), redisUrl));
      }
    } finally {
      await stores.dispose();
    }
  }
  return { runs, parseMap, goals: MLLP_GOALS };
}

export function mllpTable(results: MllpResults): string {
  const rows: string[][] = [['engine', 'workers', 'connections', 'messages', 'applied msg/s', 'acked in s', 'applied in s', 'ACK p50 ms', 'ACK p99 ms', 'not AA', `goal ≥ ${rate(MLLP_GOALS.postgresAppliedPerSecondAt8)}/s, p99 < ${String(MLLP_GOALS.ackP99Ms)} ms`]];
  for (const r of results.runs) {
    const goal =
      r.engine === 'postgres' && r.connections === 8
        ? `${r.appliedPerSecond >= MLLP_GOALS.postgresAppliedPerSecondAt8 ? 'met' : 'NOT MET'} / ${r.ack.p99Ms < MLLP_GOALS.ackP99Ms ? 'met' : 'NOT MET'}`
        : '—';
    rows.push([r.engine, r.workers, String(r.connections), rate(r.messages), rate(r.appliedPerSecond), (r.ackedMs / 1000).toFixed(1), (r.appliedMs / 1000).toFixed(1), ms(r.ack.p50Ms), ms(r.ack.p99Ms), rate(r.notAccepted + r.failedRows), goal]);
  }
  const p = results.parseMap;
  const parse = formatTable([
    ['path', 'messages/s', 'of bare split', `goal ≥ ${rate(MLLP_GOALS.parseMapPerSecond)}/s`],
    ['parse + map', rate(p.parseMapPerSecond), percent(p.parseMapPerSecond / p.bareSplitPerSecond), p.parseMapPerSecond >= MLLP_GOALS.parseMapPerSecond ? 'met' : 'NOT MET'],
    ['parse only', rate(p.parseOnlyPerSecond), percent(p.parseOnlyPerSecond / p.bareSplitPerSecond), '—'],
    ['bare split (ceiling)', rate(p.bareSplitPerSecond), '100%', '—'],
  ]);
  return `${formatTable(rows)}\n\n${parse}`;
}
