import express, { type Router } from 'express';
import { HttpOutcomeError } from '../api/errors';
import { identityOf } from '../auth/middleware';
import type { SqlClient } from '../store/engine';
import type { Hl7Intake } from './intake';
import { interfaceStatus } from './status';

const HL7_TYPES = ['x-application/hl7-v2+er7', 'application/hl7-v2', 'text/plain'];

/**
 * HL7v2 over HTTP for senders that cannot speak MLLP: POST /hl7v2 with the message as the body,
 * answered with its ACK (the same ACK MLLP would send). The app mounts it behind authentication:
 * POST needs a system token allowed to send hl7v2, and the message's sender (MSH-4|MSH-3) must be
 * one of the system's `hl7Senders`; GET /hl7v2/status needs the admin role.
 */
export function hl7Router(intake: Hl7Intake, db: SqlClient, maxBytes: number): Router {
  const router = express.Router();
  router.post('/', express.raw({ type: HL7_TYPES, limit: maxBytes }), async (req, res) => {
    if (!req.is(HL7_TYPES)) throw new HttpOutcomeError(415, 'not-supported', `Send the message as ${HL7_TYPES.join(' or ')}`);
    const body: unknown = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpOutcomeError(400, 'required', 'The request body must hold one HL7v2 message');
    // The authenticated system may only send as the senders the directory gives it.
    const identity = identityOf(res);
    if (identity?.kind !== 'system') throw new HttpOutcomeError(403, 'forbidden', 'Only source systems send HL7v2');
    const outcome = await intake.receive(body, { allowedSenders: identity.system.hl7Senders });
    res.status(200).type('x-application/hl7-v2+er7').send(outcome.ack);
  });
  router.get('/status', async (_req, res) => {
    res.json({ senders: await interfaceStatus(db) });
  });
  return router;
}
