import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../gateway/config';
import { samePersonIds } from '../gateway/identity/resolver';
import { createLogger } from '../gateway/logger';
import { Role, startGateway, type RunningGateway } from '../gateway/server';
import type { Store } from '../gateway/store/store';
import { csrfOf, signInCookie } from '../tests/support/viewer-session';
import { runLoadProcess } from './api-bench';
import { benchSchema, postgresStores, withSearchPath } from './bench-stores';
import type { LoadResult } from './load-client';
import { summariseTimings, type TimingSummary } from './passport-bench';
import { msSince } from './stats';
import { formatTable, ms, rate } from './table';
import { browserLoads, type BrowserLoads } from './viewer-browser';
import { ENCOUNTERS_PER_PERSON, populateViewerStore, type ViewerPopulation } from './viewer-data';
import { recordPageStages, type StageBreakdown, type Step } from './viewer-stages';

/**
 * The viewer's record page (issue 8: "time to first byte and to a rendered record page for a
 * person with a realistic record (300 GP items, 20 encounters, a full social care record) on
 * PostgreSQL; goal: record page under 300 ms server time at p95 with 20 concurrent users"):
 *
 *   the people   bench/viewer-data.ts: a social care population, and for the chosen persons a GP
 *                record, 20 hospital stays and a discharge summary, through the real intakes;
 *   the server   the real gateway as an API process runs it (startGateway, role api: the viewer,
 *                the Caldicott access hook, the audit trail, passports; production's composition
 *                with development sign-in), on PostgreSQL, over HTTP on 127.0.0.1;
 *   the users    the development GP persona (Dr Anna Hughes, Y90001, the persons' registered
 *                practice), signed in through POST /sign-in `connections` times, each session a
 *                cookie; each person found with the viewer's search and permission to view
 *                recorded through the page's form, as the viewer's flow requires;
 *   the load     a separate process (bench/load-client.ts), `connections` keep-alive clients each
 *                with its own session, each sending one GET /record/{id} at a time, the persons in
 *                turn; time to first byte (the response's head) and to the whole page received;
 *   ceilings     the same pages' bytes from a bare node:http server on loopback, the same number
 *                of clients; and the raw SQL that loads a person's record, as many at a time;
 *   breakdown    bench/viewer-stages.ts: the record page's steps one at a time, unloaded;
 *   browser      bench/viewer-browser.ts: Debian's chromium loading a record page to its load
 *                event, when chromium is installed.
 */
export const VIEWER_P95_GOAL_MS = 300;

export interface ViewerBenchPlan {
  /** Persons with the full record (each a record page in the rotation). */
  readonly persons: number;
  /** Persons in the social care extract (the rest are the background population). */
  readonly population: number;
  readonly connections: number;
  /** Measured seconds of the main load; the single-client run and the ceilings take half each, the paced run twice. */
  readonly seconds: number;
  /** The paced run: each session reads its page this long before opening the next (a user, not a load generator). */
  readonly thinkMs: number;
  readonly warmupMs: number;
  /** Unloaded rounds of the step-by-step breakdown. */
  readonly stageRounds: number;
  /** Chromium page loads (the first cold, the rest with cached assets). */
  readonly browserLoads: number;
  /** Where the extract, the gateway's data directory (keys) and the report go. */
  readonly workDir: string;
}

export interface PageTiming {
  readonly requests: number;
  readonly errors: number;
  readonly pagesPerSecond: number;
  readonly meanBytes: number;
  readonly firstByte: TimingSummary;
  readonly whole: TimingSummary;
  /** CPU of this process (the server: the gateway, or the bare server) per page sent, warm-up included. */
  readonly serverCpuMsPerPage: number;
  /** CPU of the PostgreSQL server's processes per page, when they are on this machine and readable in /proc. */
  readonly postgresCpuMsPerPage?: number;
}

export interface ViewerBenchResults {
  readonly engine: 'postgres';
  readonly connections: number;
  readonly population: Omit<ViewerPopulation, 'persons'> & { readonly persons: number; readonly socialCareRowsPerPerson: readonly Record<string, number>[] };
  readonly page: { readonly bytes: number; readonly items: Readonly<Record<string, number>>; readonly withheldNote: boolean; readonly recordPatients: number };
  readonly record: PageTiming;
  /** The same sessions with think time between pages. */
  readonly paced: PageTiming & { readonly thinkMs: number };
  readonly singleClient: PageTiming;
  readonly ceilings: { readonly bareHttp: PageTiming; readonly rawSql: { readonly queries: number; readonly perSecond: number; readonly rows: number; readonly latency: TimingSummary; readonly postgresCpuMsPerQuery?: number } };
  readonly stages: StageBreakdown;
  readonly browser: BrowserLoads | { readonly skipped: string };
  readonly goal: { readonly p95WholeMs: number; readonly met: boolean };
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
}

