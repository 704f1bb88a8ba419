import type { Consent } from '@medplum/fhirtypes';
import express, { type Request, type Response, type Router } from 'express';
import { DecisionMaker, objectionConsent, RecipientClass, SharingDecision, sharingConsent } from '../../consent';
import { roleCapabilities } from '../../consent/scope';
import { resourceId } from '../../mappings/ids';
import { HttpOutcomeError } from '../api/errors';
import { identifierOf } from '../audit/audit-event';
import { ID_PATTERN } from '../api/search-parser';
import type { SqlClient } from '../store/engine';
import { GrantKind, PermissionToView, recordGrant, SELF_CLAIM_REASON_TEXT, SelfClaimReason, type Grant } from './grants';
import type { Requester } from './hooks';
import { loadPersonRecord } from './person-record';

/**
 * The named write operations people make about access (specs/access-and-consent.md, "What people
 * may write"): recording permission to view, claiming a relationship, break-glass. Each is kept as
 * a grant and reported to `onGrant` (the audit trail, and an alert for the privacy officer where
 * the model says so) before the answer leaves.
 */
export interface AccessRouterOptions {
  db: SqlClient;
  /** The verified requester of the request (authentication sets it). */
  requester: (req: Request, res: Response) => Requester;
  /** Audit (and alert) for each recorded grant; awaited before answering. */
  onGrant: (grant: Grant, requester: Requester, requestId: string) => Promise<void>;
  /**
   * Records a person's decision (objection, consent by recipient) as a FHIR Consent: the store
   * write and its audit entry. Without it the operation is not offered (404).
   */
  recordConsent?: (consent: Consent, requester: Requester, requestId: string) => Promise<void>;
  now?: () => Date;
}

const MAX_TEXT = 500;
/** Decisions recorded through CareBridge itself are its own source. */
export const CONSENT_SOURCE = 'https://carebridge.nhs.uk/source/access-decisions';


function field(body: unknown, name: string, required: boolean): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    if (required) throw new HttpOutcomeError(400, 'required', `${name} is required`, name);
    return undefined;
  }
  if (typeof value !== 'string') throw new HttpOutcomeError(400, 'invalid', `${name} must be text`, name);
  if (value.length > MAX_TEXT) throw new HttpOutcomeError(400, 'too-long', `${name} must be at most ${MAX_TEXT} characters`, name);
  return value.trim();
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T {
  if (value === undefined || !(allowed as readonly string[]).includes(value)) throw new HttpOutcomeError(400, 'code-invalid', `${name} must be one of ${allowed.join(', ')}`, name);
  return value as T;
}

function grantView(grant: Grant): Record<string, unknown> {
  return { id: grant.id, kind: grant.kind, patient: `Patient/${grant.patientId}`, decision: grant.decision, reasonCode: grant.reasonCode, createdAt: grant.createdAt, expiresAt: grant.expiresAt };
}

