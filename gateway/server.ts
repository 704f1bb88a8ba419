import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import type { Config } from './config';
import { demoResources } from './demo/demo-data';
import { loadFhirDefinitions } from './fhir/definitions';
import { loadPdsConfig, PdsClient } from './identity/pds-client';
import { startBackgroundTrace } from './identity/pds-trace';
import { startHl7Feed } from './hl7v2/feed';
import { ingestResources } from './ingest/ingest';
import { createLogger, type Logger } from './logger';
import { Metrics } from './metrics';
import { startSocialCareWorker } from './social-care/worker';
import { EngineKind } from './store/engine';
import { Store } from './store/store';

export const Role = { ALL: 'all', API: 'api', MLLP: 'mllp', WORKER: 'worker' } as const;
export type Role = (typeof Role)[keyof typeof Role];

export interface RunningGateway {
  readonly store: Store;
  readonly logger: Logger;
  readonly httpPort?: number;
  readonly mllpPort?: number;
  close(): Promise<void>;
}

/** Loads the demo population into an empty store. Returns how many resources were written. */
export async function loadDemoDataIfEmpty(store: Store): Promise<number> {
  if ((await store.countResources()) > 0) return 0;
  const result = await ingestResources(store, demoResources());
  return result.written.filter((w) => w.changed).length;
}

/** Starts the roles of one process: the API (HTTP), the MLLP listener, the ingest workers, or all of them. */
export async function startGateway(config: Config, role: Role = Role.ALL, logger: Logger = createLogger(config.logLevel)): Promise<RunningGateway> {
  loadFhirDefinitions();
  const store = await Store.open({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const applied = await store.migrate();
  logger.info({ engine: store.engine.kind, applied }, 'store ready');
  if (config.demoData) {
    const loaded = await loadDemoDataIfEmpty(store);
    if (loaded > 0) logger.info({ resources: loaded }, 'demo data loaded');
  }
  // PGlite has no autovacuum worker: refresh planner statistics ourselves, now and every quarter hour.
  const analyzeTimer =
    store.engine.kind === EngineKind.PGLITE
      ? setInterval(() => {
          store.analyze().catch((err: unknown) => logger.warn({ err }, 'ANALYZE failed'));
        }, 15 * 60_000).unref()
      : undefined;
  if (analyzeTimer) await store.analyze();
  // Tracing unverified NHS numbers against PDS runs where ingest runs, not on API replicas.
  const pds = role === Role.ALL || role === Role.WORKER ? loadPdsConfig() : undefined;
  const stopPdsTrace = pds?.traceIntervalMs
    ? startBackgroundTrace(store, new PdsClient({ baseUrl: pds.baseUrl, accessToken: pds.accessToken }), { intervalMs: pds.traceIntervalMs, logger })
    : undefined;
  const metrics = new Metrics();
  const feed = await startHl7Feed({
    store,
    logger,
    registry: metrics.registry,
    redisUrl: config.redisUrl,
    listenMllp: role === Role.ALL || role === Role.MLLP,
    mllpPort: config.mllpPort,
    runWorkers: role === Role.ALL || role === Role.WORKER,
  });
  // Social care extracts are imported where ingest runs; uploads wake this process's worker at once.
  const socialCare = role === Role.ALL || role === Role.WORKER ? startSocialCareWorker(store, logger) : undefined;
  let server: Server | undefined;
  if (role === Role.ALL || role === Role.API) {
    const app = createApp({
      store,
      logger,
      metrics,
      publicBaseUrl: config.publicBaseUrl,
      adminToken: config.adminToken,
      hl7Intake: feed.intake,
      socialCare: { onReceived: () => void socialCare?.runOnce() },
    });
    const listening = app.listen(config.port);
    server = listening;
    await new Promise<void>((resolve, reject) => {
      listening.once('listening', resolve);
      listening.once('error', reject);
    });
  }
  const httpPort = server ? (server.address() as AddressInfo).port : undefined;
  if (httpPort !== undefined) logger.info({ port: httpPort }, 'HTTP listening');
  return {
    store,
    logger,
    httpPort,
    mllpPort: feed.mllpPort,
    async close(): Promise<void> {
      if (server) {
        const s = server;
        s.closeIdleConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await feed.close();
      await socialCare?.close();
      clearInterval(analyzeTimer);
      await stopPdsTrace?.();
      await store.close();
    },
  };
}
