import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Patient, Resource } from '@medplum/fhirtypes';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, normaliseNhsNumber } from '../../mappings/identity/nhs-number';
import { GrantKind, PermissionToView, recordGrant, SELF_CLAIM_REASON_TEXT, SelfClaimReason, type Grant } from '../access/grants';
import { Interaction, type ReadRequest, type Requester } from '../access/hooks';
import type { PersonAccess } from '../access/caldicott-access';
import type { SecureReader } from '../access/secure-reader';
import { parseSearch } from '../api/search-parser';
import { roleCapabilities } from '../../consent/scope';
import { AlertStatus, listAlerts } from '../audit/alerts';
import type { OperationRecord } from '../audit/audit-event';
import type { Authenticator } from '../auth';
import { identityFromClaims, type Identity } from '../auth/identity';
import type { OidcRelyingParty } from '../auth/oidc-client';
import { samePersonIds } from '../identity/resolver';
import type { SqlClient } from '../store/engine';
import { navigationFor } from './navigation';
import { oidcSignInRoutes } from './oidc-sign-in';
import type { RecordLink, RecordLinkProvider, ViewerPages } from './page-kit';
import { personaByKey, PERSONAS } from './personas';
import { buildRecordView } from './record-view';
import { createRenderer, NHSUK_DIST, ROOT } from './render';
import { closeSession, csrfMatches, findSession, openSession, SessionKind, type ViewerSession } from './sessions';

/**
 * The clinicians' and care staff's web view of the shared record (issue: the viewer). Server-side
 * pages on the NHS.UK design system that work without scripts; every read goes through the same
 * SecureReader (access rules, audit) as the FHIR API, as the signed-in user.
 */

/** What the viewer needs to know of a person's access decision to choose the page. */
export interface ViewerDecision {
  readonly effect: 'permit' | 'deny';
  readonly needsPermissionToView: boolean;
  readonly permissionRefused: boolean;
  readonly breakGlass: boolean;
  readonly validUntil?: string;
  readonly reasons: readonly string[];
  /** The decision itself (with every source record of the person it read), handed on to the record page's links so they do not take it again. */
  readonly decided: PersonAccess;
}

export interface ViewerOptions {
  readonly db: SqlClient;
  readonly reader: SecureReader;
  readonly auth: Authenticator;
  readonly logger: Logger;
  /**
   * The access decision for a record page's $everything request (its requester, its patient),
   * taken once: the reader's scope for the same request object is this decision.
   */
  readonly decide: (request: ReadRequest) => Promise<ViewerDecision>;
  /** Audit and alert for an access operation (permission to view, claim, break-glass). */
  readonly onGrant: (grant: Grant, requester: Requester, requestId: string) => Promise<void>;
  /** Development sign-in: mints a token for a persona's claims. Undefined when development auth is off. */
  readonly mintPersonaToken?: (claims: Record<string, unknown>) => Promise<string>;
  /** OpenID Connect sign-in (production). Undefined when OIDC_ISSUER is unset. */
  readonly oidc?: OidcRelyingParty;
  /** The audit trail, for OpenID Connect sign-ins. */
  readonly audit?: (record: OperationRecord) => Promise<void>;
  /** Display name of the organisation a source system belongs to, for "From …" on each item. */
  readonly sourceName: (source: string | undefined) => string;
  readonly organisationName: (organisation: string | undefined) => string;
  readonly secureCookies: boolean;
  readonly now?: () => Date;
  /** Pages kept in files of their own (worklist, privacy officer's), registered on this router. */
  readonly pages?: readonly ViewerPages[];
}

const ROLE_LABEL: Partial<Record<string, string>> = {
  gp: 'GP', hospital_clinician: 'Hospital clinician', community_nurse: 'Community nurse', mental_health: 'Mental health practitioner', social_worker: 'Social worker',
  care_coordinator: 'Care co-ordinator', therapist: 'Therapist', pharmacist: 'Pharmacist', urgent_care: 'Urgent care', care_home_staff: 'Care home staff',
  voluntary_sector: 'Voluntary sector', admin: 'Administrator', privacy_officer: 'Privacy officer',
};

interface SignedIn {
  readonly session: ViewerSession;
  readonly requester: Requester;
}

const MAX_RECORD_ITEMS = 5000;