const SECTIONS = ['alerts', 'care-team', 'plans', 'problems', 'medications', 'allergies', 'care-package', 'social-care', 'encounters', 'observations', 'documents'];

/** Items shown per section of a record page; throws when a section is empty or missing (the bench is of a full record). */
export function sectionItems(html: string): Record<string, number> {
  const items: Record<string, number> = {};
  for (const id of SECTIONS) {
    const start = html.indexOf(`<section id="${id}"`);
    if (start < 0) throw new Error(`viewer bench: the record page has no section ${id}`);
    const end = html.indexOf('</section>', start);
    const count = (html.slice(start, end).match(/<li class="cb-item">/g) ?? []).length;
    if (count === 0) throw new Error(`viewer bench: the record page's section ${id} is empty`);
    items[id] = count;
  }
  return items;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime and cutime + cstime (ms) and the parent of a process, from /proc/<pid>/stat; undefined when it is not readable. */
function procStat(pid: number): { comm: string; ppid: number; ownMs: number; childrenMs: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // The fields after "(comm)": state, ppid, …, utime (the 12th), stime, cutime, cstime.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const ms = (ticks: number | undefined): number => ((ticks ?? 0) / CLOCK_TICKS) * 1000;
    return { comm, ppid: f[1] ?? 0, ownMs: ms(f[11]) + ms(f[12]), childrenMs: ms(f[13]) + ms(f[14]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU ms so far of the whole PostgreSQL server: the postmaster (the parent of our backend), its
 * children now, and the children that have ended (reaped by the postmaster, so in its cutime and
 * cstime). Undefined when the server is not on this machine or /proc is not readable.
 */
async function postgresCpu(store: Store): Promise<number | undefined> {
  const row = (await store.engine.query<{ pid: number; addr: string | null }>('SELECT pg_backend_pid() AS pid, host(inet_server_addr()) AS addr')).rows[0];
  if (!row || (row.addr !== null && row.addr !== '127.0.0.1' && row.addr !== '::1')) return undefined;
  const backend = procStat(row.pid);
  const postmaster = backend?.comm === 'postgres' ? backend.ppid : undefined;
  const server = postmaster === undefined ? undefined : procStat(postmaster);
  if (postmaster === undefined || server?.comm !== 'postgres') return undefined;
  let total = server.ownMs + server.childrenMs;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = procStat(Number(entry));
    if (child?.ppid === postmaster) total += child.ownMs;
  }
  return total;
}

/** Runs the load process while measuring this process's CPU (it serves the pages) and, when it can, PostgreSQL's. */
async function measured(plan: Parameters<typeof runLoadProcess>[0], store?: Store): Promise<PageTiming> {
  const pgBefore = store ? await postgresCpu(store) : undefined;
  const cpu = process.cpuUsage();
  const result = await runLoadProcess(plan);
  const used = process.cpuUsage(cpu);
  const pgAfter = store ? await postgresCpu(store) : undefined;
  const pages = Math.max(1, result.requests + result.warmupRequests);
  const pgMs = pgBefore !== undefined && pgAfter !== undefined ? pgAfter - pgBefore : undefined;
  return pageTiming(result, (used.user + used.system) / 1000 / pages, pgMs === undefined ? undefined : pgMs / pages);
}

/**
 * BENCH_VIEWER_CPU_PROFILE=<file>: a V8 CPU profile (.cpuprofile, for Chrome DevTools or
 * speedscope) of this process, which serves the pages, while the 20 clients load them. The
 * profiler costs CPU itself, so the figures of a profiled run are not published ones.
 */
async function startCpuProfile(): Promise<{ stop(file: string): Promise<string> }> {
  const session = new InspectorSession();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      return file;
    },
  };
}

function pageTiming(result: LoadResult, serverCpuMsPerPage: number, postgresCpuMsPerPage: number | undefined): PageTiming {
  return {
    serverCpuMsPerPage,
    ...(postgresCpuMsPerPage === undefined ? {} : { postgresCpuMsPerPage }),
    requests: result.requests,
    errors: result.errors,
    pagesPerSecond: (result.requests / result.ms) * 1000,
    meanBytes: result.requests > 0 ? result.bytes / result.requests : 0,
    firstByte: summariseTimings(result.firstByteMs),
    whole: summariseTimings(result.latenciesMs),
  };
}

interface Session {
  readonly cookie: string;
}

async function get(base: string, path: string, session: Session): Promise<{ status: number; html: string; location: string | null }> {
  const res = await fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie: session.cookie, accept: 'text/html' } });
  return { status: res.status, html: await res.text(), location: res.headers.get('location') };
}

