import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import type { Express } from 'express';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { composeAccess, type AccessComponents } from '../gateway/access/compose';
import { GrantKind, recordGrant } from '../gateway/access/grants';
import { createApp } from '../gateway/app';
import { Authenticator, demoDirectory, TokenVerifier, type AuthConfig, type PersonRequester } from '../gateway/auth';
import { generateDevKeyPair, mintToken, type DevKeyPair } from '../gateway/auth/dev-keys';
import { samePersonIds } from '../gateway/identity/resolver';
import { ingestResources } from '../gateway/ingest/ingest';
import { createLogger } from '../gateway/logger';
import { Metrics } from '../gateway/metrics';
import type { Store } from '../gateway/store/store';
import { NHS_NUMBER_SYSTEM } from '../mappings/identity/nhs-number';
import { ODS_ORGANIZATION_SYSTEM } from '../mappings/identifiers';
import { accessBreakdown, type OperationBreakdown } from './access-breakdown';
import { runLoadProcess } from './api-bench';
import { loadRealisticPersons, type RealisticPerson } from './access-record';
import type { BenchStores } from './bench-stores';
import type { LoadResult } from './load-client';
import { samplePicks } from './lookup-paths';
import { localPostmaster, processCpuMs, treeCpuMs } from './process-cpu';
import { summarise, type LatencySummary } from './stats';
import { RESOURCES_PER_PATIENT, syntheticPopulation } from './synthetic-data';
import { formatTable, ms, rate } from './table';

/**
 * What Caldicott costs on the read path (issue 7): read-by-id, Patient search by NHS number and
 * Patient/{id}/$everything of a realistic record, through the real app over HTTP on PostgreSQL,
 * with access control and audit ON, composed exactly as gateway/server.ts composes them
 * (composeAccess: the CaldicottAccess hook, the hash-chained AuditTrail with signed checkpoints,
 * auditWithAccess), against the SAME requests with the permit-all hook and no audit (createApp's
 * defaults, `permitAll` and `noAudit`), on the same store in the same run. Both apps verify the
 * same real ES256 bearer token: a GP of the people's registered practice, who has recorded that
 * each gave permission to view (the model asks for it once per session), so every enforced
 * request is permitted on a legitimate relationship. A third configuration, the access hook with
 * no audit, splits the cost between the decision and the audit trail. The configurations take
 * turns round by round, each round starting with the next, so drift on a shared machine hits all
 * alike; the CPU each round costs this process (the app) and the local PostgreSQL is read from
 * /proc. The load generator is a separate process (bench/load-client.ts) on the same cores. Then
 * the same requests one at a time through the handlers, stage by stage (bench/access-breakdown.ts).
 */
export interface AccessBenchOptions {
  /** Synthetic people for reads and searches (five resources each). */
  readonly patients: number;
  /** Realistic multi-source records for $everything. */
  readonly persons: number;
  /** Measured seconds per operation and configuration, split over the rounds. */
  readonly seconds: number;
  readonly rounds: number;
  readonly connections: number;
  /** Distinct request paths per operation (the load cycles through them). */
  readonly paths: number;
  /** Requests per operation and configuration in the stage-by-stage breakdown (bench/access-breakdown.ts). */
  readonly breakdownRequests: number;
  readonly workDir: string;
  readonly log: (message: string) => void;
}

export interface AccessTiming extends LatencySummary {
  readonly requests: number;
  readonly errors: number;
  readonly ms: number;
  readonly perSecond: number;
}

/** CPU ms per request under load: this process (the app: HTTP, token, access, audit) and the local PostgreSQL, when it is local. */
export interface CpuPerRequest {
  readonly serverMs: number;
  readonly databaseMs?: number;
}

/** off: permit-all, no audit; access: the Caldicott hook without audit; on: access control and audit, as in production. */
export const Configuration = { OFF: 'off', ACCESS: 'access', ON: 'on' } as const;
export type Configuration = (typeof Configuration)[keyof typeof Configuration];
const CONFIGURATIONS: readonly Configuration[] = [Configuration.OFF, Configuration.ACCESS, Configuration.ON];

export interface AccessOperationResult {
  readonly off: AccessTiming;
  readonly on: AccessTiming;
  /** Access control alone (no audit): how the cost splits between the decision and the audit trail. */
  readonly access: AccessTiming;
  readonly cpu: Readonly<Record<Configuration, CpuPerRequest>>;
  /** Time per request enforced over unenforced, at the same concurrency: off req/s ÷ on req/s. */
  readonly cost: number;
  readonly p50Cost: number;
  /** The same for access control alone: off req/s ÷ access req/s. */
  readonly accessCost: number;
}

