import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { HttpOutcomeError } from '../api/errors';
import { identityOf } from '../auth';
import type { FhirIntake, SendingSystem } from './intake';

/**
 * POST /intake/fhir: a FHIR R4 Bundle (transaction, collection or document) from a sending system,
 * as `application/fhir+json` (or `application/json`). GET /intake/fhir/status/{id}: how an
 * accepted Bundle went (the transaction-response once applied, 202 while waiting).
 *
 * Who is sending is the verified system token's directory entry (`systemOf`, see server.ts): its
 * name and source URI. `requireSystemFrom` refuses (401) a request that names no system.
 */

export const FHIR_JSON_TYPES = ['application/fhir+json', 'application/json'];
export type SystemOf = (req: Request) => SendingSystem | undefined;

/** The sending system of an intake request: the verified system token's directory entry. */
export const systemOfToken: SystemOf = (req) => {
  const identity = req.res ? identityOf(req.res) : undefined;
  return identity?.kind === 'system' ? { system: identity.system.name, sourceUri: identity.system.sourceUri } : undefined;
};

/** Refuses (401) a request that names no sending system. */
export function requireSystemFrom(systemOf: SystemOf): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const system = systemOf(req);
    if (!system) {
      next(new HttpOutcomeError(401, 'login', 'The sending system is not identified: authenticate as a system'));
      return;
    }
    res.locals['sendingSystem'] = system;
    next();
  };
}

export function fhirIntakeRouter(intake: FhirIntake, options: { systemOf: SystemOf; requireSystem?: RequestHandler; maxBytes: number }): Router {
  const router = express.Router();
  const requireSystem = options.requireSystem ?? requireSystemFrom(options.systemOf);
  const send = (res: Response, answer: Awaited<ReturnType<FhirIntake['receive']>>): void => {
    if (answer.statusLocation) res.setHeader('Content-Location', answer.statusLocation);
    res.status(answer.status).type('application/fhir+json').send(JSON.stringify(answer.body));
  };
  router.post('/', requireSystem, express.raw({ type: () => true, limit: options.maxBytes }), async (req, res) => {
    if (!req.is(FHIR_JSON_TYPES)) throw new HttpOutcomeError(415, 'not-supported', `Send the Bundle as ${FHIR_JSON_TYPES.join(' or ')}`);
    const system = (res.locals['sendingSystem'] as SendingSystem | undefined) ?? options.systemOf(req);
    if (!system) throw new HttpOutcomeError(401, 'login', 'The sending system is not identified: authenticate as a system');
    const body: unknown = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpOutcomeError(400, 'required', 'The request body must hold one FHIR Bundle');
    send(res, await intake.receive(body, system));
  });
  router.get('/status/:id', requireSystem, async (req, res) => {
    const id = String(req.params['id'] ?? '');
    if (!/^\d{1,18}$/.test(id)) throw new HttpOutcomeError(404, 'not-found', 'No such FHIR bundle');
    const system = (res.locals['sendingSystem'] as SendingSystem | undefined) ?? options.systemOf(req);
    send(res, await intake.answerFor(id, system?.sourceUri ?? ''));
  });
  return router;
}