export function accessRouter(options: AccessRouterOptions): Router {
  const router = express.Router();
  const now = options.now ?? ((): Date => new Date());
  router.use(express.json({ limit: '8kb' }));

  const personFor = async (req: Request): Promise<{ patientId: string; personIds: readonly string[] }> => {
    const patientId = String(req.params['id']);
    if (!ID_PATTERN.test(patientId)) throw new HttpOutcomeError(400, 'invalid', 'not a valid patient id', 'id');
    const record = await loadPersonRecord(options.db, patientId);
    if (!record.resources.some((r) => r.resourceType === 'Patient' && record.personIds.includes(r.id ?? ''))) throw new HttpOutcomeError(404, 'not-found', 'No such patient');
    return { patientId, personIds: record.personIds };
  };

  const requirePerson = (req: Request, res: Response): Requester => {
    const requester = options.requester(req, res);
    if (requester.system) throw new HttpOutcomeError(403, 'forbidden', 'Source systems do not record access decisions');
    return requester;
  };

  /** The role table says which roles may self-claim, break glass or record a person's decisions. */
  const requireCapability = (requester: Requester, capability: 'selfClaim' | 'breakGlass' | 'recordsConsent'): void => {
    if (!roleCapabilities(requester.role)?.[capability]) throw new HttpOutcomeError(403, 'forbidden', 'Your role may not do this');
  };

  const record = async (req: Request, res: Response, kind: GrantKind, details: { decision?: PermissionToView; reasonCode?: string; reasonText?: string }): Promise<void> => {
    const requester = requirePerson(req, res);
    if (kind === GrantKind.SELF_CLAIM) requireCapability(requester, 'selfClaim');
    if (kind === GrantKind.BREAK_GLASS) requireCapability(requester, 'breakGlass');
    const person = await personFor(req);
    const requestId = String(res.locals['requestId'] ?? '');
    const grant = await recordGrant(options.db, { kind, requester, ...person, ...details, requestId, now: now() });
    await options.onGrant(grant, requester, requestId);
    res.status(201).json(grantView(grant));
  };

  router.post('/Patient/:id/permission-to-view', async (req, res) => {
    const decision = oneOf(field(req.body, 'decision', true), Object.values(PermissionToView), 'decision');
    const reasonText = field(req.body, 'reason', decision === PermissionToView.COULD_NOT_ASK);
    await record(req, res, GrantKind.PERMISSION_TO_VIEW, { decision, ...(reasonText ? { reasonText } : {}) });
  });

  router.post('/Patient/:id/relationship-claim', async (req, res) => {
    const reasonCode = oneOf(field(req.body, 'reason', true), Object.values(SelfClaimReason), 'reason');
    const detail = field(req.body, 'detail', false);
    await record(req, res, GrantKind.SELF_CLAIM, { reasonCode, reasonText: detail ? `${SELF_CLAIM_REASON_TEXT[reasonCode]}: ${detail}` : SELF_CLAIM_REASON_TEXT[reasonCode] });
  });

  router.post('/Patient/:id/break-glass', async (req, res) => {
    const reasonText = field(req.body, 'reason', true);
    await record(req, res, GrantKind.BREAK_GLASS, { reasonCode: 'emergency', ...(reasonText ? { reasonText } : {}) });
  });

  // The person's own decisions, recorded by a GP, social worker or privacy officer who may see the record.
  router.post('/Patient/:id/consent', async (req, res) => {
    const recordConsent = options.recordConsent;
    if (!recordConsent) throw new HttpOutcomeError(404, 'not-found', 'Recording consent is not available here');
    const requester = requirePerson(req, res);
    requireCapability(requester, 'recordsConsent');
    const person = await personFor(req);
    const kind = oneOf(field(req.body, 'kind', true), ['objection', 'sharing'] as const, 'kind');
    const decision = oneOf(field(req.body, 'decision', true), Object.values(SharingDecision), 'decision');
    const decisionMaker = oneOf(field(req.body, 'decisionMaker', false) ?? DecisionMaker.PERSON, Object.values(DecisionMaker), 'decisionMaker');
    const capacity = field(req.body, 'hasCapacity', false);
    const hasCapacity = capacity === undefined ? undefined : oneOf(capacity, ['true', 'false'] as const, 'hasCapacity') === 'true';
    const at = now();
    const common = {
      id: resourceId('Consent', CONSENT_SOURCE, `${person.patientId}|${kind}|${at.toISOString()}|${requester.userId}`),
      patient: { reference: `Patient/${person.patientId}` },
      dateTime: at.toISOString(),
      decisionMaker,
      ...(hasCapacity === undefined ? {} : { hasCapacity }),
      recordedBy: { display: requester.displayName ?? requester.userId, ...(requester.organisation ? { identifier: identifierOf(requester.organisation) } : {}) },
      source: CONSENT_SOURCE,
    };
    const consent =
      kind === 'objection'
        ? objectionConsent({ ...common, decision })
        : sharingConsent({ ...common, decision, recipient: oneOf(field(req.body, 'recipient', true), Object.values(RecipientClass), 'recipient') });
    await recordConsent(consent, requester, String(res.locals['requestId'] ?? ''));
    res.status(201).json(consent);
  });

  router.get('/self-claim-reasons', (_req, res) => {
    res.json(Object.values(SelfClaimReason).map((code) => ({ code, display: SELF_CLAIM_REASON_TEXT[code] })));
  });

  return router;
}
