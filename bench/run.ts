/**
 * `npm run bench`: the store and API benchmarks, each against a ceiling measured in the same run.
 *
 *   Store: 50,000 synthetic resources written through store.upsert (the real write path) and, batch
 *   by batch, the same rows written by bare multi-row INSERTs (the ceiling); then read-by-id and
 *   search-by-NHS-number through the real reader against the bare indexed SELECTs. On PGlite
 *   (file-backed, the embedded default) and on PostgreSQL.
 *   API: the real app on loopback, 20 concurrent keep-alive clients, read-by-id and Patient search
 *   by NHS number; req/s, p50 and p99.
 *   Identity: 100,000 synthetic source Patients from three sources (GP, hospital, council),
 *   arriving source by source in batches, through ingestResources (upsert + identity resolution)
 *   against the bare store.upsert of the same records, on PostgreSQL; the resulting persons and
 *   reviews, checked against the linking rules applied to all records at once, and where the
 *   resolution's time goes, statement by statement.
 *   Passport: red bag transfer and discharge passports for the journey test's resident on PGlite,
 *   build (load record + assemble), sign, render HTML and PDF, p50/p95 per stage and in total,
 *   against bare ceilings of each stage on the same passport (bench/passport-bench.ts).
 *   Access: read-by-id, search by NHS number and $everything of a realistic three-source record
 *   through the real app on PostgreSQL, with Caldicott access control and audit on (as
 *   gateway/server.ts composes them) against permit-all and no audit, in alternating rounds, and
 *   where the enforced time goes (bench/access-bench.ts).
 *   Viewer: the record page of persons with a realistic record (GP, 20 hospital stays, social care)
 *   on PostgreSQL, the real gateway on loopback, 20 signed-in sessions; time to first byte and to
 *   the whole page, against the same bytes from a bare server and the record's raw SQL; a
 *   step-by-step breakdown; chromium to the load event (bench/viewer-bench.ts).
 *
 * PostgreSQL is DATABASE_URL when set (only schemas named carebridge_bench_* are created and
 * dropped there), otherwise a throw-away server started for the run and removed after it.
 * Results are printed as tables and written to bench/results/latest.json (quick-run.json when a
 * knob below is set, so a quick run never replaces the published figures).
 *
 * Knobs for a quick run (defaults are the published configuration): BENCH_PATIENTS (10000; five
 * resources each), BENCH_BATCH (500, both write benchmarks), BENCH_LOOKUPS (5000),
 * BENCH_API_SECONDS (15), BENCH_IDENTITY_RECORDS (100000), BENCH_GP_RECORDS (200), BENCH_FHIR_DOCUMENTS (300),
 * BENCH_NOTIFY_EVENTS (10000), BENCH_NOTIFY_SUBSCRIPTIONS (1000), BENCH_NOTIFY_STEADY_RATE (1000 events/s),
 * BENCH_MLLP_PATIENTS (2000; three messages each), BENCH_PASSPORTS (200 rounds per passport kind),
 * BENCH_ACCESS_PATIENTS (2000), BENCH_ACCESS_SECONDS (12 per operation and configuration), BENCH_VIEWER_SECONDS (20), BENCH_VIEWER_CPU_PROFILE (a file: the gateway's CPU profile under the 20 clients),
 * BENCH_ONLY (`store`, `identity`, `audit`, `fhir`, `gp`, `notify`, `social-care`, `mllp`, `passport`, `access`, `viewer`: that part only).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadFhirDefinitions } from '../gateway/fhir/definitions';
import { Store } from '../gateway/store/store';
import { accessTable, benchAccess, type AccessBenchResult } from './access-bench';
import { breakdownTable } from './access-breakdown';
import { benchApi, type ApiPlan, type ApiResults } from './api-bench';
import { auditTable, benchAudit, type AuditBenchResult } from './audit-bench';
import { pgliteStores, postgresStores, type BenchStores } from './bench-stores';
import { benchFhirIntake } from './fhir-intake-bench';
import { benchGp, gpTable, type GpBenchResults } from './gp-bench';
import { benchIdentity, identityBreakdownTable, identityTable, type IdentityResults } from './identity-bench';
import { benchSocialCare } from './social-care-bench';
import { identityDataset } from './identity-data';
import { samplePicks, timeLookups, type LookupKeys, type LookupResults, type ResourceKey } from './lookup-paths';
import { machineInfo, type MachineInfo } from './machine';
import { benchNotify, notifyTable, type NotifyBenchResults } from './notify-bench';
import { benchPassport, passportTable, type PassportBenchResults } from './passport-bench';
import { benchViewer, viewerTable, type ViewerBenchResults } from './viewer-bench';
import { benchMllp, mllpTable, type MllpResults } from './mllp-bench';
import { findRedisServer, startThrowawayRedis } from './redis-server';
import { findPostgresBin, startThrowawayPostgres } from './postgres-server';
import { createRunDir, watchRunDir, type RunDir } from './run-dir';
import { assertSameRows, type TableDigest } from './same-rows';
import { RESOURCES_PER_PATIENT, syntheticPopulation } from './synthetic-data';
import { msSince } from './stats';
import { formatTable, ms, percent, rate } from './table';
import { batchesOf, prepareCeilingBatches, timeWrites, type WriteComparison } from './write-paths';

const intFromEnv = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

const PATIENTS = intFromEnv('BENCH_PATIENTS', 10_000);
const BATCH_SIZE = intFromEnv('BENCH_BATCH', 500);
const LOOKUPS = intFromEnv('BENCH_LOOKUPS', 5_000);
const API_SECONDS = intFromEnv('BENCH_API_SECONDS', 15);
const IDENTITY_RECORDS = intFromEnv('BENCH_IDENTITY_RECORDS', 100_000);
const GP_RECORDS = intFromEnv('BENCH_GP_RECORDS', 200);
const MLLP_PATIENTS = intFromEnv('BENCH_MLLP_PATIENTS', 2_000);
const ONLY = process.env['BENCH_ONLY'];
if (ONLY !== undefined && !['store', 'identity', 'audit', 'fhir', 'gp', 'notify', 'social-care', 'mllp', 'passport', 'access', 'viewer'].includes(ONLY)) throw new Error(`BENCH_ONLY is 'store', 'identity', 'audit', 'fhir', 'gp', 'notify', 'social-care', 'mllp', 'passport', 'access' or 'viewer', not '${ONLY}'`);
const RUN_STORE = ONLY === undefined || ONLY === 'store';
const RUN_IDENTITY = ONLY === undefined || ONLY === 'identity';
/** The audit trail's cost on reads (bench/audit-bench.ts), on PostgreSQL: BENCH_AUDIT_SECONDS (20). */
const RUN_AUDIT = ONLY === undefined || ONLY === 'audit';
/** FHIR intake (bench/fhir-intake-bench.ts): BENCH_FHIR_DOCUMENTS eDischarge documents (300). */
const RUN_FHIR = ONLY === undefined || ONLY === 'fhir';
const FHIR_DOCUMENTS = intFromEnv('BENCH_FHIR_DOCUMENTS', 300);
const RUN_GP = ONLY === undefined || ONLY === 'gp';
const RUN_NOTIFY = ONLY === undefined || ONLY === 'notify';
const NOTIFY_EVENTS = intFromEnv('BENCH_NOTIFY_EVENTS', 10_000);
const NOTIFY_SUBSCRIPTIONS = intFromEnv('BENCH_NOTIFY_SUBSCRIPTIONS', 1_000);
const NOTIFY_STEADY_RATE = intFromEnv('BENCH_NOTIFY_STEADY_RATE', 1_000);
// Social care import (issue 5): BENCH_SOCIAL_CARE_PERSONS persons (100,000: about a million rows).
const RUN_SOCIAL_CARE = ONLY === undefined || ONLY === 'social-care';
const SOCIAL_CARE_PERSONS = intFromEnv('BENCH_SOCIAL_CARE_PERSONS', 100_000);
const RUN_MLLP = ONLY === undefined || ONLY === 'mllp';
// Red bag passports (bench/passport-bench.ts): BENCH_PASSPORTS measured rounds per kind (200), after 10 thrown away.
const RUN_PASSPORT = ONLY === undefined || ONLY === 'passport';
const PASSPORTS = intFromEnv('BENCH_PASSPORTS', 200);
// Caldicott on the read path (bench/access-bench.ts), on PostgreSQL.
const RUN_ACCESS = ONLY === undefined || ONLY === 'access';
const ACCESS_PATIENTS = intFromEnv('BENCH_ACCESS_PATIENTS', 2_000);
const ACCESS_SECONDS = intFromEnv('BENCH_ACCESS_SECONDS', 12);
/** The goals from issue 7: enforced reads cost at most 1.3× the unenforced; 1,000 enforced, audited reads or searches/s on 2 cores. */
const ACCESS_COST_GOAL = 1.3;
const ACCESS_READ_GOAL = 1_000;
const PUBLISHED_CONFIGURATION = ['BENCH_PATIENTS', 'BENCH_BATCH', 'BENCH_LOOKUPS', 'BENCH_API_SECONDS', 'BENCH_IDENTITY_RECORDS', 'BENCH_ONLY', 'BENCH_AUDIT_SECONDS', 'BENCH_FHIR_DOCUMENTS', 'BENCH_GP_RECORDS', 'BENCH_NOTIFY_EVENTS', 'BENCH_NOTIFY_SUBSCRIPTIONS', 'BENCH_NOTIFY_STEADY_RATE', 'BENCH_SOCIAL_CARE_PERSONS', 'BENCH_MLLP_PATIENTS', 'BENCH_PASSPORTS', 'BENCH_ACCESS_PATIENTS', 'BENCH_ACCESS_SECONDS', 'BENCH_VIEWER_SECONDS', 'BENCH_VIEWER_CPU_PROFILE'].every((name) => !process.env[name]);
// The viewer's record page (bench/viewer-bench.ts), on PostgreSQL: BENCH_VIEWER_SECONDS of load at 20 clients (20).
const RUN_VIEWER = ONLY === undefined || ONLY === 'viewer';
const VIEWER_SECONDS = intFromEnv('BENCH_VIEWER_SECONDS', 20);
const CONNECTIONS = 20;
const LOOKUP_WARMUP = 200;
/** Per lookup kind and engine, store and ceiling together: bounds the run if a path is slow. */
const LOOKUP_MAX_MS = 10_000;
/** The goals from the issue: the store at least half its ceiling; 2,000 reads/s on PostgreSQL. */
const STORE_GOAL = 0.5;
const API_READ_GOAL = 2_000;
/** The goal from the identity issue: resolution costs at most 30% over the bare upsert. */
const IDENTITY_OVERHEAD_GOAL = 0.3;

