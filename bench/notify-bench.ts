/**
 * Notifications: a burst of hospital events written to the outbox as the feed writes them, turned
 * into signed webhook notifications by the real dispatcher and delivery workers (in-process queue)
 * and delivered to a real HTTP receiver on loopback; against a ceiling measured in the same run:
 * bare signed HTTP POSTs of bodies of the same size to the same receiver at the same concurrency,
 * with no database at all.
 *
 * Shape: NOTIFY_SUBSCRIPTIONS subscriptions (GP practices and community teams, each on admission
 * and on discharge); every person has a practice and a team, so each event is two deliveries.
 * Latency is from the event applied (the outbox row's created_at) to the delivery recorded as
 * delivered (delivered_at), both from the database clock.
 *
 * Run on its own: `BENCH_ONLY=notify npm run bench`; knobs BENCH_NOTIFY_EVENTS (10000),
 * BENCH_NOTIFY_SUBSCRIPTIONS (1000).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CareTeam, Encounter, Patient, Resource } from '@medplum/fhirtypes';
import { createLogger } from '../gateway/logger';
import { startNotifications } from '../gateway/notify/service';
import { createSubscription } from '../gateway/notify/subscriptions';
import { postNotification, signBody } from '../gateway/notify/webhook';
import type { Store } from '../gateway/store/store';
import { ODS_ORGANIZATION_SYSTEM, sourceTeamSystem } from '../mappings/identifiers';
import type { BenchStores } from './bench-stores';
import { percentile, summarise } from './stats';
import { formatTable, ms, rate } from './table';

const COUNCIL = 'https://social-care.bench.invalid';

export interface NotifyBenchPlan {
  readonly events: number;
  readonly subscriptions: number;
  /** Delivery batches in flight at once (each up to 128 notifications). */
  readonly concurrency: number;
  /** After the burst: events per second written at a steady rate, and how many. */
  readonly steadyRate: number;
  readonly steadyEvents: number;
}

