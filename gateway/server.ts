import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeAccess, type AccessComponents } from './access/compose';
import { raiseDecisionAlerts } from './access/access-audit';
import { createApp } from './app';
import { Authenticator, configuredDirectory, loadAuthConfig } from './auth';
import { OidcRelyingParty } from './auth/oidc-client';
import { loadOidcConfig } from './auth/oidc-config';
import type { Config } from './config';
import { demoResources } from './demo/demo-data';
import { loadFhirDefinitions } from './fhir/definitions';
import { FHIR_INBOX_KIND, FhirIntake } from './fhir-intake/intake';
import { systemOfToken } from './fhir-intake/router';
import { IntakeKind, requireSystem } from './auth';
import { loadPdsConfig, PdsClient } from './identity/pds-client';
import { startBackgroundTrace } from './identity/pds-trace';
import { GP_INBOX_KIND, gpInboxHandler } from './gp/apply';
import { GpIntake } from './gp/intake';
import { startHl7Feed } from './hl7v2/feed';
import { ingestResources } from './ingest/ingest';
import { createLogger, type Logger } from './logger';
import { Metrics } from './metrics';
import { createMailer, mailerConfigFromEnv } from './notify/email';
import { consentNotificationAccess } from './notify/consent-access';
import { startNotifications } from './notify/service';
import { startSocialCareWorker } from './social-care/worker';
import { sourceNames } from './auth/source-names';
import { loadPassportConfig, openPassportKeys } from './passport/passport-config';
import { PassportService } from './passport/service';
import { EngineKind } from './store/engine';
import { Store } from './store/store';

export const Role = { ALL: 'all', API: 'api', MLLP: 'mllp', WORKER: 'worker' } as const;
export type Role = (typeof Role)[keyof typeof Role];

