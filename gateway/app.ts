import { randomUUID } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { noAudit, permitAll, PurposeOfUse, type AccessHook, type AuditHook, type Requester } from './access/hooks';
import { SecureReader } from './access/secure-reader';
import { adminRouter } from './api/admin-router';
import { HttpOutcomeError } from './api/errors';
import { accessRouter } from './access/access-router';
import type { AccessComponents } from './access/compose';
import { AuditOperation } from './audit/audit-event';
import { auditRefusals } from './audit/refusal-audit';
import { auditRouter } from './audit/audit-router';
import type { Consent } from '@medplum/fhirtypes';
import { authenticate, authenticateRequest, CareRole, identityOf, IntakeKind, organisationId, requesterOf, requirePerson, requireRole, requireSystem, type Authenticator } from './auth';
import type { OidcRelyingParty } from './auth/oidc-client';
import { viewerRouter } from './viewer/viewer-router';
import { sourceNames } from './auth/source-names';
import { passportRouter } from './passport/passport-router';
import type { PassportService } from './passport/service';
import type { PassportKeySet } from './passport/signing';
import { passportVerifyRouter } from './passport/verify-router';
import { passportPages } from './viewer/passport-pages';
import { privacyPages } from './viewer/privacy-pages';
import { worklistPages } from './viewer/worklist-pages';
import { auditAcknowledgements } from './notify/acknowledge';
import { fhirRouter, outcomeErrorHandler } from './api/fhir-router';
import type { FhirIntake } from './fhir-intake/intake';
import { fhirIntakeRouter, type SystemOf } from './fhir-intake/router';
import { gpIntakeRouter } from './gp/gp-router';
import type { GpIntake } from './gp/intake';
import { hl7Router } from './hl7v2/hl7-router';
import type { Hl7Intake } from './hl7v2/intake';
import { socialCareIntakeRouter, type SocialCareRouterOptions } from './social-care/intake-router';
import { samePersonIds } from './identity/resolver';
import type { Metrics } from './metrics';
import { mountNotifications, type NotifyHttpOptions } from './notify/http';
import type { Store } from './store/store';

export interface AppOptions {
  store: Store;
  logger: Logger;
  metrics: Metrics;
  access?: AccessHook;
  audit?: AuditHook;
  publicBaseUrl?: string;
  /** Verifies bearer tokens and maps them through the directory; every route but the open ones needs it. */
  auth: Authenticator;
  /** The hospital feed's intake, for POST /hl7v2. */
  hl7Intake?: Hl7Intake;
  /** Access operations, the privacy officer's audit API and the viewer (composed by server.ts). */
  accessComponents?: AccessComponents;
  /** Secure cookies and HSTS for the viewer (production, behind TLS). */
  secureCookies?: boolean;
  /** The viewer's OpenID Connect sign-in (OIDC_ISSUER and the other OIDC_ settings). */
  oidc?: OidcRelyingParty;
  /** FHIR R4 intake (POST /intake/fhir) and who the sending system is (system authentication). */
  fhirIntake?: { intake: FhirIntake; systemOf: SystemOf; requireSystem?: express.RequestHandler };
  /** GP Connect structured records, for POST /intake/gp. */
  gpIntake?: GpIntake;
  /** Notifications: /fhir/Subscription, /worklist, /notify (gateway/notify/http.ts). */
  notify?: NotifyHttpOptions;
  /** Social care intake (POST /intake/social-care): upload limit, system authentication hook, worker wake-up. */
  socialCare?: Pick<SocialCareRouterOptions, 'maxUploadBytes' | 'requireSystem' | 'onReceived'>;
  /** Red bag passports: the service, and the keys the public verification uses. */
  passports?: { service: PassportService; keys: PassportKeySet };
}

/** GET /fhir/metadata is public, as on every FHIR server: it describes the API, not anyone's data. */
const isMetadata = (req: Request): boolean => (req.method === 'GET' || req.method === 'HEAD') && /^\/metadata\/?$/.test(req.path);
const metadataReader: Requester = { userId: 'anonymous', purposeOfUse: PurposeOfUse.TREAT };