export interface NotifyBenchResults {
  readonly engine: string;
  readonly events: number;
  readonly subscriptions: number;
  readonly deliveries: number;
  readonly burstWriteMs: number;
  readonly pipeline: { readonly perSecond: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number; readonly wallMs: number };
  readonly ceiling: { readonly perSecond: number; readonly p50Ms: number; readonly p99Ms: number; readonly inFlight: number };
  /** Events at a steady rate below capacity: latency without a queue in front of it. */
  readonly steady: { readonly eventsPerSecond: number; readonly deliveries: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  /** Where the burst's time went in this process: CPU, and wall time per phase summed over concurrent batches. */
  readonly breakdown: { readonly cpuMs: number; readonly dispatchMs: number; readonly claimMs: number; readonly sendMs: number; readonly recordMs: number; readonly batches: number };
  readonly goals: { readonly deliveriesPerSecond: number; readonly p99Ms: number };
}

interface Receiver {
  readonly url: string;
  count: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = { url: '', count: 0, close: (): Promise<void> => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      receiver.count++;
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

function population(persons: number, practices: number, teams: number): Resource[] {
  const out: Resource[] = [];
  for (let i = 0; i < persons; i++) {
    const practice = `B${String(i % practices).padStart(5, '0')}`;
    const patient: Patient = { resourceType: 'Patient', id: `bench-p${String(i)}`, generalPractitioner: [{ reference: `Organization/${practice}`, identifier: { system: ODS_ORGANIZATION_SYSTEM, value: practice } }] };
    const team: CareTeam = {
      resourceType: 'CareTeam',
      id: `bench-ct${String(i)}`,
      status: 'active',
      subject: { reference: `Patient/bench-p${String(i)}` },
      participant: [{ member: { reference: `Organization/team-${String(i % teams)}`, identifier: { system: sourceTeamSystem(COUNCIL), value: `T${String(i % teams)}` } } }],
    };
    const encounter: Encounter = { resourceType: 'Encounter', id: `bench-e${String(i)}`, status: 'in-progress', class: { code: 'IMP' }, subject: { reference: `Patient/bench-p${String(i)}` } };
    out.push(patient, team, encounter);
  }
  return out;
}

async function writeEvents(store: Store, from: number, n: number, persons: number): Promise<void> {
  const idx = Array.from({ length: n }, (_, k) => from + k);
  await store.engine.query(
    `INSERT INTO outbox (kind, patient_id, encounter_id, source, inbox_id, event_time, payload)
     SELECT k, p, e, 'https://pas.bench.invalid', ib, now(), '{"changedState":true}'::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS x(k, p, e, ib)`,
    [idx.map((j) => (j % 2 === 0 ? 'admission' : 'discharge')), idx.map((j) => `bench-p${String(j % persons)}`), idx.map((j) => `bench-e${String(j % persons)}`), idx.map((j) => 10_000_000 + j)],
  );
}

async function latencies(store: Store, afterOutboxId: string): Promise<Float64Array> {
  const lat = await store.engine.query<{ ms: string }>(
    `SELECT extract(epoch FROM (d.delivered_at - e.applied_at)) * 1000 AS ms FROM notify_delivery d JOIN notify_event e ON e.outbox_id = d.outbox_id WHERE d.outbox_id > $1::bigint`,
    [afterOutboxId],
  );
  return Float64Array.from(lat.rows.map((r) => Number(r.ms))).sort();
}

async function delivered(store: Store): Promise<number> {
  const r = await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM notify_delivery WHERE status = 'delivered'`);
  return r.rows[0]?.n ?? 0;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('notify bench: deliveries did not finish in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Bare signed POSTs of a body of the given size, `inFlight` at a time. */
async function ceiling(url: string, bodyBytes: number, requests: number, inFlight: number): Promise<NotifyBenchResults['ceiling']> {
  const body = Buffer.alloc(bodyBytes, 'x');
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  const workers = Array.from({ length: inFlight }, async () => {
    while (next < requests) {
      next++;
      const t0 = process.hrtime.bigint();
      await postNotification(url, body, { 'X-CareBridge-Signature': signBody('bench-secret-bench-secret-bench-secret', body) }, 10_000);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  });
  await Promise.all(workers);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const s = summarise(latencies);
  return { perSecond: (latencies.length / wallMs) * 1000, p50Ms: s.p50Ms, p99Ms: s.p99Ms, inFlight };
}

export async function benchNotify(stores: BenchStores, plan: NotifyBenchPlan, log: (message: string) => void): Promise<NotifyBenchResults> {
  const store: Store = await stores.fresh('notify');
  const receiver = await startReceiver();
  const practices = Math.max(1, Math.floor((plan.subscriptions * 0.8) / 2));
  const teams = Math.max(1, Math.floor((plan.subscriptions - practices * 2) / 2));
  const persons = Math.min(plan.events, 5_000);
  try {
    log(`notify: ${rate(persons)} persons, ${rate(practices)} practices and ${rate(teams)} teams, each on admission and discharge…`);
    const resources = population(persons, practices, teams);
    for (let i = 0; i < resources.length; i += 500) await store.upsert(resources.slice(i, i + 500));
    for (let p = 0; p < practices; p++) {
      for (const topic of ['admission', 'discharge'] as const) {
        await createSubscription(store.engine, { topic, recipient: `${ODS_ORGANIZATION_SYSTEM}|B${String(p).padStart(5, '0')}`, cancelledEvents: [], channelType: 'rest-hook', endpoint: receiver.url, content: 'id-only', headers: [], reason: 'bench' }, { organisation: 'bench', createdBy: 'bench' });
      }
    }
    for (let t = 0; t < teams; t++) {
      for (const topic of ['admission', 'discharge'] as const) {
        await createSubscription(store.engine, { topic, recipient: `${sourceTeamSystem(COUNCIL)}|T${String(t)}`, cancelledEvents: [], channelType: 'rest-hook', endpoint: receiver.url, content: 'id-only', headers: [], reason: 'bench' }, { organisation: 'bench', createdBy: 'bench' });
      }
    }
    await stores.settle(store);
    const subscriptions = (practices + teams) * 2;
    const expected = plan.events * 2;

    const service = startNotifications({ store, logger: createLogger('silent'), runWorkers: true, publicBaseUrl: 'https://carebridge.bench', dispatchIntervalMs: 10, concurrency: plan.concurrency });
    try {
      log(`notify: burst of ${rate(plan.events)} events (${rate(expected)} deliveries to ${rate(subscriptions)} subscriptions)…`);
      const wallStart = process.hrtime.bigint();
      const cpuStart = process.cpuUsage();
      for (let i = 0; i < plan.events; i += 500) {
        await writeEvents(store, i, Math.min(500, plan.events - i), persons);
        service.wake();
      }
      const burstWriteMs = Number(process.hrtime.bigint() - wallStart) / 1e6;
      await waitUntil(async () => (await delivered(store)) >= expected, 600_000);
      const wallMs = Number(process.hrtime.bigint() - wallStart) / 1e6;
      const cpu = process.cpuUsage(cpuStart);
      const timing = service.timing();
      const burst = await latencies(store, '0');
      const span = await store.engine.query<{ ms: string }>(`SELECT extract(epoch FROM (max(d.delivered_at) - min(e.applied_at))) * 1000 AS ms FROM notify_delivery d JOIN notify_event e ON e.outbox_id = d.outbox_id`);
      const spanMs = Number(span.rows[0]?.ms ?? wallMs);
      const pipeline = { perSecond: (burst.length / spanMs) * 1000, p50Ms: percentile(burst, 50), p99Ms: percentile(burst, 99), maxMs: burst[burst.length - 1] ?? Number.NaN, wallMs };
      log(`notify: ${rate(burst.length)} deliveries in ${(spanMs / 1000).toFixed(1)} s; steady ${rate(plan.steadyRate)} events/s…`);

      // Steady: small groups every 50 ms at the planned rate.
      const lastBurst = await store.engine.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM outbox`);
      const perTick = Math.max(1, Math.round(plan.steadyRate / 20));
      const steadyStart = Date.now();
      for (let written = 0; written < plan.steadyEvents; written += perTick) {
        await writeEvents(store, plan.events + written, Math.min(perTick, plan.steadyEvents - written), persons);
        service.wake();
        const due = steadyStart + ((written + perTick) / plan.steadyRate) * 1000;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      }
      await waitUntil(async () => (await delivered(store)) >= expected + plan.steadyEvents * 2, 600_000);
      const steadyLat = await latencies(store, lastBurst.rows[0]?.id ?? '0');
      const steady = { eventsPerSecond: plan.steadyRate, deliveries: steadyLat.length, p50Ms: percentile(steadyLat, 50), p99Ms: percentile(steadyLat, 99), maxMs: steadyLat[steadyLat.length - 1] ?? Number.NaN };

      log('notify: ceiling…');
      // The same receiver, bodies of the same size (one notification's), as many in flight as the workers can have.
      const ceil = await ceiling(receiver.url, 1_400, Math.min(expected, 20_000), Math.min(256, plan.concurrency * 16));
      const breakdown = { cpuMs: (cpu.user + cpu.system) / 1000, dispatchMs: timing.dispatchMs, claimMs: timing.claimMs, sendMs: timing.sendMs, recordMs: timing.recordMs, batches: timing.batches };
      return { engine: stores.engine, events: plan.events, subscriptions, deliveries: burst.length, burstWriteMs, pipeline, ceiling: ceil, steady, breakdown, goals: { deliveriesPerSecond: 2_000, p99Ms: 250 } };
    } finally {
      await service.close();
    }
  } finally {
    await receiver.close();
  }
}