export interface AccessBenchResult {
  readonly population: { readonly patients: number; readonly resources: number; readonly grants: number };
  readonly records: { readonly persons: number; readonly resources: readonly number[]; readonly sources: number; readonly everythingEntries: { readonly off: number; readonly on: number } };
  readonly connections: number;
  readonly rounds: number;
  readonly secondsPerConfiguration: number;
  readonly read: AccessOperationResult;
  readonly search: AccessOperationResult;
  readonly everything: AccessOperationResult;
  /** Audit entries the enforced runs wrote, and the enforced requests measured (warm-ups are audited too). */
  readonly audit: { readonly entries: number; readonly measuredRequests: number };
  /** What a hospital clinician with no relationship got for the first read, on and off. */
  readonly strangerRead: { readonly on: number; readonly off: number };
  readonly breakdown: readonly OperationBreakdown[];
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
}

const ISSUER = 'https://idp.bench.invalid';
const AUDIENCE = 'carebridge-bench';
/** The demo directory's GP practice: the people's registered practice and the reader's organisation. */
const PRACTICE_ODS = 'Y90001';
const WARMUP_MS = 1_000;

async function listen(app: Express): Promise<{ server: Server; baseUrl: string }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const bearer = async (keys: DevKeyPair, claims: Record<string, string>): Promise<string> =>
  `Bearer ${await mintToken(keys, claims, { issuer: ISSUER, audience: AUDIENCE, expiresInSeconds: 6 * 3600 })}`;