/** The viewer's flow for one person: search by NHS number, open the record, record permission to view given. */
async function openRecord(base: string, session: Session, nhsNumber: string): Promise<string> {
  const search = await get(base, `/search?nhs=${nhsNumber}`, session);
  const ids = [...search.html.matchAll(/href="\/record\/([A-Za-z0-9\-.]+)"/g)].map((m) => m[1] as string);
  if (search.status !== 200 || ids.length !== 1) throw new Error(`viewer bench: the search for a person answered ${String(search.status)} with ${String(ids.length)} people`);
  const patientId = ids[0] as string;
  const first = await get(base, `/record/${patientId}`, session);
  if (first.status !== 200 || !first.html.includes('Permission to view')) throw new Error(`viewer bench: the record did not ask for permission to view (${String(first.status)})`);
  const res = await fetch(`${base}/record/${patientId}/permission-to-view`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: session.cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfOf(first.html), decision: 'given' }).toString(),
  });
  if (res.status !== 303) throw new Error(`viewer bench: recording permission to view answered ${String(res.status)}`);
  return patientId;
}

/** The bare ceiling: the same bytes for the same paths, from node:http with no routing, session, access or rendering. */
async function bareServer(pages: ReadonlyMap<string, Buffer>): Promise<{ server: Server; baseUrl: string }> {
  const server = createServer((req, res) => {
    const body = pages.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseUrl: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}` };
}

/** The raw SQL that loads a person's record (their compartment's rows), `concurrency` at a time, for `ms`. */
async function rawSqlCeiling(store: Store, personIds: readonly (readonly string[])[], concurrency: number, forMs: number): Promise<ViewerBenchResults['ceilings']['rawSql']> {
  const latencies: number[] = [];
  let rows = 0;
  let issued = 0;
  const pgBefore = await postgresCpu(store);
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(forMs * 1e6);
  const client = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) {
      const ids = personIds[issued++ % personIds.length] as readonly string[];
      const t = process.hrtime.bigint();
      const result = await store.engine.query<{ content: string }>('SELECT content::text AS content FROM resource WHERE patient_ids && $1::text[]', [ids]);
      latencies.push(msSince(t));
      rows += result.rows.length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = msSince(started);
  const pgAfter = await postgresCpu(store);
  const pgMs = pgBefore !== undefined && pgAfter !== undefined ? pgAfter - pgBefore : undefined;
  return {
    queries: latencies.length,
    perSecond: (latencies.length / elapsed) * 1000,
    rows: latencies.length > 0 ? rows / latencies.length : 0,
    latency: summariseTimings(latencies),
    ...(pgMs === undefined ? {} : { postgresCpuMsPerQuery: pgMs / Math.max(1, latencies.length) }),
  };
}

export async function benchViewer(databaseUrl: string, plan: ViewerBenchPlan, log: (message: string) => void): Promise<ViewerBenchResults> {
  const loadStart = loadavg();
  const stores = postgresStores(databaseUrl);
  let gateway: RunningGateway | undefined;
  let bare: Server | undefined;
  try {
    const store = await stores.fresh('viewer');
    const population = await populateViewerStore(store, { persons: plan.persons, population: plan.population, workDir: plan.workDir, now: new Date(), log });
    await stores.settle(store);
    await store.engine.exec('ANALYZE');

    log('viewer: the gateway as an API process (startGateway, role api) on the same schema…');
    const config = loadConfig({ PORT: '0', DATA_DIR: join(plan.workDir, 'gateway'), DATABASE_URL: withSearchPath(databaseUrl, benchSchema('viewer')), LOG_LEVEL: 'silent', DEMO_DATA: 'false' });
    gateway = await startGateway(config, Role.API, createLogger('silent'));
    const base = `http://127.0.0.1:${String(gateway.httpPort)}`;

    log(`viewer: ${String(plan.connections)} sessions of the GP persona; each person found and permission to view recorded…`);
    const sessions: Session[] = [];
    for (let i = 0; i < plan.connections; i++) sessions.push({ cookie: await signInCookie(base, 'gp') });
    const patientIds: string[] = [];
    for (const [i, person] of population.persons.entries()) patientIds.push(await openRecord(base, sessions[i % sessions.length] as Session, person.nhsNumber));
    const paths = patientIds.map((id) => `/record/${id}`);
    const pages = new Map<string, Buffer>();
    let items: Record<string, number> = {};
    let withheldNote = false;
    for (const [i, path] of paths.entries()) {
      const page = await get(base, path, sessions[i % sessions.length] as Session);
      if (page.status !== 200) throw new Error(`viewer bench: a record page answered ${String(page.status)}`);
      const shown = sectionItems(page.html);
      if (i === 0) {
        items = shown;
        withheldNote = page.html.includes('cb-withheld');
      }
      pages.set(path, Buffer.from(page.html));
    }
    const personIds = await Promise.all(patientIds.map((id) => samePersonIds(store.engine, id)));
    const bytes = pages.get(paths[0] as string)?.length ?? 0;

    const cookies = sessions.map((s) => s.cookie);
    const loadPlan = { paths, accept: 'text/html', maxRequests: Number.MAX_SAFE_INTEGER, warmupMs: plan.warmupMs };
    log(`viewer: one client, one page at a time, ${String(plan.seconds / 2)} s…`);
    const single = await measured({ ...loadPlan, baseUrl: base, cookies: cookies.slice(0, 1), connections: 1, maxMs: (plan.seconds / 2) * 1000 }, store);
    log(`viewer: ${String(plan.connections)} clients, ${String(plan.seconds)} s…`);
    const profile = process.env['BENCH_VIEWER_CPU_PROFILE'] ? await startCpuProfile() : undefined;
    const record = await measured({ ...loadPlan, baseUrl: base, cookies, connections: plan.connections, maxMs: plan.seconds * 1000 }, store);
    if (profile) log(`viewer: CPU profile of the gateway under the 20 clients written to ${await profile.stop(process.env['BENCH_VIEWER_CPU_PROFILE'] as string)}`);

    // Twice as long: paced sessions send few pages, and the p95 needs enough of them.
    log(`viewer: ${String(plan.connections)} sessions each reading a page for ${String(plan.thinkMs / 1000)} s before the next, ${String(plan.seconds * 2)} s…`);
    const paced = { ...(await measured({ ...loadPlan, baseUrl: base, cookies, connections: plan.connections, maxMs: plan.seconds * 2 * 1000, thinkMs: plan.thinkMs }, store)), thinkMs: plan.thinkMs };

    log('viewer: ceilings (the same bytes from a bare node:http server; the raw SQL of the record)…');
    const bareStarted = await bareServer(pages);
    bare = bareStarted.server;
    const bareHttp = await measured({ ...loadPlan, baseUrl: bareStarted.baseUrl, connections: plan.connections, maxMs: (plan.seconds / 2) * 1000 });
    const rawSql = await rawSqlCeiling(store, personIds, plan.connections, (plan.seconds / 2) * 1000);

    log(`viewer: the record page step by step, ${String(plan.stageRounds)} rounds, one at a time…`);
    const stages = await recordPageStages({ store, config, cookie: cookies[0] as string, patientIds, rounds: plan.stageRounds });
    log('viewer: chromium…');
    const browser = await browserLoads(base, cookies[0] as string, paths[0] as string, plan.browserLoads);

    return {
      engine: 'postgres',
      connections: plan.connections,
      population: {
        persons: population.persons.length,
        population: population.population,
        socialCareRows: population.socialCareRows,
        gpResourcesPerRecord: population.gpResourcesPerRecord,
        hl7Messages: population.hl7Messages,
        resources: population.resources,
        socialCareRowsPerPerson: population.persons.map((p) => p.socialCareRows),
      },
      page: { bytes, items, withheldNote, recordPatients: personIds[0]?.length ?? 0 },
      record,
      paced,
      singleClient: single,
      ceilings: { bareHttp, rawSql },
      stages,
      browser,
      goal: { p95WholeMs: VIEWER_P95_GOAL_MS, met: record.whole.p95Ms < VIEWER_P95_GOAL_MS && record.errors === 0 },
      loadAverage: { start: loadStart, end: loadavg() },
    };
  } finally {
    bare?.closeAllConnections();
    await new Promise<void>((resolve) => (bare ? bare.close(() => resolve()) : resolve()));
    await gateway?.close();
    await stores.dispose();
  }
}