interface EngineResults {
  readonly engine: 'pglite' | 'postgres';
  readonly writes: WriteComparison;
  readonly lookups: { readonly store: LookupResults; readonly ceiling: LookupResults };
  readonly api?: ApiResults;
  readonly rows: TableDigest[];
}

interface Postgres {
  readonly url: string;
  readonly source: 'DATABASE_URL' | 'throwaway server';
  stop(): void;
}

/**
 * What must not outlive the run (a throw-away PostgreSQL, temp directories), undone in reverse
 * order at the end, on failure, and on SIGINT/SIGTERM. On a signal only the synchronous part runs
 * (stopping PostgreSQL, removing directories): closing a store mid-transaction can hang or abort.
 */
interface Cleanup {
  finish(): void | Promise<void>;
  abandon(): void;
}

const cleanups: Cleanup[] = [];

async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup.finish();
    } catch (err) {
      console.error('cleanup failed:', err);
    }
  }
}

function abandonAll(): void {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup.abandon();
    } catch (err) {
      console.error('cleanup failed:', err);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping; removing what this run made`);
    abandonAll();
    process.exit(130);
  });
}
process.once('exit', abandonAll);

async function openPostgres(runDir: RunDir, bin: string | undefined): Promise<Postgres | string> {
  const url = process.env['DATABASE_URL'];
  if (url) return { url, source: 'DATABASE_URL', stop: () => undefined };
  if (!bin) return 'no DATABASE_URL and no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)';
  try {
    const server = await startThrowawayPostgres(bin, runDir.postgresDataDir);
    return { url: server.url, source: 'throwaway server', stop: server.stop };
  } catch (err) {
    return `could not start a throw-away PostgreSQL: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function serverVersion(store: Store): Promise<string> {
  const result = await store.engine.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  return result.rows[0]?.v.split(' ')[0] ?? 'unknown';
}

async function benchEngine(
  stores: BenchStores,
  batches: Parameters<typeof timeWrites>[2],
  columns: Parameters<typeof timeWrites>[3],
  now: Date,
  keys: LookupKeys,
  apiPlan: ApiPlan | undefined,
): Promise<EngineResults> {
  const log = (message: string): void => console.log(`  ${(process.uptime()).toFixed(0).padStart(4)} s  [${stores.engine}] ${message}`);
  const storeDb = await stores.fresh('store');
  const ceilingDb = await stores.fresh('ceiling');
  log(`writing ${columns.reduce((n, b) => n + b.res.id.length, 0).toLocaleString('en-GB')} resources, store path and ceiling batch by batch…`);
  const writes = await timeWrites(storeDb, ceilingDb, batches, columns, now);
  const rows = await assertSameRows(storeDb, ceilingDb);
  await stores.settle(storeDb);
  await stores.settle(ceilingDb);
  log('lookups…');
  const lookups = await timeLookups(storeDb, ceilingDb, keys, LOOKUP_WARMUP, LOOKUP_MAX_MS);
  let api: ApiResults | undefined;
  if (apiPlan) {
    log(`API, ${apiPlan.connections} clients, up to ${apiPlan.maxMs / 1000} s per request kind…`);
    api = await benchApi(storeDb, keys.reads, keys.nhsNumbers, apiPlan);
  }
  return { engine: stores.engine, writes, lookups, api, rows };
}

const loadAverage = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

function header(machine: MachineInfo, postgresNote: string, atEnd = false): string {
  return [
    `Machine   ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.os}; load average ${loadAverage()}${atEnd ? ' (now, including this run\'s own load)' : ''}`,
    `Versions  Node ${machine.node}; ${machine.pglite}; PostgreSQL ${machine.postgres}${postgresNote}`,
  ].join('\n');
}

function storeTable(results: readonly EngineResults[]): string {
  const rows: string[][] = [['engine', 'operation', 'n', 'store /s', 'ceiling /s', 'store/ceiling', 'store p50 ms', 'store p99 ms', 'ceiling p50 ms', `goal ≥ ${percent(STORE_GOAL)}`]];
  for (const r of results) {
    const w = r.writes;
    const wr = w.store.perSecond / w.ceiling.perSecond;
    rows.push([r.engine, `insert (batches of ${BATCH_SIZE})`, rate(w.store.resources), rate(w.store.perSecond), rate(w.ceiling.perSecond), percent(wr), '—', '—', '—', wr >= STORE_GOAL ? 'met' : 'NOT MET']);
    for (const [label, kind] of [['read by id', 'read'], ['search by NHS number', 'searchByNhsNumber']] as const) {
      const s = r.lookups.store[kind];
      const c = r.lookups.ceiling[kind];
      const ratio = s.perSecond / c.perSecond;
      rows.push([r.engine, label, rate(s.count), rate(s.perSecond), rate(c.perSecond), percent(ratio), ms(s.p50Ms), ms(s.p99Ms), ms(c.p50Ms), ratio >= STORE_GOAL ? 'met' : 'NOT MET']);
    }
  }
  return formatTable(rows);
}

function apiTable(results: readonly EngineResults[], cores: number): string {
  const rows: string[][] = [['engine', 'request', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'errors', `goal ≥ ${rate(API_READ_GOAL)} reads/s`]];
  for (const r of results) {
    if (!r.api) continue;
    const goal = r.engine === 'postgres' ? (r.api.read.perSecond >= API_READ_GOAL ? 'met' : 'NOT MET') + (cores === 2 ? '' : ` (on ${cores} cores, goal is for 2)`) : 'for comparison';
    rows.push([r.engine, 'GET /fhir/{type}/{id}', rate(r.api.read.perSecond), ms(r.api.read.p50Ms), ms(r.api.read.p99Ms), rate(r.api.read.requests), rate(r.api.read.errors), goal]);
    const s = r.api.searchByNhsNumber;
    rows.push([r.engine, 'GET /fhir/Patient?identifier=<nhs>|n', rate(s.perSecond), ms(s.p50Ms), ms(s.p99Ms), rate(s.requests), rate(s.errors), '—']);
  }
  return formatTable(rows);
}

async function main(): Promise<void> {
  const runStarted = new Date();
  loadFhirDefinitions();
  const machine = machineInfo();
  const probe = await Store.open({});
  const pgliteVersion = `${machine.pglite} (PostgreSQL ${await serverVersion(probe)} in WebAssembly)`;
  await probe.close();
  const runDir = createRunDir();
  cleanups.push({ finish: () => runDir.remove(), abandon: () => runDir.remove() });
  const postgresBin = process.env['DATABASE_URL'] ? undefined : findPostgresBin();
  watchRunDir(runDir, postgresBin);
  const postgres = await openPostgres(runDir, postgresBin);
  let postgresNote = '';
  if (typeof postgres === 'string') {
    machine.postgres = 'skipped';
    postgresNote = ` (${postgres})`;
  } else {
    cleanups.push({ finish: () => postgres.stop(), abandon: () => postgres.stop() });
    const stores = postgresStores(postgres.url);
    const probeStore = await stores.fresh('probe');
    machine.postgres = await serverVersion(probeStore);
    await stores.dispose();
    postgresNote = postgres.source === 'DATABASE_URL' ? ' (DATABASE_URL)' : ' (throw-away server on 127.0.0.1, shipped settings: fsync and synchronous_commit on)';
  }
  const info = { ...machine, pglite: pgliteVersion };
  const loadAtStart = loadavg();
  console.log(`\nCareBridge benchmarks, ${runStarted.toISOString()}\n${header(info, postgresNote)}\n`);
  const oneMinuteLoad = loadAtStart[0] ?? 0;
  if (oneMinuteLoad > machine.cores / 2) {
    console.log(`WARNING   the 1-minute load average is ${oneMinuteLoad.toFixed(2)} on ${machine.cores} cores: other work is running here, so these figures will be low and noisy.\n`);
  }

  const store = RUN_STORE ? await runStoreBenchmarks(runDir, postgres, runStarted) : undefined;
  const identity = RUN_IDENTITY ? await runIdentityBenchmark(postgres, runStarted) : undefined;
  const audit = RUN_AUDIT && typeof postgres !== 'string' ? await runAuditBenchmark(postgres.url) : undefined;
  const fhirIntake = [];
  if (RUN_FHIR) for (const stores of [pgliteStores(runDir.path), ...(typeof postgres === 'string' ? [] : [postgresStores(postgres.url)])]) fhirIntake.push(await benchFhirIntake(stores, FHIR_DOCUMENTS).finally(() => stores.dispose()));
  const gp = RUN_GP ? await runGpBenchmark(postgres) : undefined;
  const notify = RUN_NOTIFY ? await runNotifyBenchmark(runDir, postgres) : undefined;
  const socialCare = RUN_SOCIAL_CARE
    ? await benchSocialCare({ persons: SOCIAL_CARE_PERSONS, workDir: runDir.path, engines: [pgliteStores(runDir.path), ...(typeof postgres === 'string' ? [] : [postgresStores(postgres.url)])] })
    : undefined;
  const mllp = RUN_MLLP ? await runMllpBenchmark(runDir, postgres) : undefined;
  const passport = RUN_PASSPORT ? await runPassportBenchmark(runDir) : undefined;
  const access = RUN_ACCESS ? await runAccessBenchmark(runDir, postgres) : undefined;
  const viewer = RUN_VIEWER ? await runViewerBenchmark(runDir, postgres) : undefined;

  console.log(`\n${header(info, postgresNote, true)}\n`);
  if (store) {
    console.log('Store: one client, one operation at a time; the ceiling is measured in this run on the same rows (verified identical).');
    console.log(storeTable(store.results));
    console.log(`\nAPI: real app on 127.0.0.1, ${CONNECTIONS} concurrent keep-alive clients. The load generator is a separate Node process on the same ${machine.cores} cores as the server and the database, so it takes CPU from them.`);
    console.log(apiTable(store.results, machine.cores));
  }
  if (identity && typeof identity !== 'string') {
    console.log(
      `\nIdentity resolution on PostgreSQL: ${rate(identity.records)} source Patients in batches of ${identity.batchSize}, arriving source by source; ` +
        'ingestResources (store.upsert + resolveIdentity) against the bare store.upsert of the same records, taking turns batch by batch, each into its own fresh schema.',
    );
    console.log(identityTable(identity));
    console.log('\nWhere upsert + resolution spends its time (every statement timed; shares are of the bare upsert\'s time, so the resolve rows add up to the overhead):');
    console.log(identityBreakdownTable(identity));
  }
  if (audit) console.log(`\nAudit trail on PostgreSQL: ${rate(audit.resources)} resources, ${String(audit.concurrency)} reads in flight, audited and unaudited rounds alternating.\n${auditTable(audit)}`);
  if (fhirIntake.length > 0) console.log(`\nFHIR intake: ${rate(FHIR_DOCUMENTS)} eDischarge documents through POST /intake/fhir's path (validation, inbox, upsert, identity) against the bare store.upsert of the same resources:\n${fhirIntake.map((f) => f.table).join('\n')}`);
  if (gp && typeof gp !== 'string') {
    console.log(`\nGP Connect import on PostgreSQL: ${rate(gp.records)} synthetic structured records of ${rate(gp.resourcesPerRecord)} resources, the import path against the bare store.upsert of the same resources, taking turns record by record, each into its own fresh schema.`);
    console.log(gpTable(gp));
  }
  if (notify) {
    console.log(`\nNotifications on ${notify.engine}: a burst of ${rate(notify.events)} events written to the outbox in ${(notify.burstWriteMs / 1000).toFixed(1)} s, ${rate(notify.subscriptions)} subscriptions, delivered by the real dispatcher and in-process workers to an HTTP receiver on 127.0.0.1 (same process, same cores).`);
    console.log(notifyTable(notify, machine.cores));
  }
  if (socialCare) {
    console.log(`\nSocial care extract import: ${rate(socialCare.result.persons)} synthetic persons, ${rate(socialCare.result.rows)} rows in nine tables (with the contract's mess), batches of ${socialCare.result.batchSize} resources; the ceiling is a bare parse of the same files in this run.`);
    console.log(socialCare.table);
  }
  if (mllp) {
    console.log(`\nHospital feed end to end over MLLP: ${rate(MLLP_PATIENTS)} patients × 3 messages (A01, A02, A03), each sender waiting for its ACK; applied = every inbox row done and every Encounter finished. Senders, gateway and database share the ${machine.cores} cores.`);
    console.log(mllpTable(mllp));
  }
  if (passport) {
    console.log(
      `\nRed bag passports on PGlite (embedded, file-backed): ${rate(passport.iterations)} rounds per kind after ${rate(passport.warmup)} thrown away, one at a time; each round one passport through the pipeline, then the ceilings on the same passport. ` +
        'Pipeline: load (person ids, loadPassportRecord; the transfer passport row for a discharge), assemble (build*Passport), sign (PassportSigner.sign + fingerprint), render the issued document (passportView + passportHtml; passportPdf). ' +
        "Not in the pipeline: the access decision, the form's ingest, the stored row, outbox events, DocumentReference, audit, the reader's copy (the issueTransfer row has them, but no render).",
    );
    console.log(passportTable(passport));
  }
  if (access && typeof access !== 'string') {
    console.log(
      `\nAccess control and audit on the read path, PostgreSQL: the real app on 127.0.0.1, ${String(access.connections)} concurrent keep-alive clients (a separate load process on the same ${machine.cores} cores), ` +
        `a GP of the people's registered practice with permission to view recorded; off = permit-all, no audit; access only = the Caldicott hook, no audit; on = access control and audit as gateway/server.ts composes them. ` +
        `${String(access.rounds)} rounds of ${(access.secondsPerConfiguration / access.rounds).toFixed(1)} s per configuration and operation, taking turns. Cost = time per request at the same concurrency (off req/s ÷ on req/s).`,
    );
    console.log(accessTable(access, machine.cores, { maxCost: ACCESS_COST_GOAL, minEnforcedPerSecond: ACCESS_READ_GOAL }));
    console.log(`\nWhere the enforced time goes, one request at a time (no queueing: each audited request waits for its own durable commit):\n${breakdownTable(access.breakdown)}`);
  } else if (typeof access === 'string') console.log(`\nAccess benchmark skipped: ${access}.`);
  if (viewer && typeof viewer !== 'string') {
    console.log(
      `\nViewer record page on PostgreSQL: the real gateway (startGateway, role api) on 127.0.0.1, ${String(viewer.connections)} signed-in sessions of the GP persona, each client one GET /record/{id} at a time, no think time; ` +
        `time to first byte and to the whole page received, measured by a separate load process on the same ${machine.cores} cores.`,
    );
    console.log(viewerTable(viewer));
  }
  if (typeof postgres === 'string') console.log(`\nPostgreSQL was skipped: ${postgres}.`);

  const json = {
    generatedAt: runStarted.toISOString(),
    machine: info,
    loadAverage: { start: loadAtStart, end: loadavg() },
    postgresSource: typeof postgres === 'string' ? `skipped: ${postgres}` : postgres.source,
    ...(ONLY ? { only: ONLY } : {}),
    ...(store
      ? {
          dataset: { resources: store.resources, patients: PATIENTS, byType: store.byType, batchSize: BATCH_SIZE, indexRows: store.indexRows, lookupsPerKind: LOOKUPS },
          indexingMs: store.indexingMs,
        }
      : {}),
    goals: { storeFractionOfCeiling: STORE_GOAL, apiReadsPerSecondOnPostgres: API_READ_GOAL, apiConnections: CONNECTIONS, identityOverheadOverBareUpsert: IDENTITY_OVERHEAD_GOAL },
    engines: (store?.results ?? []).map((r) => ({
      engine: r.engine,
      writes: { ...r.writes, fractionOfCeiling: r.writes.store.perSecond / r.writes.ceiling.perSecond },
      lookups: {
        read: { store: r.lookups.store.read, ceiling: r.lookups.ceiling.read, fractionOfCeiling: r.lookups.store.read.perSecond / r.lookups.ceiling.read.perSecond },
        searchByNhsNumber: {
          store: r.lookups.store.searchByNhsNumber,
          ceiling: r.lookups.ceiling.searchByNhsNumber,
          fractionOfCeiling: r.lookups.store.searchByNhsNumber.perSecond / r.lookups.ceiling.searchByNhsNumber.perSecond,
        },
      },
      api: r.api,
      rowsWritten: r.rows,
    })),
    ...(fhirIntake.length > 0 ? { fhirIntake: fhirIntake.map((f) => f.result) } : {}),
    ...(notify ? { notify } : {}),
    ...(identity ? { identity: typeof identity === 'string' ? { skipped: identity } : { engine: 'postgres', ...identity } } : {}),
    ...(audit ? { audit: { engine: 'postgres', ...audit } } : {}),
    ...(gp ? { gp: typeof gp === 'string' ? { skipped: gp } : { engine: 'postgres', ...gp } } : {}),
    ...(socialCare ? { socialCare: socialCare.result } : {}),
    ...(mllp ? { mllp } : {}),
    ...(passport ? { passport } : {}),
    ...(access ? { access: typeof access === 'string' ? { skipped: access } : { engine: 'postgres', goals: { maxCost: ACCESS_COST_GOAL, minEnforcedPerSecond: ACCESS_READ_GOAL }, ...access } } : {}),
    ...(viewer ? { viewer: typeof viewer === 'string' ? { skipped: viewer } : viewer } : {}),
    notes: [
      `The API load generator runs on the same ${machine.cores} cores as the server and the database.`,
      'Store writes: store.upsert and the ceiling alternate batch by batch into two fresh stores; the ceiling is one multi-row INSERT per table per batch with every row computed before timing.',
      'Identity: ingestResources and the bare store.upsert take turns at going first, batch by batch, each into its own fresh PostgreSQL schema; overhead = resolution time / bare time - 1. ' +
        'Both paths run on an engine view that times every statement (bench/sql-timing.ts), the source of identity.breakdown.',
    ],
  };
  // Only the published configuration replaces latest.json, which the README quotes.
  const out = join(__dirname, 'results', PUBLISHED_CONFIGURATION ? 'latest.json' : 'quick-run.json');
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nResults written to ${out} (${process.uptime().toFixed(0)} s in all)`);
}

interface StoreRun {
  readonly results: EngineResults[];
  readonly resources: number;
  readonly byType: Record<string, number>;
  readonly indexRows: Record<string, number>;
  readonly indexingMs: number;
}

/** The store benchmarks (PGlite, then PostgreSQL when there is one) and the API benchmark. */
async function runStoreBenchmarks(runDir: RunDir, postgres: Postgres | string, runStarted: Date): Promise<StoreRun> {
  const population = syntheticPopulation(PATIENTS);
  const { resources } = population;
  const byType = new Map<string, number>();
  for (const r of resources) byType.set(r.resourceType, (byType.get(r.resourceType) ?? 0) + 1);
  const batches = batchesOf(resources, BATCH_SIZE);
  // One timestamp for both paths, so the store and the ceiling write byte-identical rows.
  const now = new Date(Math.floor(runStarted.getTime() / 1000) * 1000);
  const prepared = prepareCeilingBatches(batches, now);
  const indexRows = {
    token: prepared.columns.reduce((n, b) => n + b.token.id.length, 0),
    string: prepared.columns.reduce((n, b) => n + b.string.id.length, 0),
    date: prepared.columns.reduce((n, b) => n + b.date.id.length, 0),
    reference: prepared.columns.reduce((n, b) => n + b.reference.id.length, 0),
    number: prepared.columns.reduce((n, b) => n + b.number.id.length, 0),
  };
  const keys: LookupKeys = {
    reads: samplePicks<ResourceKey>(resources.map((r) => ({ resourceType: r.resourceType, id: r.id as string })), LOOKUPS),
    nhsNumbers: samplePicks(population.nhsNumbers.map((n, i) => [n, population.patientIds[i] as string] as const), LOOKUPS, 7),
  };
  console.log(
    `Data      ${resources.length.toLocaleString('en-GB')} synthetic resources (${[...byType].map(([t, n]) => `${n.toLocaleString('en-GB')} ${t}`).join(', ')}), ` +
      `${RESOURCES_PER_PATIENT} per patient, batches of ${BATCH_SIZE}; index rows: ${Object.entries(indexRows).map(([t, n]) => `${t} ${n.toLocaleString('en-GB')}`).join(', ')}`,
  );
  console.log(
    `Indexing  the ceiling's rows were computed before timing in ${(prepared.ms / 1000).toFixed(1)} s (search indexing + hashing + JSON alone: ` +
      `${rate((resources.length / prepared.ms) * 1000)} resources/s on one core)\n`,
  );

  const apiPlan = (seconds: number): ApiPlan => ({ connections: CONNECTIONS, maxRequests: 2_000 * seconds * 4, maxMs: seconds * 1000, warmupMs: 2_000 });
  const results: EngineResults[] = [];
  const engines: { stores: () => BenchStores; api: ApiPlan }[] = [{ stores: () => pgliteStores(runDir.path), api: apiPlan(Math.max(3, Math.round(API_SECONDS / 3))) }];
  if (typeof postgres !== 'string') engines.push({ stores: () => postgresStores(postgres.url), api: apiPlan(API_SECONDS) });
  for (const engine of engines) {
    const stores = engine.stores();
    cleanups.push({ finish: () => stores.dispose(), abandon: () => stores.abandon() });
    try {
      results.push(await benchEngine(stores, batches, prepared.columns, now, keys, engine.api));
    } finally {
      await stores.dispose();
    }
  }
  return { results, resources: resources.length, byType: Object.fromEntries(byType), indexRows, indexingMs: prepared.ms };
}

