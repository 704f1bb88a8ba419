import { randomUUID } from 'node:crypto';
import type { Requester } from '../access/hooks';
import type { SqlClient } from '../store/engine';

/**
 * Alerts for the privacy officer (specs/access-and-consent.md: self-claimed relationships,
 * break-glass, overrides of a refusal and access to very restricted data raise alerts), and the
 * officer's review of each. Both tables are append-only: an alert is open until it has its one
 * review, which records an outcome from a fixed set, a note and who reviewed it.
 */

export const AlertKind = {
  SELF_CLAIM: 'self-claim',
  BREAK_GLASS: 'break-glass',
  REFUSAL_OVERRIDE: 'refusal-override',
  VERY_RESTRICTED_ACCESS: 'very-restricted-access',
} as const;
export type AlertKind = (typeof AlertKind)[keyof typeof AlertKind];

export const AlertStatus = { OPEN: 'open', REVIEWED: 'reviewed' } as const;
export type AlertStatus = (typeof AlertStatus)[keyof typeof AlertStatus];

/** What the privacy officer concluded. */
export const AlertReviewOutcome = {
  /** The access was justified. */
  APPROPRIATE: 'appropriate',
  /** Not justified; the user was advised, no further action. */
  INAPPROPRIATE_ADVISED: 'inappropriate-advised',
  /** Not justified; escalated (line manager, HR, Caldicott guardian, incident report). */
  INAPPROPRIATE_ESCALATED: 'inappropriate-escalated',
} as const;
export type AlertReviewOutcome = (typeof AlertReviewOutcome)[keyof typeof AlertReviewOutcome];

/** Whether an outcome needs the reviewer's note (every finding of inappropriate access does). */
export function noteRequired(outcome: AlertReviewOutcome): boolean {
  switch (outcome) {
    case AlertReviewOutcome.APPROPRIATE:
      return false;
    case AlertReviewOutcome.INAPPROPRIATE_ADVISED:
    case AlertReviewOutcome.INAPPROPRIATE_ESCALATED:
      return true;
  }
}

/** The requester as an alert keeps it: who they are at work, never anything about the patient. */
export interface AlertPerson {
  readonly userId: string;
  readonly displayName?: string;
  readonly role?: string;
  readonly organisation?: string;
  readonly teams?: readonly string[];
  readonly purposeOfUse: string;
}

export interface AlertReview {
  readonly outcome: AlertReviewOutcome;
  readonly note?: string;
  readonly reviewer: AlertPerson;
  readonly reviewedAt: string;
}

export interface Alert {
  readonly id: string;
  readonly kind: AlertKind;
  readonly raisedAt: string;
  readonly requester: AlertPerson;
  readonly patientId: string;
  readonly reason: string;
  readonly requestId?: string;
  readonly status: AlertStatus;
  readonly review?: AlertReview;
}

export interface RaiseAlertInput {
  readonly kind: AlertKind;
  readonly requester: Requester;
  readonly patientId: string;
  /** The reason the user gave (self-claim, break-glass) or the rule that fired. */
  readonly reason: string;
  readonly requestId?: string;
  readonly now?: Date;
}

export class AlertInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'AlertInputError';
  }
}

export class AlertNotFoundError extends Error {
  constructor(readonly alertId: string) {
    super(`No alert ${alertId}`);
    this.name = 'AlertNotFoundError';
  }
}

export class AlertAlreadyReviewedError extends Error {
  constructor(readonly alertId: string) {
    super(`Alert ${alertId} has already been reviewed`);
    this.name = 'AlertAlreadyReviewedError';
  }
}

function personOf(r: Requester): AlertPerson {
  return {
    userId: r.system ? `system:${r.system}` : r.userId,
    ...(r.displayName ? { displayName: r.displayName } : {}),
    ...(r.role ? { role: r.role } : {}),
    ...(r.organisation ? { organisation: r.organisation } : {}),
    ...(r.teams?.length ? { teams: [...r.teams] } : {}),
    purposeOfUse: r.purposeOfUse,
  };
}

const isKind = (k: string): k is AlertKind => (Object.values(AlertKind) as string[]).includes(k);

/** Raises an alert. Pass the transaction that grants the access, so grant and alert commit together. */
export async function raiseAlert(db: SqlClient, input: RaiseAlertInput): Promise<Alert> {
  if (!isKind(input.kind)) throw new AlertInputError('kind', `kind must be one of ${Object.values(AlertKind).join(', ')}`);
  const reason = input.reason.trim();
  if (reason === '') throw new AlertInputError('reason', 'an alert needs a reason');
  if (input.patientId.trim() === '') throw new AlertInputError('patientId', 'an alert names the patient');
  const id = randomUUID();
  const raisedAt = (input.now ?? new Date()).toISOString();
  const requester = personOf(input.requester);
  await db.query(
    `INSERT INTO audit_alert (id, kind, raised_at, user_id, requester, organisation, patient_id, reason, request_id) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)`,
    [id, input.kind, raisedAt, requester.userId, JSON.stringify(requester), requester.organisation ?? null, input.patientId, reason, input.requestId ?? null],
  );
  return { id, kind: input.kind, raisedAt, requester, patientId: input.patientId, reason, ...(input.requestId ? { requestId: input.requestId } : {}), status: AlertStatus.OPEN };
}

