import type { Requester } from '../access/hooks';
import { AuditDecision, AuditOperation, type OperationRecord } from '../audit/audit-event';
import type { SqlClient } from '../store/engine';
import { WorklistScope, type AcknowledgementAudit, type WorklistPermission } from './access';
import { acknowledgeItem, worklistItem, type WorklistItem } from './worklist';

/**
 * Acknowledging a worklist item, as the API (POST /worklist/items/{id}/acknowledge) and the
 * viewer's button both do it: only an item of the requester's own organisation, team or caseload
 * (anything else is "no such item", so existence is not disclosed), the first acknowledgement
 * kept, and every acknowledgement audited (issue 10).
 */
export interface Acknowledgement {
  readonly db: SqlClient;
  readonly requester: Requester;
  readonly itemId: string;
  readonly permission: WorklistPermission;
  readonly audit: AcknowledgementAudit;
  readonly now: Date;
  readonly requestId?: string;
}

/** The item as acknowledged, or undefined when there is no such item the requester may see. */
export async function acknowledgeWorklistItem(a: Acknowledgement): Promise<WorklistItem | undefined> {
  if (!/^\d{1,18}$/.test(a.itemId)) return undefined;
  const item = await worklistItem(a.db, a.itemId);
  if (!item || !mayActOn(a.permission, a.requester, item)) return undefined;
  const acknowledged = await acknowledgeItem(a.db, a.itemId, a.requester.userId, a.now, a.requester.displayName);
  const recorded = acknowledged?.acknowledged?.by === a.requester.userId && acknowledged.acknowledged.at === a.now.toISOString();
  await a.audit({
    requester: a.requester,
    itemId: a.itemId,
    recipient: item.recipient,
    patientId: item.patient?.reference.slice('Patient/'.length),
    at: a.now.toISOString(),
    recorded,
    ...(a.requestId ? { requestId: a.requestId } : {}),
  });
  return acknowledged;
}

/** Whether the requester may see and acknowledge this item (one of their parties is its recipient). */
export function mayActOn(permission: WorklistPermission, requester: Requester, item: WorklistItem): boolean {
  return (Object.values(WorklistScope) as WorklistScope[]).some((scope) => permission(requester, scope, item.recipient));
}

/** Acknowledgements as entries in the audit trail: who, which item, for whom, which person; no clinical content. */
export function auditAcknowledgements(trail: { recordOperation(op: OperationRecord): Promise<unknown> }): AcknowledgementAudit {
  return async (record) => {
    await trail.recordOperation({
      requestId: record.requestId ?? `worklist-${record.itemId}-${record.at}`,
      requester: record.requester,
      operation: AuditOperation.WORKLIST_ACKNOWLEDGE,
      outcome: AuditDecision.PERMIT,
      patientIds: record.patientId ? [record.patientId] : [],
      entities: [`worklist-item/${record.itemId}`],
      reasons: [record.recorded === false ? `worklist item for ${record.recipient} had already been acknowledged` : `worklist item for ${record.recipient} acknowledged at ${record.at}`],
    });
  };
}
