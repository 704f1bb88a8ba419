import { loadavg } from 'node:os';
import type { Resource } from '@medplum/fhirtypes';
import { GP_INBOX_KIND, gpInboxHandler, bundleKey } from '../gateway/gp/apply';
import { GpIntake } from '../gateway/gp/intake';
import { processInboxItem } from '../gateway/ingest/inbox-processor';
import { createLogger } from '../gateway/logger';
import type { Store } from '../gateway/store/store';
import { mapGpBundle } from '../mappings/gp/map-bundle';
import type { BenchStores } from './bench-stores';
import { syntheticGpRecord } from './gp-record';
import { msSince, yieldToEventLoop } from './stats';
import { formatTable, ms, percent, rate } from './table';

/**
 * GP Connect import on PostgreSQL: realistic synthetic structured records (about 300 resources
 * each) through the real path, `GpIntake.receive` (parse, map, inbox commit) then the inbox
 * handler (map, re-import check, transactional write with Provenance, identity resolution),
 * against the bare `store.upsert` of exactly the resources that path writes, in the same run,
 * taking turns at going first, each into its own fresh schema. Then every record again, a day
 * later with one repeat medication gone (re-import: mostly unchanged, eight items ended each).
 */
export interface GpPathTiming {
  readonly ms: number;
  readonly bundlesPerSecond: number;
  readonly resourcesPerSecond: number;
}

export interface GpBenchResults {
  readonly records: number;
  readonly resourcesPerRecord: number;
  readonly firstImport: { readonly gp: GpPathTiming; readonly bare: GpPathTiming; readonly fractionOfBare: number; readonly receiveMs: number; readonly applyMs: number };
  readonly reimport: { readonly gp: GpPathTiming; readonly bare: GpPathTiming; readonly fractionOfBare: number };
  readonly mapOnly: GpPathTiming;
  readonly check: { readonly sameResourceCount: boolean; readonly endedPerRecord: number; readonly expectedEndedPerRecord: number; readonly superseded: number };
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
}

const timing = (totalMs: number, bundles: number, resources: number): GpPathTiming => ({ ms: totalMs, bundlesPerSecond: (bundles / totalMs) * 1000, resourcesPerSecond: (resources / totalMs) * 1000 });

/** What the import path writes for one bundle, mapped ahead of time for the bare path. */
function writtenResources(content: Buffer, receivedAt: string): Resource[] {
  const result = mapGpBundle(JSON.parse(content.toString('utf8')) as unknown, { receivedAt, bundleKey: bundleKey(content) });
  if (!result.ok || !result.provenance) throw new Error('the synthetic record was refused by the mapping');
  return [...result.resources, result.provenance];
}