/** Identity resolution against the bare upsert, on PostgreSQL only (the requirement is for PostgreSQL); the reason when skipped. */
async function runIdentityBenchmark(postgres: Postgres | string, runStarted: Date): Promise<IdentityResults | string> {
  if (typeof postgres === 'string') return `no PostgreSQL: ${postgres}`;
  const log = (message: string): void => console.log(`  ${process.uptime().toFixed(0).padStart(4)} s  [postgres] ${message}`);
  const started = process.hrtime.bigint();
  const dataset = identityDataset(IDENTITY_RECORDS);
  log(
    `identity: ${rate(dataset.records.length)} source Patients for ${rate(dataset.persons)} synthetic persons generated in ${(msSince(started) / 1000).toFixed(1)} s ` +
      `(${dataset.bySource.map((s) => `${s.name} ${rate(s.end - s.start)}`).join(', ')})`,
  );
  const now = new Date(Math.floor(runStarted.getTime() / 1000) * 1000);
  const stores = postgresStores(postgres.url);
  cleanups.push({ finish: () => stores.dispose(), abandon: () => stores.abandon() });
  try {
    return await benchIdentity(stores, dataset, BATCH_SIZE, now, IDENTITY_OVERHEAD_GOAL, log);
  } finally {
    await stores.dispose();
  }
}