const p = (t: TimingSummary): string => `${ms(t.p50Ms)} / ${ms(t.p95Ms)} / ${ms(t.p99Ms)}`;

export function viewerTable(r: ViewerBenchResults): string {
  const rows: string[][] = [['what', 'clients', 'pages/s', 'first byte p50 / p95 / p99 ms', 'whole page p50 / p95 / p99 ms', 'pages', 'errors', 'bytes', 'CPU ms/page: gateway + PostgreSQL', `goal p95 < ${String(r.goal.p95WholeMs)} ms`]];
  const row = (what: string, clients: number, t: PageTiming, goal = ''): string[] => [what, String(clients), rate(t.pagesPerSecond), p(t.firstByte), p(t.whole), rate(t.requests), rate(t.errors), rate(t.meanBytes), `${ms(t.serverCpuMsPerPage)}${t.postgresCpuMsPerPage === undefined ? '' : ` + ${ms(t.postgresCpuMsPerPage)}`}`, goal];
  rows.push(row('GET /record/{id}, real gateway', r.connections, r.record, r.goal.met ? 'met' : 'NOT MET'));
  rows.push(row(`GET /record/{id}, each session reading ${String(r.paced.thinkMs / 1000)} s between pages`, r.connections, r.paced));
  rows.push(row('GET /record/{id}, one client', 1, r.singleClient));
  rows.push(row('ceiling: same bytes, bare node:http', r.connections, r.ceilings.bareHttp));
  const sql = r.ceilings.rawSql;
  rows.push(['ceiling: raw SQL of the record', String(r.connections), rate(sql.perSecond), '', p(sql.latency), rate(sql.queries), '0', `${rate(sql.rows)} rows`, sql.postgresCpuMsPerQuery === undefined ? '' : `PostgreSQL ${ms(sql.postgresCpuMsPerQuery)}`, '']);
  if ('skipped' in r.browser) {
    rows.push(['chromium, to the load event', '1', '', '', r.browser.skipped, '', '', '', '', '']);
  } else {
    const b = r.browser;
    rows.push(['chromium, to the load event: cold', '1', '', ms(b.cold.responseStartMs), ms(b.cold.loadMs), '1', '0', '', '', '']);
    rows.push([`chromium, to the load event: warm (p50 / p95 / max of ${String(b.warm.load.n)})`, '1', '', ms(b.warm.responseStart.p50Ms), `${ms(b.warm.load.p50Ms)} / ${ms(b.warm.load.p95Ms)} / ${ms(b.warm.load.maxMs)}`, rate(b.warm.load.n), '0', '', '', '']);
  }
  const pop = r.population;
  const items = Object.entries(r.page.items).map(([s, n]) => `${s} ${String(n)}`).join(', ');
  return [
    formatTable(rows),
    `Record: ${String(pop.persons)} persons in rotation, each ${rate(pop.gpResourcesPerRecord)} GP resources, ${String(ENCOUNTERS_PER_PERSON)} stays in four hospitals and a discharge summary, a full social care record; ${rate(pop.resources)} resources in the store (social care extract of ${rate(pop.population)} persons, ${rate(pop.socialCareRows)} rows; ${rate(pop.hl7Messages)} HL7 messages).`,
    `Page: ${rate(r.page.bytes)} bytes, ${String(r.page.recordPatients)} source records of one person; items shown: ${items}${r.page.withheldNote ? '; "some information withheld" shown' : ''}.`,
    `Breakdown, one page at a time with the server idle (bench/viewer-stages.ts, the record page's steps replayed with the gateway's own functions):`,
    stageTable(r.stages),
  ].join('\n');
}

function stageTable(s: StageBreakdown): string {
  const rows: string[][] = [['step', 'SQL statements', 'p50 ms', 'p95 ms', 'mean ms', 'share of mean total']];
  const total = s.total.meanMs;
  for (const [name, t] of Object.entries(s.steps) as [Step, TimingSummary][]) rows.push([name, String(s.statements[name]), ms(t.p50Ms), ms(t.p95Ms), ms(t.meanMs), `${Math.round((t.meanMs / total) * 100)}%`]);
  rows.push(['total of the steps', String(Object.values(s.statements).reduce((n, k) => n + k, 0)), ms(s.total.p50Ms), ms(s.total.p95Ms), ms(total), '100%']);
  return formatTable(rows);
}
