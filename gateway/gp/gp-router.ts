import express, { type RequestHandler, type Router } from 'express';
import { MAX_GP_BUNDLE_BYTES } from '../../adapters/gp-connect/parse';
import { HttpOutcomeError } from '../api/errors';
import { type GpReceiveStatus, type GpIntake } from './intake';

const FHIR_JSON = ['application/fhir+json', 'application/json'];

/** Until the access work lands every caller is let through; it passes its own check here. */
export const allowAllSystems: RequestHandler = (_req, _res, next) => {
  next();
};

const HTTP_STATUS: Record<GpReceiveStatus, number> = { accepted: 202, duplicate: 200, 'bad-request': 400, unprocessable: 422 };

/**
 * POST /intake/gp: a GP Connect structured record (GPConnect-StructuredRecord-Bundle-1, STU3 JSON)
 * pushed by a GP system or an integration engine. 202 Accepted with `Location:
 * /intake/gp/status/{id}` once it is safe in the inbox; 400 (not JSON, not a Bundle) or 422
 * (refused by the profile rules, dangling references…) with the OperationOutcome, writing
 * nothing; 200 with the first one's status for the same bundle again. `requireSystem`
 * authenticates the sending system (system authentication comes with the access work).
 */
export function gpIntakeRouter(intake: GpIntake, requireSystem: RequestHandler = allowAllSystems): Router {
  const router = express.Router();
  router.post('/', requireSystem, express.raw({ type: FHIR_JSON, limit: MAX_GP_BUNDLE_BYTES }), async (req, res) => {
    if (!req.is(FHIR_JSON)) throw new HttpOutcomeError(415, 'not-supported', 'Send the bundle as application/fhir+json');
    const body: unknown = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpOutcomeError(400, 'required', 'The request body must hold one GP Connect structured record bundle');
    const received = await intake.receive(body);
    if (received.inboxId) res.location(`${req.baseUrl}/status/${received.inboxId}`);
    res.status(HTTP_STATUS[received.status]).type('application/fhir+json').send(JSON.stringify(received.outcome));
  });
  router.get('/status/:id', requireSystem, async (req, res) => {
    const id = req.params['id'];
    const outcome = typeof id === 'string' ? await intake.status(id) : undefined;
    if (!outcome) throw new HttpOutcomeError(404, 'not-found', 'No GP Connect bundle with that id');
    res.status(200).type('application/fhir+json').send(JSON.stringify(outcome));
  });
  return router;
}