async function runAuditBenchmark(url: string): Promise<AuditBenchResult> {
  const stores = postgresStores(url);
  cleanups.push({ finish: () => stores.dispose(), abandon: () => stores.abandon() });
  try {
    return await benchAudit(stores, { patients: Math.min(PATIENTS, 2_000), seconds: intFromEnv('BENCH_AUDIT_SECONDS', 20), concurrency: CONNECTIONS, log: (m) => console.log(`  ${process.uptime().toFixed(0).padStart(4)} s  [postgres] ${m}`) });
  } finally {
    await stores.dispose();
  }
}

/** GP Connect import against the bare upsert, on PostgreSQL; the reason when skipped. */
async function runGpBenchmark(postgres: Postgres | string): Promise<GpBenchResults | string> {
  if (typeof postgres === 'string') return `no PostgreSQL: ${postgres}`;
  const log = (message: string): void => console.log(`  ${process.uptime().toFixed(0).padStart(4)} s  [postgres] ${message}`);
  const stores = postgresStores(postgres.url);
  cleanups.push({ finish: () => stores.dispose(), abandon: () => stores.abandon() });
  try {
    return await benchGp(stores, GP_RECORDS, log);
  } finally {
    await stores.dispose();
  }
}

/** Notifications on PostgreSQL when there is one, else on PGlite (file-backed). */
async function runNotifyBenchmark(runDir: RunDir, postgres: Postgres | string): Promise<NotifyBenchResults> {
  const stores = typeof postgres === 'string' ? pgliteStores(runDir.path) : postgresStores(postgres.url);
  const log = (message: string): void => console.log(`  ${process.uptime().toFixed(0).padStart(4)} s  [${stores.engine}] ${message}`);
  cleanups.push({ finish: () => stores.dispose(), abandon: () => stores.abandon() });
  try {
    return await benchNotify(stores, { events: NOTIFY_EVENTS, subscriptions: NOTIFY_SUBSCRIPTIONS, concurrency: 16, steadyRate: NOTIFY_STEADY_RATE, steadyEvents: Math.min(NOTIFY_EVENTS, NOTIFY_STEADY_RATE * 10) }, log);
  } finally {
    await stores.dispose();
  }
}