export function notifyTable(r: NotifyBenchResults, cores: number): string {
  const goal = (met: boolean): string => (met ? 'met' : 'NOT MET') + (cores === 2 ? '' : ` (on ${String(cores)} cores, goal is for 2)`);
  return (
    formatTable([
    ['engine', 'path', 'deliveries/s', 'p50 ms', 'p99 ms', 'max ms', 'n', 'goal'],
    [r.engine, 'event applied → webhook delivered', rate(r.pipeline.perSecond), ms(r.pipeline.p50Ms), ms(r.pipeline.p99Ms), ms(r.pipeline.maxMs), rate(r.deliveries), `≥ 2,000/s ${goal(r.pipeline.perSecond >= 2_000)}; p99 < 250 ms ${goal(r.pipeline.p99Ms < 250)}`],
    [r.engine, `steady ${rate(r.steady.eventsPerSecond)} events/s: applied → delivered`, rate(r.steady.eventsPerSecond * 2), ms(r.steady.p50Ms), ms(r.steady.p99Ms), ms(r.steady.maxMs), rate(r.steady.deliveries), `p99 < 250 ms ${goal(r.steady.p99Ms < 250)}`],
    [r.engine, `ceiling: bare signed POSTs, ${String(r.ceiling.inFlight)} in flight`, rate(r.ceiling.perSecond), ms(r.ceiling.p50Ms), ms(r.ceiling.p99Ms), '—', '—', '—'],
  ]) +
    `\nBurst: the pipeline ran at ${String(Math.round((r.pipeline.perSecond / r.ceiling.perSecond) * 100))}% of the ceiling; this process used ${(r.breakdown.cpuMs / 1000).toFixed(1)} s of CPU in ${(r.pipeline.wallMs / 1000).toFixed(1)} s; ` +
    `dispatch ${(r.breakdown.dispatchMs / 1000).toFixed(1)} s; over ${rate(r.breakdown.batches)} delivery batches (summed across concurrent batches): claim ${(r.breakdown.claimMs / 1000).toFixed(1)} s, send ${(r.breakdown.sendMs / 1000).toFixed(1)} s, record ${(r.breakdown.recordMs / 1000).toFixed(1)} s.`
  );
}