async function getJson(baseUrl: string, path: string, authorization: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}${path}`, { headers: { authorization, accept: 'application/fhir+json' } });
  return { status: response.status, body: await response.json() };
}

/** The resources of a searchset (the "something was withheld" OperationOutcome is not one). */
const entriesOf = (bundle: unknown): Resource[] => ((bundle as Bundle).entry ?? []).flatMap((e) => (e.resource && e.resource.resourceType !== 'OperationOutcome' ? [e.resource] : []));

function timing(results: readonly LoadResult[]): AccessTiming {
  const latencies = results.flatMap((r) => r.latenciesMs);
  const requests = results.reduce((n, r) => n + r.requests, 0);
  const elapsed = results.reduce((n, r) => n + r.ms, 0);
  return { ...summarise(latencies), requests, errors: results.reduce((n, r) => n + r.errors, 0), ms: elapsed, perSecond: (requests / elapsed) * 1000 };
}

/** The population for reads and searches, registered at the practice, through ingest (identity resolution included). */
async function loadPopulation(store: Store, skip: number, patients: number): Promise<{ resources: Resource[]; nhsNumbers: string[]; patientIds: string[] }> {
  const population = syntheticPopulation(skip + patients);
  const practice = { reference: 'Organization/bench-practice', identifier: { system: ODS_ORGANIZATION_SYSTEM, value: PRACTICE_ODS } };
  // The first `skip` NHS numbers are the realistic records' (the social care generator's, from the same range).
  const resources = population.resources.slice(skip * RESOURCES_PER_PATIENT).map((r): Resource => (r.resourceType === 'Patient' ? { ...r, generalPractitioner: [practice] } : r));
  const batch = 100 * RESOURCES_PER_PATIENT;
  for (let i = 0; i < resources.length; i += batch) await ingestResources(store, resources.slice(i, i + batch));
  return { resources, nhsNumbers: population.nhsNumbers.slice(skip), patientIds: population.patientIds.slice(skip) };
}

export async function benchAccess(stores: BenchStores, options: AccessBenchOptions): Promise<AccessBenchResult> {
  const loadStart = loadavg();
  const { log } = options;
  const store = await stores.fresh('access');
  log(`access: ${String(options.persons)} realistic records (social care extract, GP Connect record, hospital stays over HL7v2), each through its intake…`);
  const { persons, extractPersons } = await loadRealisticPersons(store, { count: options.persons, practiceOds: PRACTICE_ODS, workDir: options.workDir });
  log(`access: records of ${persons.map((p) => String(p.resources)).join(', ')} resources; ${String(options.patients)} more people (${String(options.patients * RESOURCES_PER_PATIENT)} resources) through ingest…`);
  const population = await loadPopulation(store, extractPersons, options.patients);

  const keys = await generateDevKeyPair();
  const verifier = await TokenVerifier.create({ issuer: ISSUER, audience: AUDIENCE, publicKeys: [{ kid: keys.kid, key: keys.publicKey }] });
  const auth = new Authenticator(verifier, demoDirectory());
  const authorization = await bearer(keys, { sub: 'bench-gp', role: 'gp', org: PRACTICE_ODS });
  const stranger = await bearer(keys, { sub: 'bench-stranger', role: 'hospital_clinician', org: 'X9Z' });
  const outcome = await auth.authenticate(authorization);
  if (outcome.status !== 'authenticated' || outcome.identity.kind !== 'person') throw new Error(`access bench: the GP's token was not accepted (${outcome.status})`);
  const gp: PersonRequester = outcome.identity.requester;

  // The GP's session: permission to view recorded for each person they open (consent/ asks for it once per 8 hours).
  const opened = [...persons.map((p) => p.gpPatientId), ...population.patientIds];
  const now = new Date();
  for (const patientId of opened) {
    await recordGrant(store.engine, { kind: GrantKind.PERMISSION_TO_VIEW, requester: gp, patientId, personIds: await samePersonIds(store.engine, patientId), decision: 'given', requestId: 'bench-session', now });
  }
  await stores.settle(store);
  await store.engine.exec('VACUUM (ANALYZE) access_grant, identity_person, identity_member');

  const logger = createLogger('silent');
  // As gateway/server.ts: composeAccess over the store (audit keys in DATA_DIR, the directory's sources), handed to createApp.
  const authConfig: AuthConfig = { issuer: ISSUER, audience: AUDIENCE, publicKeyFiles: [], devAuth: false, dataDir: options.workDir, clockToleranceSeconds: 60, jwksCooldownSeconds: 30, production: false };
  const components: AccessComponents = await composeAccess(store, auth, authConfig, { dataDir: options.workDir, production: false, logger });
  const on = await listen(createApp({ store, logger, metrics: new Metrics(false), auth, access: components.access, audit: components.audit, accessComponents: components }));
  const off = await listen(createApp({ store, logger, metrics: new Metrics(false), auth }));
  const accessOnly = await listen(createApp({ store, logger, metrics: new Metrics(false), auth, access: components.access }));
  const apps: Record<Configuration, string> = { off: off.baseUrl, access: accessOnly.baseUrl, on: on.baseUrl };
  try {
    const readKeys = samplePicks(population.resources.map((r) => ({ type: r.resourceType, id: r.id ?? '' })), options.paths);
    const searchKeys = samplePicks(population.nhsNumbers.map((n, i) => [n, population.patientIds[i] as string] as const), options.paths, 7);
    const paths = {
      read: readKeys.map((k) => `/fhir/${k.type}/${k.id}`),
      search: searchKeys.map(([n]) => `/fhir/Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${n}`)}`),
      everything: persons.map((p) => `/fhir/Patient/${p.gpPatientId}/$everything`),
    };
    const checked = await checkAnswers({ on: on.baseUrl, off: off.baseUrl }, authorization, stranger, paths, searchKeys[0]?.[1] ?? '', persons[0] as RealisticPerson);

    const roundMs = (options.seconds * 1000) / options.rounds;
    const postmaster = await localPostmaster(store.engine);
    const results = {} as Record<'read' | 'search' | 'everything', AccessOperationResult>;
    for (const op of ['read', 'search', 'everything'] as const) {
      log(`access: ${op}, ${String(options.rounds)} rounds of ${(roundMs / 1000).toFixed(1)} s per configuration (off, access only, on), ${String(options.connections)} clients, taking turns…`);
      const runs: Record<Configuration, LoadResult[]> = { off: [], access: [], on: [] };
      const cpu: Record<Configuration, { server: number; database: number; requests: number }> = { off: { server: 0, database: 0, requests: 0 }, access: { server: 0, database: 0, requests: 0 }, on: { server: 0, database: 0, requests: 0 } };
      for (let round = 0; round < options.rounds; round++) {
        // Each round starts with the next configuration, so none always follows the same one.
        const order = CONFIGURATIONS.map((_, i) => CONFIGURATIONS[(i + round) % CONFIGURATIONS.length] as Configuration);
        for (const which of order) {
          const baseUrl = apps[which];
          const server = processCpuMs();
          const database = postmaster === undefined ? 0 : treeCpuMs(postmaster);
          const result = await runLoadProcess({ baseUrl, paths: paths[op], authorization, connections: options.connections, maxRequests: Number.MAX_SAFE_INTEGER, maxMs: roundMs, warmupMs: WARMUP_MS });
          runs[which].push(result);
          cpu[which].server += processCpuMs() - server;
          if (postmaster !== undefined) cpu[which].database += treeCpuMs(postmaster) - database;
          // The warm-up's requests ran at the measured rate; the load process starting up costs the server next to nothing.
          cpu[which].requests += result.requests * (1 + WARMUP_MS / result.ms);
        }
      }
      const offTiming = timing(runs.off);
      const onTiming = timing(runs.on);
      const accessTiming = timing(runs.access);
      const perRequest = (c: { server: number; database: number; requests: number }): CpuPerRequest => ({ serverMs: c.server / c.requests, ...(postmaster === undefined ? {} : { databaseMs: c.database / c.requests }) });
      results[op] = {
        off: offTiming,
        on: onTiming,
        access: accessTiming,
        cpu: { off: perRequest(cpu.off), access: perRequest(cpu.access), on: perRequest(cpu.on) },
        cost: offTiming.perSecond / onTiming.perSecond,
        p50Cost: onTiming.p50Ms / offTiming.p50Ms,
        accessCost: offTiming.perSecond / accessTiming.perSecond,
      };
    }
    await components.close();
    const entries = (await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_event')).rows[0]?.n ?? 0;
    const measuredRequests = results.read.on.requests + results.search.on.requests + results.everything.on.requests;
    if (entries < measuredRequests) throw new Error(`access bench: ${String(measuredRequests)} enforced requests but only ${String(entries)} audit entries`);
    log(`access: where the enforced time goes, ${String(options.breakdownRequests)} requests of each kind one at a time…`);
    const breakdown = await accessBreakdown({
      store,
      requester: gp,
      directory: auth.directory,
      dataDir: options.workDir,
      logger,
      reads: readKeys,
      nhsNumbers: searchKeys.map(([n]) => n),
      everything: persons.map((p) => p.gpPatientId),
      requests: options.breakdownRequests,
    });
    return {
      population: { patients: options.patients, resources: population.resources.length, grants: opened.length },
      records: { persons: persons.length, resources: persons.map((p) => p.resources), sources: checked.sources, everythingEntries: checked.everythingEntries },
      connections: options.connections,
      rounds: options.rounds,
      secondsPerConfiguration: options.seconds,
      ...results,
      audit: { entries, measuredRequests },
      strangerRead: checked.strangerRead,
      breakdown,
      loadAverage: { start: loadStart, end: loadavg() },
    };
  } finally {
    await close(on.server);
    await close(off.server);
    await close(accessOnly.server);
    await components.close();
  }
}

/**
 * One request of each kind on both apps, checked, so the load measures correct answers: the same
 * resource read, the person found, the whole record from its three sources; and a clinician with
 * no relationship refused on the enforced app (so it is really on) and served on the other.
 */
async function checkAnswers(
  base: { on: string; off: string },
  authorization: string,
  stranger: string,
  paths: { read: readonly string[]; search: readonly string[]; everything: readonly string[] },
  searchedPatientId: string,
  person: RealisticPerson,
): Promise<{ sources: number; everythingEntries: { off: number; on: number }; strangerRead: { on: number; off: number } }> {
  const everythingEntries = { off: 0, on: 0 };
  let sources = 0;
  for (const which of ['off', 'on'] as const) {
    const readPath = paths.read[0] ?? '';
    const read = await getJson(base[which], readPath, authorization);
    if (read.status !== 200 || `/fhir/${(read.body as Resource).resourceType}/${(read.body as Resource).id ?? ''}` !== readPath) throw new Error(`access bench (${which}): read by id answered ${String(read.status)}`);
    const search = await getJson(base[which], paths.search[0] ?? '', authorization);
    if (search.status !== 200 || !entriesOf(search.body).some((r) => r.resourceType === 'Patient' && r.id === searchedPatientId)) throw new Error(`access bench (${which}): search by NHS number answered ${String(search.status)} without the person`);
    const everything = await getJson(base[which], `/fhir/Patient/${person.gpPatientId}/$everything`, authorization);
    const resources = entriesOf(everything.body);
    if (everything.status !== 200 || resources.length === 0) throw new Error(`access bench (${which}): $everything answered ${String(everything.status)} with ${String(resources.length)} resources`);
    everythingEntries[which] = resources.length;
    if (which === 'on') sources = new Set(resources.flatMap((r) => (r.meta?.source ? [r.meta.source] : []))).size;
  }
  if (sources < 3) throw new Error(`access bench: the enforced $everything holds ${String(sources)} sources, not the person's three`);
  const strangerRead = { on: (await getJson(base.on, paths.read[0] ?? '', stranger)).status, off: (await getJson(base.off, paths.read[0] ?? '', stranger)).status };
  if (strangerRead.on !== 403 || strangerRead.off !== 200) throw new Error(`access bench: a clinician with no relationship got ${String(strangerRead.on)} (enforced) and ${String(strangerRead.off)} (permit-all), not 403 and 200`);
  return { sources, everythingEntries, strangerRead };
}

