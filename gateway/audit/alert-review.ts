import type { ClientInfo, Requester } from '../access/hooks';
import type { SqlEngine } from '../store/engine';
import { reviewAlert, type Alert, type AlertReviewOutcome } from './alerts';
import { AuditDecision, AuditOperation } from './audit-event';
import type { AuditTrail } from './audit-trail';

/**
 * A privacy officer's review of an alert and its audit entry, committed in one transaction: the
 * review never exists without its entry. The audit API (POST /audit/alerts/{id}/review) and the
 * viewer's review form both call this; the errors are alerts.ts's (not found, already reviewed,
 * bad input), for each caller to answer in its own way.
 */
export interface AuditedReview {
  readonly alertId: string;
  readonly outcome: AlertReviewOutcome;
  readonly note?: string;
  readonly reviewer: Requester;
  readonly requestId: string;
  readonly client?: ClientInfo;
  readonly now: Date;
}

export function reviewAlertAudited(engine: SqlEngine, trail: Pick<AuditTrail, 'appendWithin'>, review: AuditedReview): Promise<Alert> {
  return engine.transaction(async (tx) => {
    const reviewed = await reviewAlert(tx, { alertId: review.alertId, outcome: review.outcome, ...(review.note !== undefined ? { note: review.note } : {}), reviewer: review.reviewer, now: review.now });
    await trail.appendWithin(tx, [
      {
        requestId: review.requestId,
        requester: review.reviewer,
        ...(review.client ? { client: review.client } : {}),
        operation: AuditOperation.ALERT_REVIEW,
        outcome: AuditDecision.PERMIT,
        patientIds: [reviewed.patientId],
        reasons: [`alert ${reviewed.id} (${reviewed.kind}) reviewed: ${review.outcome}`],
      },
    ]);
    return reviewed;
  });
}