/** The hospital feed over MLLP, 1 and 8 connections, on PGlite and (when there is one) PostgreSQL. */
async function runMllpBenchmark(runDir: RunDir, postgres: Postgres | string): Promise<MllpResults> {
  const log = (message: string): void => console.log(`  ${process.uptime().toFixed(0).padStart(4)} s  mllp ${message}`);
  const engines: (() => BenchStores)[] = [() => pgliteStores(runDir.path)];
  if (typeof postgres !== 'string') engines.push(() => postgresStores(postgres.url));
  // The BullMQ row: REDIS_URL, else a throw-away redis-server when one is installed, else none.
  let redisUrl = process.env['REDIS_URL'];
  if (!redisUrl && typeof postgres !== 'string') {
    const bin = findRedisServer();
    if (bin) {
      const redis = await startThrowawayRedis(bin);
      cleanups.push({ finish: () => redis.stop(), abandon: () => redis.stop() });
      redisUrl = redis.url;
    } else log('no REDIS_URL and no redis-server (apt-get install redis-server): the BullMQ row is skipped');
  }
  return benchMllp(engines, MLLP_PATIENTS, [1, 8], log, redisUrl);
}

/** Red bag passports on PGlite (file-backed, in the run's directory). */
async function runPassportBenchmark(runDir: RunDir): Promise<PassportBenchResults> {
  const stores = pgliteStores(runDir.path);
  const log = (message: string): void => console.log(`  ${process.uptime().toFixed(0).padStart(4)} s  [pglite] ${message}`);
  cleanups.push({ finish: () => stores.dispose(), abandon: () => stores.abandon() });
  try {
    return await benchPassport(stores, { iterations: PASSPORTS, warmup: 10 }, log);
  } finally {
    await stores.dispose();
  }
}