export function accessTable(r: AccessBenchResult, cores: number, goals: { maxCost: number; minEnforcedPerSecond: number }): string {
  const rows: string[][] = [['operation', 'off req/s', 'off p50 ms', 'off p99 ms', 'on req/s', 'on p50 ms', 'on p99 ms', 'on/off cost', 'p50 on/off', 'access only req/s', 'access only cost', 'errors', `goal ≤ ${goals.maxCost.toFixed(1)}×`]];
  const ops = [
    ['GET /fhir/{type}/{id}', r.read],
    ['GET /fhir/Patient?identifier=<nhs>', r.search],
    ['GET /fhir/Patient/{id}/$everything', r.everything],
  ] as const;
  for (const [label, o] of ops) {
    rows.push([
      label,
      rate(o.off.perSecond),
      ms(o.off.p50Ms),
      ms(o.off.p99Ms),
      rate(o.on.perSecond),
      ms(o.on.p50Ms),
      ms(o.on.p99Ms),
      `${o.cost.toFixed(2)}×`,
      `${o.p50Cost.toFixed(2)}×`,
      rate(o.access.perSecond),
      `${o.accessCost.toFixed(2)}×`,
      rate(o.off.errors + o.on.errors + o.access.errors),
      o.cost <= goals.maxCost ? 'met' : 'NOT MET',
    ]);
  }
  const cpuRows: string[][] = [['CPU ms per request under load', 'off: server', 'off: database', 'access only: server', 'access only: database', 'on: server', 'on: database']];
  for (const [label, o] of ops) {
    const db = (c: CpuPerRequest): string => (c.databaseMs === undefined ? '—' : ms(c.databaseMs));
    cpuRows.push([label, ms(o.cpu.off.serverMs), db(o.cpu.off), ms(o.cpu.access.serverMs), db(o.cpu.access), ms(o.cpu.on.serverMs), db(o.cpu.on)]);
  }
  const best = Math.max(r.read.on.perSecond, r.search.on.perSecond);
  const onCores = cores === 2 ? '' : ` (on ${String(cores)} cores; the goal is for 2)`;
  return [
    formatTable(rows),
    '',
    formatTable(cpuRows),
    '(server: this Node process, the app with token check, access and audit; database: the local PostgreSQL and its processes; the load generator is not counted)',
    '',
    `Enforced, audited reads-by-id or searches: ${rate(best)}/s; goal ≥ ${rate(goals.minEnforcedPerSecond)}/s ${best >= goals.minEnforcedPerSecond ? 'met' : 'NOT MET'}${onCores}.`,
    `$everything: ${String(r.records.persons)} records of ${r.records.resources.join(', ')} resources from ${String(r.records.sources)} sources (GP Connect, council social care, hospital HL7v2); the GP is served ${String(r.records.everythingEntries.on)} of the ${String(r.records.everythingEntries.off)} entries permit-all returns (labelled items withheld).`,
    `Population: ${rate(r.population.resources)} resources of ${rate(r.population.patients)} people, ${rate(r.population.grants)} permission-to-view grants; ${rate(r.audit.entries)} audit entries for ${rate(r.audit.measuredRequests)} measured enforced requests (warm-ups are audited too; $everything writes two); a clinician with no relationship got ${String(r.strangerRead.on)} enforced, ${String(r.strangerRead.off)} permit-all.`,
  ].join('\n');
}