export async function benchGp(stores: BenchStores, records: number, log: (message: string) => void): Promise<GpBenchResults> {
  const loadStart = loadavg();
  const first = Array.from({ length: records }, (_, i) => Buffer.from(JSON.stringify(syntheticGpRecord(i).bundle)));
  const second = Array.from({ length: records }, (_, i) => Buffer.from(JSON.stringify(syntheticGpRecord(i, 1).bundle)));
  const receivedAt = new Date().toISOString();
  const bareFirst = first.map((b) => writtenResources(b, receivedAt));
  const bareSecond = second.map((b) => writtenResources(b, receivedAt));
  const resourcesPerRecord = (bareFirst[0]?.length ?? 1) - 1;
  log(`gp: ${rate(records)} synthetic structured records of ${rate(resourcesPerRecord)} resources (+ a Provenance each)`);

  const gpDb = await stores.fresh('gp-import');
  const bareDb = await stores.fresh('gp-bare');
  const intake = new GpIntake({ store: gpDb, queue: { enqueue: () => Promise.resolve(), depth: () => Promise.resolve(0), close: () => Promise.resolve() }, logger: createLogger('silent') });
  const handlers = { [GP_INBOX_KIND]: gpInboxHandler() };

  const importOne = async (content: Buffer): Promise<{ receive: number; apply: number }> => {
    const started = process.hrtime.bigint();
    const received = await intake.receive(content);
    const receive = msSince(started);
    if (!received.inboxId) throw new Error('the synthetic record was refused at intake');
    const applyStarted = process.hrtime.bigint();
    const result = await processInboxItem(gpDb, received.inboxId, handlers, { maxAttempts: 1 });
    if (result !== 'done') throw new Error(`the synthetic record was not applied: ${result}`);
    return { receive, apply: msSince(applyStarted) };
  };
  const bareOne = async (store: Store, resources: readonly Resource[]): Promise<number> => {
    const started = process.hrtime.bigint();
    await store.upsert(resources);
    return msSince(started);
  };

  const run = async (bundles: readonly Buffer[], bare: readonly Resource[][]): Promise<{ gp: number; bare: number; receive: number; apply: number }> => {
    const totals = { gp: 0, bare: 0, receive: 0, apply: 0 };
    for (let i = 0; i < bundles.length; i++) {
      const gpFirst = i % 2 === 0;
      if (!gpFirst) totals.bare += await bareOne(bareDb, bare[i] ?? []);
      const t = await importOne(bundles[i] as Buffer);
      totals.gp += t.receive + t.apply;
      totals.receive += t.receive;
      totals.apply += t.apply;
      if (gpFirst) totals.bare += await bareOne(bareDb, bare[i] ?? []);
      if (i % 25 === 24) await yieldToEventLoop();
    }
    return totals;
  };

  log('gp: first import, import path and bare upsert taking turns…');
  const firstRun = await run(first, bareFirst);
  log('gp: re-import a day later (one repeat gone per record)…');
  const secondRun = await run(second, bareSecond);

  log('gp: parse + map alone…');
  const mapStarted = process.hrtime.bigint();
  for (const b of first) mapGpBundle(JSON.parse(b.toString('utf8')) as unknown, { receivedAt, bundleKey: 'bench' });
  const mapMs = msSince(mapStarted);

  const count = async (store: Store, sql: string): Promise<number> => (await store.engine.query<{ n: number }>(sql)).rows[0]?.n ?? 0;
  const countSql = `SELECT count(*)::int AS n FROM resource WHERE resource_type <> 'Patient' OR NOT (content->'meta'->'tag' @> '[{"code":"person"}]'::jsonb)`;
  const gpCount = await count(gpDb, countSql);
  const bareCount = await count(bareDb, countSql);
  const ended = await count(gpDb, `SELECT count(*)::int AS n FROM resource WHERE content->'meta'->'tag' @> '[{"code":"no-longer-in-source"}]'::jsonb`);
  const superseded = await count(gpDb, `SELECT count(*)::int AS n FROM inbox WHERE kind = '${GP_INBOX_KIND}' AND outcome->>'superseded' = 'true'`);
  const firstResources = bareFirst.reduce((n, r) => n + r.length, 0);
  const secondResources = bareSecond.reduce((n, r) => n + r.length, 0);
  return {
    records,
    resourcesPerRecord,
    firstImport: { gp: timing(firstRun.gp, records, firstResources), bare: timing(firstRun.bare, records, firstResources), fractionOfBare: firstRun.bare / firstRun.gp, receiveMs: firstRun.receive, applyMs: firstRun.apply },
    reimport: { gp: timing(secondRun.gp, records, secondResources), bare: timing(secondRun.bare, records, secondResources), fractionOfBare: secondRun.bare / secondRun.gp },
    mapOnly: timing(mapMs, records, firstResources),
    // The import store holds what the bare one does (the ended versions replace rows, they add none).
    check: { sameResourceCount: gpCount === bareCount, endedPerRecord: ended / records, expectedEndedPerRecord: 8, superseded },
    loadAverage: { start: loadStart, end: loadavg() },
  };
}

export function gpTable(r: GpBenchResults): string {
  const rows: string[][] = [['pass', 'path', 'bundles', 'bundles/s', 'resources/s', 'ms per bundle', 'import speed / bare']];
  const add = (pass: string, path: string, t: GpPathTiming, fraction: string): void => {
    rows.push([pass, path, rate(r.records), t.bundlesPerSecond.toFixed(1), rate(t.resourcesPerSecond), ms(t.ms / r.records), fraction]);
  };
  add('first import', 'POST /intake/gp path (receive + apply)', r.firstImport.gp, percent(r.firstImport.fractionOfBare));
  add('first import', 'bare store.upsert of the same resources', r.firstImport.bare, '—');
  add('re-import', 'POST /intake/gp path (receive + apply)', r.reimport.gp, percent(r.reimport.fractionOfBare));
  add('re-import', 'bare store.upsert of the same resources', r.reimport.bare, '—');
  add('—', 'parse + map only (no database)', r.mapOnly, '—');
  return `${formatTable(rows)}\nfirst import: receive (parse, map, inbox commit) ${ms(r.firstImport.receiveMs / r.records)} ms, apply (map, write, identity) ${ms(r.firstImport.applyMs / r.records)} ms per bundle; check: same resource count in both stores ${r.check.sameResourceCount ? 'yes' : 'NO'}, ended per record ${r.check.endedPerRecord.toFixed(1)} (expected ${String(r.check.expectedEndedPerRecord)}), superseded ${String(r.check.superseded)}`;
}
