import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Requester } from '../access/hooks';
import { HttpOutcomeError } from '../api/errors';
import type { Authenticator } from './authenticator';
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

export function authenticate(authenticator: Authenticator, logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const requestId = res.locals['requestId'] as string | undefined;
    authenticator.authenticate(req.get('authorization')).then(
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
            logger.info({ requestId, reason: outcome.reason }, 'token refused');
            next(unauthenticated(res, true));
            return;
          case 'forbidden':
            logger.info({ requestId, reason: outcome.reason }, 'token holder refused by the directory');
            next(new HttpOutcomeError(403, 'forbidden', `Access refused: ${outcome.reason}`));
            return;
          case 'unavailable':
            logger.warn({ requestId, detail: outcome.detail }, 'token verification keys unavailable');
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
