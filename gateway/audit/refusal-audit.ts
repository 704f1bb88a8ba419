import { PurposeOfUse } from '../access/hooks';
import type { TokenRefusal } from '../auth/middleware';
import { AuditDecision, AuditOperation, type OperationRecord } from './audit-event';
import type { AuditTrail } from './audit-trail';

/** FHIR ids after `Patient/` in the paths that name a person (/fhir, /access, /passport, the viewer's /patient). */
const PATIENT_IN_PATH = /\/Patient\/([A-Za-z0-9.-]{1,64})(?:\/|$)/i;

/**
 * A refused bearer token as an audit entry (operation `authentication`, outcome deny). The access
 * model audits every request that touches a person's data, and a refused one is the request a
 * privacy officer most wants to see: who the token said it was (marked when that is not verified),
 * why it was refused, what it asked for (method and path, and the person when the path names one),
 * and from where. The token itself is never kept.
 */
export function refusalRecord(refusal: TokenRefusal): OperationRecord {
  const patientId = PATIENT_IN_PATH.exec(refusal.path)?.[1];
  const asked = `${refusal.method} ${refusal.path}`;
  return {
    requestId: refusal.requestId,
    requester: { userId: refusal.subject ?? 'unknown', purposeOfUse: PurposeOfUse.TREAT },
    operation: AuditOperation.AUTHENTICATION,
    outcome: AuditDecision.DENY,
    patientIds: patientId ? [patientId] : [],
    reasons: [
      refusal.status === 'invalid' ? `token not valid: ${refusal.reason}` : `token refused by the directory: ${refusal.reason}`,
      refusal.subject === undefined ? 'no subject in the token' : refusal.verified ? 'subject verified' : 'subject as the token claims it, not verified',
    ],
    query: asked,
    client: refusal.client,
  };
}

/** The authenticate middleware's refusal audit, on the audit trail (durable before the 401 or 403 leaves). */
export function auditRefusals(trail: Pick<AuditTrail, 'recordOperation'>): (refusal: TokenRefusal) => Promise<void> {
  return async (refusal) => {
    await trail.recordOperation(refusalRecord(refusal));
  };
}
