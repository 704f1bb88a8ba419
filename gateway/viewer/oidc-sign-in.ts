import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { PurposeOfUse } from '../access/hooks';
import { AuditDecision, AuditOperation, type OperationRecord } from '../audit/audit-event';
import type { Directory } from '../auth';
import { identityFromClaims } from '../auth/identity';
import type { OidcRelyingParty } from '../auth/oidc-client';
import { SignInError, SignInFailure } from '../auth/oidc-errors';
import type { SqlClient } from '../store/engine';
import { requestIdOf } from './page-kit';
import { PENDING_SIGN_IN_MINUTES, rememberSignIn, takeSignIn } from './pending-sign-ins';
import { closeSession, openSession, SessionKind } from './sessions';

/**
 * The viewer's OpenID Connect routes: `GET /sign-in/oidc` sends the browser to the identity
 * provider, `GET /sign-in/callback` takes it back. A callback becomes a session only when every
 * check holds (oidc-client.ts) and the verified claims go through the same directory mapping as the
 * API's tokens; otherwise it is a page saying what to do, and no session.
 */
export interface OidcSignInOptions {
  readonly rp: OidcRelyingParty;
  readonly db: SqlClient;
  readonly directory: Directory;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly secureCookies: boolean;
  readonly sessionCookie: string;
  readonly cookieOf: (req: Request, name: string) => string | undefined;
  readonly page: (res: Response, template: string, context: Record<string, unknown>) => void;
  /** The audit trail: sessions opened, and verified people the directory refused. */
  readonly audit?: (record: OperationRecord) => Promise<void>;
}

interface Problem {
  readonly status: number;
  readonly title: string;
  readonly paragraphs: readonly string[];
  readonly action: string;
}

function problemOf(failure: SignInFailure, providerName: string): Problem {
  const serviceProblem = 'Sorry, there is a problem with the service';
  switch (failure) {
    case SignInFailure.ACCESS_DENIED:
      return { status: 403, title: 'You are not signed in', paragraphs: [`Signing in with ${providerName} was cancelled or refused.`, 'If you cancelled by mistake, sign in again.'], action: 'Sign in again' };
    case SignInFailure.NO_SIGN_IN_IN_PROGRESS:
    case SignInFailure.STATE_MISMATCH:
    case SignInFailure.ISSUER_MISMATCH:
    case SignInFailure.NO_CODE:
    case SignInFailure.CODE_REFUSED:
      return {
        status: 400,
        title: 'Your sign-in could not be completed',
        paragraphs: [`The sign-in had expired or had been used already. This can happen if you go back during sign-in, open an old sign-in link, or take longer than ${String(PENDING_SIGN_IN_MINUTES)} minutes.`, 'You have not been signed in. Start again.'],
        action: 'Sign in again',
      };
    case SignInFailure.ID_TOKEN_INVALID:
    case SignInFailure.USERINFO_INVALID:
    case SignInFailure.PROVIDER_ERROR:
      return {
        status: 502,
        title: serviceProblem,
        paragraphs: ['CareBridge could not confirm who you are from the answer of the sign-in service, so you have not been signed in.', 'Try again. If this keeps happening, contact your IT service desk and give them the reference below.'],
        action: 'Try again',
      };
    case SignInFailure.PROVIDER_UNAVAILABLE:
      return { status: 503, title: serviceProblem, paragraphs: ['The sign-in service cannot be reached at the moment.', 'Try again later.'], action: 'Try again' };
    case SignInFailure.PROVIDER_MISCONFIGURED:
      return { status: 503, title: serviceProblem, paragraphs: ['Sign-in is not set up correctly.', 'Contact your IT service desk and give them the reference below.'], action: 'Try again' };
    case SignInFailure.NOT_IN_DIRECTORY:
      return {
        status: 403,
        title: 'You cannot use CareBridge with this account',
        paragraphs: ['You signed in, but your role or organisation is not set up to use CareBridge.', "If you think you should have access, ask your organisation's CareBridge administrator and give them the reference below."],
        action: 'Sign in with another account',
      };
  }
}

/** A session ends with its ID token, or after OIDC_SESSION_HOURS if that comes first. */
export function sessionEndsAt(idTokenExpiresAt: Date, now: Date, sessionHours: number): Date {
  return new Date(Math.min(idTokenExpiresAt.getTime(), now.getTime() + sessionHours * 3600_000));
}