/** Caldicott access control and audit on the read path, on PostgreSQL; the reason when skipped. */
async function runAccessBenchmark(runDir: RunDir, postgres: Postgres | string): Promise<AccessBenchResult | string> {
  if (typeof postgres === 'string') return `no PostgreSQL: ${postgres}`;
  const stores = postgresStores(postgres.url);
  const log = (message: string): void => console.log(`  ${process.uptime().toFixed(0).padStart(4)} s  [postgres] ${message}`);
  cleanups.push({ finish: () => stores.dispose(), abandon: () => stores.abandon() });
  try {
    return await benchAccess(stores, { patients: ACCESS_PATIENTS, persons: 5, seconds: ACCESS_SECONDS, rounds: 4, connections: CONNECTIONS, paths: LOOKUPS, breakdownRequests: 200, workDir: runDir.path, log });
  } finally {
    await stores.dispose();
  }
}

/** The viewer's record page on PostgreSQL; the reason when skipped. */
async function runViewerBenchmark(runDir: RunDir, postgres: Postgres | string): Promise<ViewerBenchResults | string> {
  if (typeof postgres === 'string') return `no PostgreSQL: ${postgres}`;
  const log = (message: string): void => console.log(`  ${process.uptime().toFixed(0).padStart(4)} s  [postgres] ${message}`);
  const workDir = join(runDir.path, 'viewer');
  mkdirSync(workDir, { recursive: true });
  return benchViewer(postgres.url, { persons: 20, population: 1_000, connections: CONNECTIONS, seconds: VIEWER_SECONDS, thinkMs: 5_000, warmupMs: 3_000, stageRounds: 100, browserLoads: 6, workDir }, log);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => runCleanups());
