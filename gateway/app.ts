import { randomUUID } from 'node:crypto';
import express, { type Express, type Request } from 'express';
import type { Logger } from 'pino';
import { noAudit, permitAll, PurposeOfUse, type AccessHook, type AuditHook, type Requester } from './access/hooks';
import { SecureReader } from './access/secure-reader';
import { adminRouter } from './api/admin-router';
import { fhirRouter, outcomeErrorHandler } from './api/fhir-router';
import { hl7Router } from './hl7v2/hl7-router';
import type { Hl7Intake } from './hl7v2/intake';
import { socialCareIntakeRouter, type SocialCareRouterOptions } from './social-care/intake-router';
import { samePersonIds } from './identity/resolver';
import type { Metrics } from './metrics';
import type { Store } from './store/store';

export interface AppOptions {
  store: Store;
  logger: Logger;
  metrics: Metrics;
  access?: AccessHook;
  audit?: AuditHook;
  publicBaseUrl?: string;
  /** Shared secret for the admin API until token authentication lands; unset switches it off. */
  adminToken?: string;
  /** The hospital feed's intake, for POST /hl7v2. */
  hl7Intake?: Hl7Intake;
  /** Social care intake (POST /intake/social-care): upload limit, system authentication hook, worker wake-up. */
  socialCare?: Pick<SocialCareRouterOptions, 'maxUploadBytes' | 'requireSystem' | 'onReceived'>;
}

/** Until authentication lands every caller is the same anonymous reader, treated as direct care. */
const anonymousRequester = (_req: Request): Requester => ({ userId: 'anonymous', purposeOfUse: PurposeOfUse.TREAT });

export function createApp(options: AppOptions): Express {
  const { store, logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.set('etag', false);

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.locals['requestId'] = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // The route pattern, never the URL: paths and queries can carry identifiers and names.
      const routePath = (req.route as { path?: string } | undefined)?.path;
      const route = routePath ? `${req.baseUrl}${routePath}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method: req.method, route }, seconds);
      logger.debug({ requestId, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = await store.readiness();
    res.status(readiness.ok ? 200 : 503).json(readiness);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const reader = new SecureReader(store.engine, options.access ?? permitAll, options.audit ?? noAudit);
  app.use(
    '/fhir',
    fhirRouter({
      reader,
      logger,
      requester: anonymousRequester,
      linkedPatientIds: (id) => samePersonIds(store.engine, id),
      publicBaseUrl: options.publicBaseUrl,
    }),
  );

  app.use('/admin', adminRouter({ store, adminToken: options.adminToken }));
  if (options.hl7Intake) app.use('/hl7v2', hl7Router(options.hl7Intake, store.engine, 1024 * 1024));
  app.use('/intake', socialCareIntakeRouter({ db: store.engine, logger, ...options.socialCare }));

  app.get('/', (_req, res) => {
    res.type('html').send(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CareBridge</title></head><body>' +
        '<h1>CareBridge</h1><p>Shared care record gateway. The FHIR R4 API is at <a href="/fhir/metadata">/fhir</a>.</p></body></html>',
    );
  });

  app.use(outcomeErrorHandler(logger));
  return app;
}
