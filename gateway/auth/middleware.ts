import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { ClientInfo, Requester } from '../access/hooks';
import { HttpOutcomeError } from '../api/errors';
import type { AuthOutcome, Authenticator } from './authenticator';
import type { IntakeKind } from './directory';
import type { Identity } from './identity';
import type { CareRole } from './roles';

/**
 * The HTTP edge of authentication. `authenticate` verifies the bearer token and puts who is asking
 * in `res.locals` (`identity`, `requester`); the `require*` guards after it decide whether that
 * kind of caller may use the route. Refusals are OperationOutcomes: 401 with
 * `WWW-Authenticate: Bearer` (RFC 6750) for a missing or invalid token, 403 with the reason for a
 * valid token the directory or the route does not allow; the log gets the reason, never the token.
 */

const REALM = 'Bearer realm="carebridge"';

export function identityOf(res: Response): Identity | undefined {
  return res.locals['identity'] as Identity | undefined;
}

/** The authenticated requester; a route reached without `authenticate` is a programming error and answers 401. */
export function requesterOf(res: Response): Requester {
  const identity = identityOf(res);
  if (!identity) throw unauthenticated(res);
  return identity.requester;
}

function unauthenticated(res: Response, invalid = false): HttpOutcomeError {
  res.setHeader('WWW-Authenticate', invalid ? `${REALM}, error="invalid_token"` : REALM);
  return new HttpOutcomeError(401, 'login', invalid ? 'The bearer token is not valid' : 'A bearer token is required');
}

/** A token refused at the edge, as the audit trail records it: why, and what was asked, never the token. */
export interface TokenRefusal {
  readonly requestId: string;
  /** 'invalid' (401: not a token we accept) or 'forbidden' (403: a valid token the directory refuses). */
  readonly status: 'invalid' | 'forbidden';
  readonly reason: string;
  /** forbidden: the verified subject; invalid: what the token claims, not verified. */
  readonly subject?: string;
  readonly verified: boolean;
  readonly method: string;
  /** The path asked for, without its query string. */
  readonly path: string;
  readonly client: ClientInfo;
}

/** Records a refusal (durably) before the refusal is answered. */
export type RefusalAudit = (refusal: TokenRefusal) => Promise<void>;

export function clientInfoOf(req: Request): ClientInfo {
  const userAgent = req.get('user-agent');
  return { ...(req.ip ? { address: req.ip } : {}), ...(userAgent ? { userAgent: userAgent.slice(0, 256) } : {}) };
}

export interface AuthenticateOptions {
  /** Every refused token is recorded here before the 401 or 403 leaves (the audit trail, composed by app.ts). */
  readonly onRefused?: RefusalAudit;
  /** Counts refusals by reason (a bounded label set: the TokenRejection codes and 'forbidden'). */
  readonly countRefusal?: (reason: string) => void;
}

/**
 * The Authorization header's outcome, with every refusal logged (reason only), counted and recorded
 * through `onRefused` before it is returned, so the refusal is audited before it is answered. If
 * recording fails the refusal still stands: nothing is served either way.
 */
export async function authenticateRequest(authenticator: Authenticator, req: Request, res: Response, logger: Logger, options: AuthenticateOptions = {}): Promise<AuthOutcome> {
  const outcome = await authenticator.authenticate(req.get('authorization'));
  if (outcome.status !== 'invalid' && outcome.status !== 'forbidden') return outcome;
  const requestId = (res.locals['requestId'] as string | undefined) ?? '';
  const subject = outcome.status === 'invalid' ? outcome.claimedSubject : outcome.subject;
  logger.info({ requestId, reason: outcome.reason }, outcome.status === 'invalid' ? 'token refused' : 'token holder refused by the directory');
  options.countRefusal?.(outcome.status === 'invalid' ? outcome.reason : 'forbidden');
  const refusal: TokenRefusal = {
    requestId,
    status: outcome.status,
    reason: outcome.reason,
    ...(subject !== undefined ? { subject } : {}),
    verified: outcome.status === 'forbidden',
    method: req.method,
    path: `${req.baseUrl}${req.path}`.slice(0, 512),
    client: clientInfoOf(req),
  };
  try {
    await options.onRefused?.(refusal);
  } catch (err) {
    logger.error({ requestId, err: { message: (err as Error).message } }, 'a refused token could not be audited');
  }
  return outcome;
}

export function authenticate(authenticator: Authenticator, logger: Logger, options: AuthenticateOptions = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    authenticateRequest(authenticator, req, res, logger, options).then(
      (outcome) => {
        switch (outcome.status) {
          case 'authenticated':
            res.locals['identity'] = outcome.identity;
            res.locals['requester'] = outcome.identity.requester;
            next();
            return;
          case 'missing':
            next(unauthenticated(res));
            return;
          case 'invalid':
            next(unauthenticated(res, true));
            return;
          case 'forbidden':
            next(new HttpOutcomeError(403, 'forbidden', `Access refused: ${outcome.reason}`));
            return;
          case 'unavailable':
            logger.warn({ requestId: res.locals['requestId'] as string | undefined, detail: outcome.detail }, 'token verification keys unavailable');
            res.setHeader('Retry-After', '5');
            next(new HttpOutcomeError(503, 'transient', 'Tokens cannot be verified just now; try again shortly'));
            return;
        }
      },
      (err: unknown) => {
        next(err);
      },
    );
  };
}

function guard(check: (identity: Identity) => string | undefined): RequestHandler {
  return (_req, res, next) => {
    const identity = identityOf(res);
    if (!identity) {
      next(unauthenticated(res));
      return;
    }
    const refusal = check(identity);
    next(refusal === undefined ? undefined : new HttpOutcomeError(403, 'forbidden', refusal));
  };
}

/** People only: source systems write through intake and read nothing. */
export const requirePerson: RequestHandler = guard((identity) => (identity.kind === 'person' ? undefined : 'This endpoint is for people; system tokens may only use the intake endpoints'));

/** Source systems only, and, given a kind, only systems the directory allows to send it. */
export function requireSystem(kind?: IntakeKind): RequestHandler {
  return guard((identity) => {
    if (identity.kind !== 'system') return 'This endpoint is for source systems; people may not write through intake';
    if (kind !== undefined && !identity.system.intake.includes(kind)) return `System '${identity.system.name}' may not send ${kind}`;
    return undefined;
  });
}

/** People with one of these roles. */
export function requireRole(...roles: readonly CareRole[]): RequestHandler {
  return guard((identity) => {
    if (identity.kind !== 'person') return 'This endpoint is for people; system tokens may only use the intake endpoints';
    return roles.includes(identity.requester.role) ? undefined : `This endpoint needs the role ${roles.join(' or ')}`;
  });
}