/** Who is asking, from the verified token; only the public metadata is answered without one. */
function fhirRequester(req: Request): Requester {
  const identity = req.res ? identityOf(req.res) : undefined;
  if (identity) return identity.requester;
  if (isMetadata(req)) return metadataReader;
  throw new HttpOutcomeError(401, 'login', 'A bearer token is required');
}

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

  // Everything below needs a verified token: people read /fhir, admins use /admin, systems post to intake.
  // Refused tokens are audited (the access model: every request that touches a person's data) and counted.
  const authOptions = {
    ...(options.accessComponents ? { onRefused: auditRefusals(options.accessComponents.trail) } : {}),
    countRefusal: (reason: string): void => {
      metrics.authRefusals.inc({ reason });
    },
  };
  const authenticated = authenticate(options.auth, logger, authOptions);
  // Before /fhir: Subscription is the one FHIR write a system may make, and the /fhir router refuses writes.
  if (options.notify) {
    // The notification routes take the verified token's requester (a system for subscriptions, a person for the worklist).
    const tokenRequester = async (req: Request): Promise<Requester | undefined> => {
      const outcome = req.res ? await authenticateRequest(options.auth, req, req.res, logger, authOptions) : await options.auth.authenticate(req.get('authorization'));
      return outcome.status === 'authenticated' ? outcome.identity.requester : undefined;
    };
    const acknowledgementAudit = options.accessComponents ? auditAcknowledgements(options.accessComponents.trail) : undefined;
    mountNotifications(app, store.engine, { requester: tokenRequester, ...(acknowledgementAudit ? { acknowledgementAudit } : {}), ...options.notify });
  }
  const reader = new SecureReader(store.engine, options.access ?? permitAll, options.audit ?? noAudit);
  app.use(
    '/fhir',
    (req, res, next) => {
      if (isMetadata(req)) next();
      else authenticated(req, res, next);
    },
    (req, res, next) => {
      if (isMetadata(req)) next();
      else requirePerson(req, res, next);
    },
    fhirRouter({
      reader,
      logger,
      requester: fhirRequester,
      linkedPatientIds: (id) => samePersonIds(store.engine, id),
      publicBaseUrl: options.publicBaseUrl,
    }),
  );

  app.use('/admin', authenticated, requireRole(CareRole.ADMIN), adminRouter({ store }));
  if (options.hl7Intake) {
    const hl7Sender = requireSystem(IntakeKind.HL7V2);
    const hl7Admin = requireRole(CareRole.ADMIN);
    // POST /hl7v2 is intake (systems allowed to send HL7v2); GET /hl7v2/status is for the integration team (admin).
    app.use('/hl7v2', authenticated, (req, res, next) => (req.method === 'POST' ? hl7Sender : hl7Admin)(req, res, next), hl7Router(options.hl7Intake, store.engine, 1024 * 1024));
  }
  if (options.fhirIntake) {
    // POST /intake/fhir: systems whose directory entry allows FHIR bundles, as themselves (their source URI).
    app.use('/intake/fhir', authenticated, requireSystem(IntakeKind.FHIR_BUNDLE), fhirIntakeRouter(options.fhirIntake.intake, { ...options.fhirIntake, maxBytes: 20 * 1024 * 1024 }));
  }
  if (options.gpIntake) {
    // POST /intake/gp: systems whose directory entry allows GP Connect records.
    app.use('/intake/gp', authenticated, gpIntakeRouter(options.gpIntake, requireSystem(IntakeKind.GP_CONNECT)));
  }
  if (options.socialCare) {
    // POST /intake/social-care, GET /intake/imports/{id}: systems whose directory entry allows social care extracts.
    app.use('/intake', authenticated, socialCareIntakeRouter({ db: store.engine, logger, ...options.socialCare }));
  }

  const components = options.accessComponents;
  if (components) {
    const requester = (_req: Request, res: Response): Requester => requesterOf(res);
    const recordConsent = async (consent: Consent, who: Requester, requestId: string): Promise<void> => {
      const patientId = consent.patient?.reference?.split('/')[1] ?? '';
      const { decision } = await components.access.decide({ requester: who }, patientId);
      if (decision.effect !== 'permit') throw new HttpOutcomeError(403, 'forbidden', 'A decision can be recorded only by someone who may open the record now');
      await store.upsert([consent]);
      const topic = consent.category[1]?.coding?.[0]?.code ?? 'consent';
      await components.trail.recordOperation({ requestId, requester: who, operation: AuditOperation.CONSENT_RECORD, outcome: 'permit', patientIds: [patientId], entities: [`Consent/${consent.id ?? ''}`], reasons: [`recorded ${topic}: ${consent.provision?.type ?? ''}`] });
    };
    app.use('/access', authenticated, requirePerson, accessRouter({ db: store.engine, requester, onGrant: components.onGrant, recordConsent }));
    app.use(
      '/audit',
      authenticated,
      auditRouter({ engine: store.engine, trail: components.trail, requester, requireRole: requireRole(CareRole.PRIVACY_OFFICER), keys: components.checkpointKeys, linkedPatientIds: (id) => samePersonIds(store.engine, id) }),
    );
    const directory = options.auth.directory;
    const { organisationName, sourceName } = sourceNames(directory);
    const passports = options.passports;
    const publicBaseUrl = (req: Request): string => options.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    if (passports) {
      // Public: the verification page the QR code opens, POST /passport/verify, the public keys.
      app.use('/passport', passportVerifyRouter({ keys: passports.keys, lookup: (id) => passports.service.lookup(id), lookupFingerprint: (id, v, h) => passports.service.lookupFingerprint(id, v, h) }));
      app.use('/passport', authenticated, requirePerson, passportRouter({ service: passports.service, requester, publicBaseUrl }));
    }
    app.use(
      '/',
      viewerRouter({
        db: store.engine,
        reader,
        auth: options.auth,
        logger,
        decide: async (request) => {
          const decided = await components.access.decideRequest(request);
          const { decision } = decided;
          return {
            decided,
            effect: decision.effect,
            needsPermissionToView: decision.needsPermissionToView,
            permissionRefused: decision.permissionToView === 'refused',
            breakGlass: decision.breakGlass,
            ...(decision.validUntil ? { validUntil: decision.validUntil } : {}),
            reasons: decision.reasons,
          };
        },
        onGrant: components.onGrant,
        ...(components.mintPersonaToken ? { mintPersonaToken: components.mintPersonaToken } : {}),
        ...(options.oidc ? { oidc: options.oidc } : {}),
        audit: async (record) => {
          await components.trail.recordOperation(record);
        },
        sourceName,
        organisationName,
        secureCookies: options.secureCookies ?? false,
        pages: [
          worklistPages({ db: store.engine, reader, permission: options.notify?.worklistPermission, audit: options.notify?.acknowledgementAudit ?? auditAcknowledgements(components.trail), partyName: (id) => directory.team(id)?.team.name ?? directory.organisation(organisationId(id))?.name ?? id }),
          privacyPages({ engine: store.engine, trail: components.trail, linkedPatientIds: (id) => samePersonIds(store.engine, id), organisationName }),
          ...(passports
            ? [
                passportPages({
                  service: passports.service,
                  reader,
                  decide: async (who, patientId) => (await components.access.decide({ requester: who }, patientId)).decision,
                  publicBaseUrl,
                }),
              ]
            : []),
        ],
      }),
    );
  } else {
    app.get('/', (_req, res) => {
      res.type('html').send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CareBridge</title></head><body>' +
          '<h1>CareBridge</h1><p>Shared care record gateway. The FHIR R4 API is at <a href="/fhir/metadata">/fhir</a>.</p></body></html>',
      );
    });
  }

  app.use(outcomeErrorHandler(logger));
  return app;
}