export interface RunningGateway {
  readonly store: Store;
  readonly logger: Logger;
  readonly httpPort?: number;
  readonly mllpPort?: number;
  /** Red bag passports (API and worker roles). */
  readonly passports?: PassportService;
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
  // Authentication settings and the directory are checked before anything opens: a bad one stops the start.
  const authConfig = loadAuthConfig(process.env, config);
  const auth = role === Role.ALL || role === Role.API ? await Authenticator.create(authConfig) : undefined;
  // Notifications are decided per recipient from the directory too, so a worker without the API loads it as well.
  const directory = auth?.directory ?? configuredDirectory(authConfig);
  // The viewer's OpenID Connect sign-in is the API role's: other roles neither read nor check its settings.
  const oidcConfig = auth ? loadOidcConfig(process.env, { production: config.production, clockToleranceSeconds: authConfig.clockToleranceSeconds }) : undefined;
  if (oidcConfig) logger.info({ issuer: oidcConfig.issuer, clientAuthentication: oidcConfig.credentials.method }, 'viewer sign-in with OpenID Connect');
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
  const fhirIntake = new FhirIntake({ store, logger });
  let wakeNotifications = (): void => undefined;
  let wakeJourneys = (): void => undefined;
  const feed = await startHl7Feed({
    store,
    logger,
    registry: metrics.registry,
    redisUrl: config.redisUrl,
    listenMllp: role === Role.ALL || role === Role.MLLP,
    mllpPort: config.mllpPort,
    runWorkers: role === Role.ALL || role === Role.WORKER,
    declaredSenders: directory.systems,
    otherHandlers: { [FHIR_INBOX_KIND]: fhirIntake.handler(), [GP_INBOX_KIND]: gpInboxHandler() },
    // An admission or discharge just applied here is dispatched at once, not at the next poll, and
    // moves a red bag's journey at once.
    onApplied: () => {
      wakeNotifications();
      wakeJourneys();
    },
  });
  // Social care extracts are imported where ingest runs; uploads wake this process's worker at once.
  const socialCare = role === Role.ALL || role === Role.WORKER ? startSocialCareWorker(store, logger) : undefined;
  // Notifications: the dispatcher and delivery workers run where ingest runs; every role serves the routes.
  const mailerConfig = mailerConfigFromEnv();
  const notifyWorkers = role === Role.ALL || role === Role.WORKER;
  const notify = startNotifications({
    store,
    logger,
    registry: metrics.registry,
    redisUrl: config.redisUrl,
    runWorkers: notifyWorkers,
    publicBaseUrl: config.publicBaseUrl ?? `http://localhost:${String(config.port)}`,
    mailer: mailerConfig && notifyWorkers ? createMailer(mailerConfig) : undefined,
    // Who is told: the Caldicott decision of consent/ for each recipient, the person's Consents included.
    access: consentNotificationAccess({ directory }),
  });
  if (notifyWorkers) wakeNotifications = (): void => notify.wake();
  const gpIntake = new GpIntake({ store, queue: feed.queue, logger });
  let server: Server | undefined;
  let accessComponents: AccessComponents | undefined;
  // Red bag passports: the API issues and serves them; workers follow each bag's journey in the outbox.
  const passportConfig = loadPassportConfig(process.env, { dataDir: config.dataDir, production: config.production });
  const passportKeys = await openPassportKeys(passportConfig, { create: true });
  if (auth) accessComponents = await composeAccess(store, auth, authConfig, { dataDir: config.dataDir, production: config.production, logger, decisionCache: config.accessDecisionCache });
  const components = accessComponents;
  const names = auth ? sourceNames(auth.directory) : undefined;
  const passports = passportKeys.signer
    ? new PassportService({
        store,
        signer: passportKeys.signer,
        decide: async (requester, patientId) => {
          if (!components) throw new Error('passport reads are served by the API role');
          return components.access.decide({ requester }, patientId);
        },
        audit: (record) => (components ? components.trail.recordOperation(record) : Promise.resolve()),
        alert: (look) => raiseDecisionAlerts(store.engine, logger, { ...look, now: new Date() }),
        sourceName: (source) => names?.sourceName(source) ?? (source ?? 'unknown source'),
        sourceOrganisation: (source) => auth?.directory.systems.find((s) => s.sourceUri === source)?.organisation,
        fhirBase: `${config.publicBaseUrl ?? `http://localhost:${String(config.port)}`}/fhir`,
        logger,
        // Journey steps are notifications: dispatched at once where the dispatcher runs in this process.
        onEvents: () => wakeNotifications(),
      })
    : undefined;
  // Red bag journeys follow the hospital's messages: every PASSPORT_FOLLOW_SECONDS, and at once when this process applies one.
  let followTimer: NodeJS.Timeout | undefined;
  if (passports && passportConfig.followIntervalMs > 0 && (role === Role.ALL || role === Role.WORKER)) {
    wakeJourneys = (): void => {
      passports.followAll().catch((err: unknown) => logger.warn({ err }, 'red bag journeys: follow failed; retried next time'));
    };
    followTimer = setInterval(wakeJourneys, passportConfig.followIntervalMs).unref();
  }
  if (auth && accessComponents) {
    const app = createApp({
      store,
      logger,
      metrics,
      publicBaseUrl: config.publicBaseUrl,
      auth,
      hl7Intake: feed.intake,
      access: accessComponents.access,
      audit: accessComponents.audit,
      accessComponents,
      secureCookies: config.production,
      ...(oidcConfig ? { oidc: new OidcRelyingParty(oidcConfig) } : {}),
      fhirIntake: { intake: fhirIntake, systemOf: systemOfToken },
      gpIntake,
      notify: { allowHttp: !config.production, emailEnabled: mailerConfig !== undefined, publicBaseUrl: config.publicBaseUrl },
      socialCare: { onReceived: () => void socialCare?.runOnce(), requireSystem: requireSystem(IntakeKind.SOCIAL_CARE_EXTRACT) },
      ...(passports ? { passports: { service: passports, keys: passportKeys.keys } } : {}),
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
    ...(passports ? { passports } : {}),
    async close(): Promise<void> {
      clearInterval(followTimer);
      if (server) {
        const s = server;
        s.closeIdleConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await feed.close();
      await accessComponents?.close();
      await notify.close();
      await socialCare?.close();
      clearInterval(analyzeTimer);
      await stopPdsTrace?.();
      await store.close();
    },
  };
}