interface AlertRow {
  id: string;
  kind: AlertKind;
  raised_at: Date | string;
  requester: AlertPerson;
  patient_id: string;
  reason: string;
  request_id: string | null;
  outcome: AlertReviewOutcome | null;
  note: string | null;
  reviewer: AlertPerson | null;
  reviewed_at: Date | string | null;
}

function alertOf(r: AlertRow): Alert {
  return {
    id: r.id,
    kind: r.kind,
    raisedAt: new Date(r.raised_at).toISOString(),
    requester: r.requester,
    patientId: r.patient_id,
    reason: r.reason,
    ...(r.request_id ? { requestId: r.request_id } : {}),
    status: r.outcome ? AlertStatus.REVIEWED : AlertStatus.OPEN,
    ...(r.outcome && r.reviewer && r.reviewed_at
      ? { review: { outcome: r.outcome, ...(r.note ? { note: r.note } : {}), reviewer: r.reviewer, reviewedAt: new Date(r.reviewed_at).toISOString() } }
      : {}),
  };
}

const ALERT_SELECT = `SELECT a.id::text AS id, a.kind, a.raised_at, a.requester, a.patient_id, a.reason, a.request_id, r.outcome, r.note, r.reviewer, r.reviewed_at
  FROM audit_alert a LEFT JOIN audit_alert_review r ON r.alert_id = a.id`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function getAlert(db: SqlClient, id: string): Promise<Alert | undefined> {
  if (!UUID.test(id)) return undefined;
  const result = await db.query<AlertRow>(`${ALERT_SELECT} WHERE a.id = $1::uuid`, [id]);
  const row = result.rows[0];
  return row ? alertOf(row) : undefined;
}

export interface AlertFilter {
  readonly status?: AlertStatus;
  readonly kind?: AlertKind;
  readonly patientIds?: readonly string[];
  readonly userId?: string;
  /** Newest first; page with the last alert's raisedAt and id. */
  readonly before?: { raisedAt: string; id: string };
  readonly count: number;
}

export async function listAlerts(db: SqlClient, filter: AlertFilter): Promise<Alert[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown): string => {
    params.push(v);
    return `$${String(params.length)}`;
  };
  if (filter.status === AlertStatus.OPEN) where.push('r.alert_id IS NULL');
  if (filter.status === AlertStatus.REVIEWED) where.push('r.alert_id IS NOT NULL');
  if (filter.kind) where.push(`a.kind = ${param(filter.kind)}`);
  if (filter.patientIds) where.push(`a.patient_id = ANY(${param(filter.patientIds)}::text[])`);
  if (filter.userId) where.push(`a.user_id = ${param(filter.userId)}`);
  if (filter.before) where.push(`(a.raised_at, a.id) < (${param(filter.before.raisedAt)}::timestamptz, ${param(filter.before.id)}::uuid)`);
  const result = await db.query<AlertRow>(`${ALERT_SELECT}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY a.raised_at DESC, a.id DESC LIMIT ${param(filter.count)}`, params);
  return result.rows.map(alertOf);
}

export interface ReviewInput {
  readonly alertId: string;
  readonly outcome: AlertReviewOutcome;
  readonly note?: string;
  readonly reviewer: Requester;
  readonly now?: Date;
}

/** Records the review of an open alert. Run it in the transaction that also appends its audit entry. */
export async function reviewAlert(tx: SqlClient, input: ReviewInput): Promise<Alert> {
  if (!(Object.values(AlertReviewOutcome) as string[]).includes(input.outcome)) throw new AlertInputError('outcome', `outcome must be one of ${Object.values(AlertReviewOutcome).join(', ')}`);
  const note = input.note?.trim() ?? '';
  if (noteRequired(input.outcome) && note === '') throw new AlertInputError('note', `a review with outcome ${input.outcome} needs a note`);
  if (!UUID.test(input.alertId)) throw new AlertNotFoundError(input.alertId);
  // Lock the alert so two officers reviewing at once get one review and one clear refusal.
  const locked = await tx.query('SELECT 1 FROM audit_alert WHERE id = $1::uuid FOR UPDATE', [input.alertId]);
  if (locked.rows.length === 0) throw new AlertNotFoundError(input.alertId);
  const existing = await tx.query('SELECT 1 FROM audit_alert_review WHERE alert_id = $1::uuid', [input.alertId]);
  if (existing.rows.length > 0) throw new AlertAlreadyReviewedError(input.alertId);
  const reviewer = personOf(input.reviewer);
  await tx.query(`INSERT INTO audit_alert_review (alert_id, outcome, note, reviewer_id, reviewer, reviewed_at) VALUES ($1::uuid, $2, $3, $4, $5::jsonb, $6)`, [
    input.alertId,
    input.outcome,
    note === '' ? null : note,
    reviewer.userId,
    JSON.stringify(reviewer),
    (input.now ?? new Date()).toISOString(),
  ]);
  const alert = await getAlert(tx, input.alertId);
  if (!alert) throw new AlertNotFoundError(input.alertId);
  return alert;
}
