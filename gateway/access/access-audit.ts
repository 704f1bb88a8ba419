import type { Logger } from 'pino';
import { AlertKind, raiseAlert } from '../audit/alerts';
import { AuditOperation, type OperationRecord } from '../audit/audit-event';
import type { SqlClient } from '../store/engine';
import { GrantKind, type Grant } from './grants';
import { PurposeOfUse, type AuditHook, type AuditRecord, type Requester } from './hooks';

/**
 * Where access meets the audit trail: every read's record carries its decision's reasons and the
 * people it concerned; access to very restricted data and an override of a refusal alert the
 * privacy officer (once per user, person and kind in a permission-to-view session, not on every
 * page); each recorded grant is an audited operation, and self-claims and break-glass alert.
 */

const DECISION_ALERTS: Readonly<Record<string, AlertKind>> = {
  'very-restricted': AlertKind.VERY_RESTRICTED_ACCESS,
  'refusal-override': AlertKind.REFUSAL_OVERRIDE,
};
const ALERT_QUIET_HOURS = 8;

async function alertOnce(db: SqlClient, kind: AlertKind, requester: Requester, patientId: string, reason: string, requestId: string, now: Date): Promise<void> {
  const recent = await db.query('SELECT 1 FROM audit_alert WHERE user_id = $1 AND patient_id = $2 AND kind = $3 AND raised_at > $4 LIMIT 1', [
    requester.userId,
    patientId,
    kind,
    new Date(now.getTime() - ALERT_QUIET_HOURS * 3600_000),
  ]);
  if (recent.rows.length > 0) return;
  await raiseAlert(db, { kind, requester, patientId, reason, requestId, now });
}

export function auditWithAccess(trail: AuditHook, db: SqlClient, logger: Logger, now: () => Date = () => new Date()): AuditHook {
  return {
    async record(entry: AuditRecord): Promise<void> {
      const access = entry.access;
      const reasons = [...(entry.reasons ?? []), ...(access?.decisions.flatMap((d) => d.reasons) ?? []), ...(entry.refusal ? [entry.refusal] : [])];
      const patientIds = [...new Set([...(entry.patientIds ?? []), ...(access?.patientIds ?? [])])];
      // A read while a break-glass is in force is a read for the emergency: its purpose of use is BTG, whatever the token said.
      const underBreakGlass = access?.decisions.some((d) => d.breakGlass && d.effect === 'permit') === true;
      const request = underBreakGlass ? { ...entry.request, requester: { ...entry.request.requester, purposeOfUse: PurposeOfUse.BTG } } : entry.request;
      await trail.record({ ...entry, request, reasons, patientIds });
      const patientId = entry.request.patientId ?? access?.patientIds[0];
      if (!access || !patientId || entry.outcome !== 'permit') return;
      await raiseDecisionAlerts(db, logger, { requester: entry.request.requester, patientId, requestId: entry.request.requestId, alerts: access.alerts, now: now() });
    },
  };
}

/**
 * The alerts a permitted look raises (access to very restricted data, an override of a refusal),
 * each kind once per user and person in ALERT_QUIET_HOURS. Any reader of the record calls this:
 * the FHIR read path through `auditWithAccess`, the passport service for a passport's content.
 */
export async function raiseDecisionAlerts(
  db: SqlClient,
  logger: Logger,
  look: { readonly requester: Requester; readonly patientId: string; readonly requestId: string; readonly alerts: readonly { readonly kind: string; readonly reason: string }[]; readonly now: Date },
): Promise<void> {
  const seen = new Set<string>();
  for (const alert of look.alerts) {
    const kind = DECISION_ALERTS[alert.kind];
    if (!kind || seen.has(kind)) continue;
    seen.add(kind);
    try {
      await alertOnce(db, kind, look.requester, look.patientId, alert.reason, look.requestId, look.now);
    } catch (err) {
      // The read is audited; a failed alert is logged loudly for operations, never hidden.
      logger.error({ err, requestId: look.requestId, kind }, 'privacy officer alert could not be raised');
    }
  }
}

const GRANT_OPERATION: Readonly<Record<GrantKind, OperationRecord['operation']>> = {
  'permission-to-view': AuditOperation.PERMISSION_TO_VIEW,
  'self-claimed': AuditOperation.SELF_CLAIM,
  'break-glass': AuditOperation.BREAK_GLASS,
};

/** Audits a recorded grant and raises the alert the model asks for (self-claim, break-glass). */
export function grantAuditor(trail: { recordOperation(op: OperationRecord): Promise<unknown> }, db: SqlClient): (grant: Grant, requester: Requester, requestId: string) => Promise<void> {
  return async (grant, asked, requestId) => {
    // Breaking glass is itself done for the emergency (purpose BTG), and so audited.
    const requester = grant.kind === GrantKind.BREAK_GLASS ? { ...asked, purposeOfUse: PurposeOfUse.BTG } : asked;
    const reasons = [grant.decision ? `permission to view: ${grant.decision}` : undefined, grant.reasonText, `until ${grant.expiresAt}`].filter((r): r is string => r !== undefined);
    await trail.recordOperation({ requestId, requester, operation: GRANT_OPERATION[grant.kind], outcome: 'permit', patientIds: [grant.patientId], entities: [`access-grant/${grant.id}`], reasons });
    switch (grant.kind) {
      case GrantKind.SELF_CLAIM:
        await raiseAlert(db, { kind: AlertKind.SELF_CLAIM, requester, patientId: grant.patientId, reason: grant.reasonText ?? grant.reasonCode ?? 'self-claimed relationship', requestId, now: new Date(grant.createdAt) });
        break;
      case GrantKind.BREAK_GLASS:
        await raiseAlert(db, { kind: AlertKind.BREAK_GLASS, requester, patientId: grant.patientId, reason: grant.reasonText ?? 'break-glass', requestId, now: new Date(grant.createdAt) });
        break;
      case GrantKind.PERMISSION_TO_VIEW:
        break;
    }
  };
}