export function viewerRouter(options: ViewerOptions): Router {
  const router = express.Router();
  const render = createRenderer();
  const recordLinkProviders: RecordLinkProvider[] = [];
  const now = options.now ?? ((): Date => new Date());
  const cookieName = options.secureCookies ? '__Host-carebridge-session' : 'carebridge-session';

  router.use('/assets', express.static(join(ROOT, 'gateway', 'viewer', 'assets'), { index: false, fallthrough: true, maxAge: '1h' }));
  router.use('/assets', express.static(join(NHSUK_DIST, 'nhsuk'), { index: false, fallthrough: true, maxAge: '1h' }));
  router.use('/assets', express.static(join(NHSUK_DIST, 'nhsuk', 'assets'), { index: false, fallthrough: false, maxAge: '1h' }));

  router.use((_req, res, next) => {
    res.locals['cspNonce'] = randomBytes(16).toString('base64');
    next();
  });
  router.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'script-src': ["'self'", (_req, res) => `'nonce-${String((res as Response).locals['cspNonce'])}'`],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          // The sign-out form is answered with a redirect to the identity provider's sign-out page.
          'form-action': ["'self'", (_req, _res) => options.oidc?.endSessionOrigin() ?? "'self'"],
          'frame-ancestors': ["'none'"],
          'upgrade-insecure-requests': options.secureCookies ? [] : null,
        },
      },
      strictTransportSecurity: options.secureCookies,
      // same-origin: our own forms carry an Origin (the POST check needs it); nothing leaks to other sites.
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  // 64kb: the care home's transfer form has a score of free-text fields.
  router.use(express.urlencoded({ extended: false, limit: '64kb' }));
  router.use((_req, res, next) => {
    // Pages show patient data: never cached by browsers or proxies.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  const namedCookie = (req: Request, wanted: string): string | undefined => {
    const header = req.get('cookie') ?? '';
    for (const part of header.split(';')) {
      const [name, ...value] = part.trim().split('=');
      if (name === wanted) {
        try {
          return decodeURIComponent(value.join('='));
        } catch {
          return undefined;
        }
      }
    }
    return undefined;
  };
  const cookieOf = (req: Request): string | undefined => namedCookie(req, cookieName);

  /** POSTs must come from our own pages: the Origin (or Referer) names this host. */
  router.use((req, res, next) => {
    if (req.method !== 'POST') {
      next();
      return;
    }
    const origin = req.get('origin') ?? req.get('referer');
    const host = req.get('host');
    if (!origin || !host || !URL.canParse(origin) || new URL(origin).host !== host) {
      res.status(403);
      page(res, 'message.njk', { title: 'Request refused', message: 'This form was not sent from CareBridge. Go back and try again.' });
      return;
    }
    next();
  });

  const page = (res: Response, template: string, context: Record<string, unknown>): void => {
    res.type('html').send(render.render(template, { cspNonce: res.locals['cspNonce'] as string, ...context }));
  };

  /** Who a session is, now: its token verified again, or its OpenID Connect claims through the directory again. */
  const sessionIdentity = async (session: ViewerSession): Promise<Identity | undefined> => {
    switch (session.kind) {
      case SessionKind.TOKEN: {
        const outcome = await options.auth.authenticate(`Bearer ${session.token}`);
        return outcome.status === 'authenticated' ? outcome.identity : undefined;
      }
      case SessionKind.OIDC: {
        // Only sessions this deployment can still verify: OpenID Connect must still be configured.
        if (!options.oidc || !session.claims) return undefined;
        const outcome = identityFromClaims(session.claims, options.auth.directory);
        return outcome.ok ? outcome.identity : undefined;
      }
    }
  };

  const signedIn = async (req: Request, res: Response): Promise<SignedIn | undefined> => {
    const id = cookieOf(req);
    if (!id) return undefined;
    const session = await findSession(options.db, id, now());
    if (!session) return undefined;
    const identity = await sessionIdentity(session);
    if (identity?.kind !== 'person') return undefined;
    const { requester } = identity;
    res.locals['user'] = {
      name: requester.displayName ?? requester.userId,
      role: requester.role,
      roleLabel: ROLE_LABEL[requester.role],
      organisationName: options.organisationName(requester.organisation),
      navigation: navigationFor(requester.role),
    };
    return { session, requester };
  };

  const requireSignIn = (handler: (req: Request, res: Response, user: SignedIn) => Promise<void>) => async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const user = await signedIn(req, res);
      if (!user) {
        res.redirect(303, '/sign-in');
        return;
      }
      if (req.method === 'POST' && !csrfMatches(user.session.csrf, (req.body as Record<string, unknown> | undefined)?.['_csrf'])) {
        res.status(403);
        page(res, 'message.njk', { title: 'Request refused', message: 'Your form has expired. Go back, reload the page and try again.', user: res.locals['user'] });
        return;
      }
      await handler(req, res, user);
    } catch (err) {
      next(err);
    }
  };

  const base = (res: Response, user: SignedIn): Record<string, unknown> => ({ user: res.locals['user'], csrf: user.session.csrf });
  const readRequest = (res: Response, requester: Requester, interaction: ReadRequest['interaction'], about: Partial<ReadRequest>): ReadRequest => ({
    requestId: String(res.locals['requestId'] ?? randomBytes(8).toString('hex')),
    requester,
    interaction,
    ...about,
  });

  router.get('/sign-in', async (req, res) => {
    if (await signedIn(req, res)) {
      res.redirect(303, '/');
      return;
    }
    page(res, 'sign-in.njk', { title: 'Sign in', personas: options.mintPersonaToken ? PERSONAS : undefined, oidc: options.oidc ? { providerName: options.oidc.config.providerName } : undefined });
  });

  router.post('/sign-in', async (req, res) => {
    const mint = options.mintPersonaToken;
    const chosen = (req.body as Record<string, unknown> | undefined)?.['persona'];
    const persona = typeof chosen === 'string' ? personaByKey(chosen) : undefined;
    if (!mint || !persona) {
      res.status(400);
      page(res, 'message.njk', { title: 'Sign-in failed', message: mint ? 'Choose a persona.' : 'Development sign-in is off.', back: '/sign-in' });
      return;
    }
    const token = await mint({ ...persona.claims });
    const outcome = await options.auth.authenticate(`Bearer ${token}`);
    if (outcome.status !== 'authenticated') {
      res.status(403);
      page(res, 'message.njk', { title: 'Sign-in failed', message: 'That persona is not in this deployment\'s directory.', back: '/sign-in' });
      return;
    }
    const { id } = await openSession(options.db, { token, userId: persona.claims.sub, now: now() });
    res.cookie(cookieName, id, { httpOnly: true, secure: options.secureCookies, sameSite: 'lax', path: '/', maxAge: 8 * 3600_000 });
    res.redirect(303, '/');
  });

  if (options.oidc) {
    oidcSignInRoutes(router, {
      rp: options.oidc,
      db: options.db,
      directory: options.auth.directory,
      logger: options.logger,
      now,
      secureCookies: options.secureCookies,
      sessionCookie: cookieName,
      cookieOf: namedCookie,
      page,
      ...(options.audit ? { audit: options.audit } : {}),
    });
  }

  router.post('/sign-out', async (req, res) => {
    const id = cookieOf(req);
    const ended = id ? await closeSession(options.db, id) : undefined;
    res.clearCookie(cookieName, { path: '/' });
    // An OpenID Connect session is ended at the identity provider too, when it offers RP-initiated logout.
    const providerSignOut = ended?.kind === SessionKind.OIDC && options.oidc ? await options.oidc.endSessionUrl(ended.token) : undefined;
    if (providerSignOut) res.redirect(303, providerSignOut);
    else if (ended?.kind === SessionKind.OIDC) res.redirect(303, '/signed-out?provider=unchanged');
    else res.redirect(303, '/sign-in');
  });

  router.get('/signed-out', (req, res) => {
    // `provider=unchanged`: the identity provider offers no sign-out, so the person may still be signed in there.
    page(res, 'signed-out.njk', { title: 'You have signed out', providerName: options.oidc?.config.providerName, stillSignedInThere: req.query['provider'] === 'unchanged' });
  });

  router.get(
    '/',
    requireSignIn((_req, res, user) => {
      if (user.requester.role === 'privacy_officer') res.redirect(303, '/privacy/alerts');
      else page(res, 'search.njk', { ...base(res, user), title: 'Find a person', query: {} });
      return Promise.resolve();
    }),
  );

  router.get(
    '/search',
    requireSignIn(async (req, res, user) => {
      const param = (name: string): string => (typeof req.query[name] === 'string' ? req.query[name].trim().slice(0, 100) : '');
      const q = { nhs: param('nhs'), family: param('family'), dob: param('dob') };
      const params = new URLSearchParams();
      let error: string | undefined;
      if (q.nhs) {
        const nhs = normaliseNhsNumber(q.nhs);
        if (!nhs || !isValidNhsNumber(nhs)) error = 'Enter a valid 10-digit NHS number';
        else params.set('identifier', `${NHS_NUMBER_SYSTEM}|${nhs}`);
      } else if (q.family && q.dob) {
        const dob = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(q.dob);
        const iso = dob ? `${dob[3] ?? ''}-${(dob[2] ?? '').padStart(2, '0')}-${(dob[1] ?? '').padStart(2, '0')}` : /^\d{4}-\d{2}-\d{2}$/.test(q.dob) ? q.dob : undefined;
        if (!iso || Number.isNaN(Date.parse(iso))) error = 'Enter the date of birth as day/month/year, for example 12/04/1938';
        else {
          params.set('family', q.family);
          params.set('birthdate', iso);
        }
      } else {
        error = 'Enter an NHS number, or a last name with a date of birth';
      }
      if (error) {
        res.status(400);
        page(res, 'search.njk', { ...base(res, user), title: 'Find a person', query: q, error });
        return;
      }
      params.set('_count', '50');
      const query = parseSearch('Patient', params);
      const result = await options.reader.search(readRequest(res, user.requester, Interaction.SEARCH, { resourceType: 'Patient', query }), query, 'viewer person search');
      // One line per person: source records of the same person are shown once.
      const shown = new Map<string, Patient>();
      for (const p of result.matches as Patient[]) {
        const person = (await samePersonIds(options.db, p.id ?? '')).join(',');
        if (!shown.has(person)) shown.set(person, p);
      }
      const results = [...shown.values()].map((p) => ({
        id: p.id,
        name: [p.name?.[0]?.family?.toUpperCase(), ...(p.name?.[0]?.given ?? [])].filter(Boolean).join(', '),
        birthDate: p.birthDate,
        nhsNumber: p.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value,
        address: p.address?.[0]?.postalCode,
      }));
      page(res, 'search.njk', { ...base(res, user), title: 'Find a person', query: q, results, searched: true, withheld: result.withheld > 0 });
    }),
  );

  const showRecord = async (req: Request, res: Response, user: SignedIn): Promise<void> => {
    const patientId = String(req.params['id']);
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(patientId)) {
      res.status(404);
      page(res, 'message.njk', { ...base(res, user), title: 'Not found', message: 'There is no such record.', back: '/' });
      return;
    }
    const request = readRequest(res, user.requester, Interaction.EVERYTHING, { resourceType: 'Patient', patientId, resourceId: patientId });
    const decision = await options.decide(request);
    if (decision.needsPermissionToView) {
      page(res, 'access.njk', { ...base(res, user), title: 'Permission to view', mode: 'permission', patientId });
      return;
    }
    if (decision.effect !== 'permit') {
      res.status(403);
      page(res, 'access.njk', {
        ...base(res, user),
        title: 'No access',
        mode: 'denied',
        patientId,
        refused: decision.permissionRefused,
        canClaim: roleCapabilities(user.requester.role)?.selfClaim === true,
        canBreakGlass: roleCapabilities(user.requester.role)?.breakGlass === true,
        reason: decision.reasons[decision.reasons.length - 1] ?? 'You have no legitimate relationship with this person.',
        claimReasons: Object.values(SelfClaimReason).map((code) => ({ code, display: SELF_CLAIM_REASON_TEXT[code] })),
      });
      return;
    }
    const personIds = decision.decided.personIds;
    const resources: Resource[] = [];
    let withheld = 0;
    let after: string | undefined;
    do {
      const pageResult = await options.reader.everything(request, personIds, { count: 1000, ...(after ? { after } : {}) });
      resources.push(...pageResult.resources);
      withheld += pageResult.withheld;
      after = pageResult.next;
    } while (after && resources.length < MAX_RECORD_ITEMS);
    const view = buildRecordView(patientId, resources, options.sourceName);
    const recordLinks: RecordLink[] = (await Promise.all(recordLinkProviders.map((provide) => provide(user.requester, patientId, decision.decided)))).flat();
    page(res, 'record.njk', { ...base(res, user), title: view.banner.name, view, withheld, breakGlass: decision.breakGlass, validUntil: decision.validUntil, recordLinks });
  };

  router.get('/record/:id', requireSignIn(showRecord));

  // The privacy officer's first page: the open alerts (review and the trail are the audit API's).
  router.get(
    '/privacy/alerts',
    requireSignIn(async (_req, res, user) => {
      if (user.requester.role !== 'privacy_officer') {
        res.status(403);
        page(res, 'message.njk', { ...base(res, user), title: 'Not available', message: 'Alerts are for the privacy officer.', back: '/' });
        return;
      }
      const alerts = await listAlerts(options.db, { status: AlertStatus.OPEN, count: 100 });
      page(res, 'alerts.njk', { ...base(res, user), title: 'Alerts for review', alerts });
    }),
  );

  const addRecordLinks = (provider: RecordLinkProvider): void => {
    recordLinkProviders.push(provider);
  };
  for (const register of options.pages ?? []) register(router, { page, requireSignIn, base, readRequest, addRecordLinks });

  const grant = (kind: GrantKind, read: (body: Record<string, unknown>) => { decision?: PermissionToView; reasonCode?: string; reasonText?: string } | string) =>
    requireSignIn(async (req, res, user) => {
      const patientId = String(req.params['id']);
      const capabilities = roleCapabilities(user.requester.role);
      if ((kind === GrantKind.SELF_CLAIM && !capabilities?.selfClaim) || (kind === GrantKind.BREAK_GLASS && !capabilities?.breakGlass)) {
        res.status(403);
        page(res, 'message.njk', { ...base(res, user), title: 'Not available', message: 'Your role may not do this. Ask a colleague who is caring for the person.', back: `/record/${patientId}` });
        return;
      }
      const details = read((req.body ?? {}) as Record<string, unknown>);
      if (typeof details === 'string') {
        res.status(400);
        page(res, 'message.njk', { ...base(res, user), title: 'There is a problem', message: details, back: `/record/${patientId}` });
        return;
      }
      const personIds = await samePersonIds(options.db, patientId);
      const requestId = String(res.locals['requestId'] ?? '');
      const recorded = await recordGrant(options.db, { kind, requester: user.requester, patientId, personIds, ...details, requestId, now: now() });
      await options.onGrant(recorded, user.requester, requestId);
      res.redirect(303, `/record/${patientId}`);
    });

  const text = (body: Record<string, unknown>, name: string): string => {
    const value = body[name];
    return typeof value === 'string' ? value.trim().slice(0, 500) : '';
  };

  router.post(
    '/record/:id/permission-to-view',
    grant(GrantKind.PERMISSION_TO_VIEW, (body) => {
      const decision = text(body, 'decision');
      if (!(Object.values(PermissionToView) as string[]).includes(decision)) return 'Choose whether the person gave permission.';
      const reason = text(body, 'reason');
      if (decision === PermissionToView.COULD_NOT_ASK && !reason) return 'Say why the person could not be asked.';
      return { decision: decision as PermissionToView, ...(reason ? { reasonText: reason } : {}) };
    }),
  );
  router.post(
    '/record/:id/relationship-claim',
    grant(GrantKind.SELF_CLAIM, (body) => {
      const code = text(body, 'reason');
      if (!(Object.values(SelfClaimReason) as string[]).includes(code)) return 'Choose a reason for claiming a relationship.';
      const detail = text(body, 'detail');
      const display = SELF_CLAIM_REASON_TEXT[code as SelfClaimReason];
      return { reasonCode: code, reasonText: detail ? `${display}: ${detail}` : display };
    }),
  );
  router.post(
    '/record/:id/break-glass',
    grant(GrantKind.BREAK_GLASS, (body) => {
      const reason = text(body, 'reason');
      return reason ? { reasonCode: 'emergency', reasonText: reason } : 'Give the reason for emergency access.';
    }),
  );

  return router;
}