/** Who a refused sign-in is audited as: nobody in particular (no subject, no name). */
const UNIDENTIFIED = { userId: 'unidentified', purposeOfUse: PurposeOfUse.TREAT } as const;

export function oidcSignInRoutes(router: Router, options: OidcSignInOptions): void {
  const { rp, db, logger, now } = options;
  const signInCookie = options.secureCookies ? '__Host-carebridge-sign-in' : 'carebridge-sign-in';
  const cookieBase = { httpOnly: true, secure: options.secureCookies, sameSite: 'lax' as const, path: '/' };

  const refuse = async (res: Response, err: SignInError): Promise<void> => {
    const requestId = requestIdOf(res);
    // The reason and detail (codes, never the person) go to the log, keyed by the reference shown.
    logger.warn({ requestId, failure: err.failure, detail: err.detail }, 'viewer sign-in refused');
    if (err.failure === SignInFailure.NOT_IN_DIRECTORY && options.audit) {
      await options.audit({ requestId, requester: UNIDENTIFIED, operation: AuditOperation.SIGN_IN, outcome: AuditDecision.DENY, patientIds: [], reasons: [`${err.failure}: ${err.detail}`] });
    }
    const problem = problemOf(err.failure, rp.config.providerName);
    res.status(problem.status);
    options.page(res, 'sign-in-problem.njk', { title: problem.title, problem, reference: requestId });
  };

  router.get('/sign-in/oidc', async (_req, res, next) => {
    try {
      const { url, pending } = await rp.startSignIn();
      const id = await rememberSignIn(db, pending, now());
      res.cookie(signInCookie, id, { ...cookieBase, maxAge: PENDING_SIGN_IN_MINUTES * 60_000 });
      res.redirect(303, url);
    } catch (err) {
      if (err instanceof SignInError) await refuse(res, err).catch(next);
      else next(err);
    }
  });

  router.get('/sign-in/callback', async (req, res, next) => {
    try {
      const signInId = options.cookieOf(req, signInCookie);
      // The sign-in cookie is spent whatever happens next.
      res.clearCookie(signInCookie, { path: '/' });
      const pending = signInId ? await takeSignIn(db, signInId, now()) : undefined;
      if (!pending) throw new SignInError(SignInFailure.NO_SIGN_IN_IN_PROGRESS, signInId ? 'unknown, expired or used' : 'no sign-in cookie');
      const completed = await rp.finishSignIn(new URL(req.originalUrl, 'http://callback.invalid').searchParams, pending);
      const outcome = identityFromClaims(completed.claims, options.directory);
      if (!outcome.ok) throw new SignInError(SignInFailure.NOT_IN_DIRECTORY, outcome.reason);
      if (outcome.identity.kind !== 'person') throw new SignInError(SignInFailure.NOT_IN_DIRECTORY, 'the claims name a source system, not a person');
      const { requester } = outcome.identity;
      const at = now();
      const expiresAt = sessionEndsAt(completed.idTokenExpiresAt, at, rp.config.sessionHours);
      const earlier = options.cookieOf(req, options.sessionCookie);
      if (earlier) await closeSession(db, earlier);
      const { id } = await openSession(db, { kind: SessionKind.OIDC, token: completed.idToken, claims: completed.claims, userId: requester.userId, now: at, expiresAt });
      const requestId = requestIdOf(res);
      await options.audit?.({ requestId, requester, operation: AuditOperation.SIGN_IN, outcome: AuditDecision.PERMIT, patientIds: [], reasons: [`signed in with OpenID Connect (${rp.config.issuer}); session until ${expiresAt.toISOString()}`] });
      logger.info({ requestId, role: requester.role, organisation: requester.organisation, sessionUntil: expiresAt.toISOString() }, 'viewer sign-in');
      res.cookie(options.sessionCookie, id, { ...cookieBase, maxAge: Math.max(0, expiresAt.getTime() - at.getTime()) });
      res.redirect(303, '/');
    } catch (err) {
      if (err instanceof SignInError) await refuse(res, err).catch(next);
      else next(err);
    }
  });
}
