import { getStatus, OperationOutcomeError } from '@medplum/core';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Requester } from '../access/hooks';
import type { SecureReader } from '../access/secure-reader';
import { HttpOutcomeError, internalErrorOutcome } from './errors';
import * as handlers from './fhir-handlers';
import type { FhirRequest, FhirResponse } from './fhir-request';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface FhirRouterOptions {
  reader: SecureReader;
  logger: Logger;
  /** The patients whose records are one person with this one (identity linking); [id] until then. */
  linkedPatientIds: (patientId: string) => Promise<string[]>;
  /** Who is asking; the access-control work derives this from a verified token. */
  requester: (req: Request) => Requester;
  publicBaseUrl?: string;
}

export function sendOutcome(res: Response, status: number, body: unknown): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

/** Turns any error into an OperationOutcome response; the detail of unexpected ones only reaches the log. */
export function outcomeErrorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const requestId = String(res.locals['requestId'] ?? '');
    if (err instanceof OperationOutcomeError) {
      const status = err instanceof HttpOutcomeError ? err.status : getStatus(err.outcome);
      sendOutcome(res, status, err.outcome);
      return;
    }
    const bodyError = err as { type?: string; status?: number };
    if (bodyError.type === 'entity.parse.failed') {
      sendOutcome(res, 400, new HttpOutcomeError(400, 'invalid', 'The request body is not valid JSON').outcome);
      return;
    }
    if (bodyError.type === 'entity.too.large') {
      sendOutcome(res, 413, new HttpOutcomeError(413, 'too-costly', 'The request body is too large').outcome);
      return;
    }
    logger.error({ err, requestId, method: req.method, route: (req.route as { path?: string } | undefined)?.path }, 'request failed');
    sendOutcome(res, 500, internalErrorOutcome(requestId));
  };
}

export function fhirRouter(options: FhirRouterOptions): Router {
  const router = express.Router();

  const handle =
    (fn: (req: FhirRequest) => FhirResponse | Promise<FhirResponse>) =>
    async (req: Request, res: Response): Promise<void> => {
      const base = options.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
      const queryIndex = req.originalUrl.indexOf('?');
      const fhirRequest: FhirRequest = {
        requestId: String(res.locals['requestId']),
        requester: options.requester(req),
        baseUrl: `${base}/fhir`,
        resourceType: req.params['type'] as string | undefined,
        id: req.params['id'] as string | undefined,
        versionId: req.params['vid'] as string | undefined,
        query: new URLSearchParams(queryIndex >= 0 ? req.originalUrl.slice(queryIndex + 1) : ''),
      };
      const result = await fn(fhirRequest);
      res.status(result.status);
      for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, v);
      res.type(FHIR_JSON).send(JSON.stringify(result.body));
    };

  // People never write: every method but GET/HEAD is refused before routing.
  router.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      next();
      return;
    }
    res.setHeader('Allow', 'GET, HEAD');
    next(new HttpOutcomeError(405, 'not-supported', `${req.method} is not allowed: the shared record is read-only. Source systems write through the intake endpoints.`));
  });

  router.get('/metadata', handle((req) => handlers.metadata(req)));
  router.get('/Patient/:id/\\$everything', handle((req) => handlers.everything(req, options.reader, options.linkedPatientIds)));
  router.get('/:type', handle((req) => handlers.search(req, options.reader)));
  router.get('/:type/:id', handle((req) => handlers.read(req, options.reader)));
  router.get('/:type/:id/_history', handle((req) => handlers.history(req, options.reader)));
  router.get('/:type/:id/_history/:vid', handle((req) => handlers.vread(req, options.reader)));
  router.use((_req, _res, next) => {
    next(new HttpOutcomeError(404, 'not-found', 'No FHIR interaction at this path'));
  });
  return router;
}
