import type { SqlClient } from '../store/engine';
import type { Requester } from './hooks';

/**
 * Time-limited access a user records for themselves (specs/access-and-consent.md, "Legitimate
 * relationship" and "The person's decisions"): permission to view for an 8-hour session, a
 * self-claimed relationship for 24 hours, break-glass for 4 hours. Each is kept for good (the
 * privacy officer's review needs them); "active" is a question of expiry, never of deletion.
 * A grant is about a person: it is stored with every source record the person had when it was made
 * and found again through any of them.
 */

export const GrantKind = {
  PERMISSION_TO_VIEW: 'permission-to-view',
  SELF_CLAIM: 'self-claimed',
  BREAK_GLASS: 'break-glass',
} as const;
export type GrantKind = (typeof GrantKind)[keyof typeof GrantKind];

export const GRANT_DURATION_MS: Readonly<Record<GrantKind, number>> = {
  'permission-to-view': 8 * 3600_000,
  'self-claimed': 24 * 3600_000,
  'break-glass': 4 * 3600_000,
};

/** What the user recorded on opening the record: whether the person gave permission to view. */
export const PermissionToView = { GIVEN: 'given', COULD_NOT_ASK: 'could-not-ask', REFUSED: 'refused' } as const;
export type PermissionToView = (typeof PermissionToView)[keyof typeof PermissionToView];

/** Reasons a user may give for a self-claimed relationship (the model's list; free text beside it). */
export const SelfClaimReason = {
  REFERRAL_RECEIVED: 'direct-care-referral-received',
  PATIENT_PRESENTED: 'direct-care-patient-presented',
  COVERING_COLLEAGUE: 'direct-care-covering-colleague',
  DISCHARGE_PLANNING: 'direct-care-discharge-planning',
  SAFEGUARDING_ENQUIRY: 'safeguarding-enquiry',
} as const;
export type SelfClaimReason = (typeof SelfClaimReason)[keyof typeof SelfClaimReason];

export const SELF_CLAIM_REASON_TEXT: Readonly<Record<SelfClaimReason, string>> = {
  'direct-care-referral-received': 'Direct care: referral received',
  'direct-care-patient-presented': 'Direct care: patient presented',
  'direct-care-covering-colleague': 'Direct care: covering colleague',
  'direct-care-discharge-planning': 'Direct care: discharge planning',
  'safeguarding-enquiry': 'Safeguarding enquiry',
};

export interface Grant {
  readonly id: string;
  readonly kind: GrantKind;
  readonly userId: string;
  readonly role?: string;
  readonly organisation?: string;
  readonly patientId: string;
  readonly decision?: PermissionToView;
  readonly reasonCode?: string;
  readonly reasonText?: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface NewGrant {
  readonly kind: GrantKind;
  readonly requester: Requester;
  /** The record the user opened. */
  readonly patientId: string;
  /** Every source record of the person at the time (identity/resolver samePersonIds). */
  readonly personIds: readonly string[];
  readonly decision?: PermissionToView;
  readonly reasonCode?: string;
  readonly reasonText?: string;
  readonly requestId?: string;
  readonly now: Date;
}

interface GrantRow {
  id: string;
  kind: GrantKind;
  user_id: string;
  role: string | null;
  organisation: string | null;
  patient_id: string;
  decision: PermissionToView | null;
  reason_code: string | null;
  reason_text: string | null;
  created_at: Date | string;
  expires_at: Date | string;
}

const iso = (v: Date | string): string => (v instanceof Date ? v : new Date(v)).toISOString();

function fromRow(r: GrantRow): Grant {
  return {
    id: r.id,
    kind: r.kind,
    userId: r.user_id,
    ...(r.role ? { role: r.role } : {}),
    ...(r.organisation ? { organisation: r.organisation } : {}),
    patientId: r.patient_id,
    ...(r.decision ? { decision: r.decision } : {}),
    ...(r.reason_code ? { reasonCode: r.reason_code } : {}),
    ...(r.reason_text ? { reasonText: r.reason_text } : {}),
    createdAt: iso(r.created_at),
    expiresAt: iso(r.expires_at),
  };
}

export async function recordGrant(db: SqlClient, grant: NewGrant): Promise<Grant> {
  const expires = new Date(grant.now.getTime() + GRANT_DURATION_MS[grant.kind]);
  const result = await db.query<GrantRow>(
    `INSERT INTO access_grant (kind, user_id, role, organisation, patient_id, person_ids, decision, reason_code, reason_text, request_id, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, $10, $11, $12)
     RETURNING id::text AS id, kind, user_id, role, organisation, patient_id, decision, reason_code, reason_text, created_at, expires_at`,
    [
      grant.kind,
      grant.requester.userId,
      grant.requester.role ?? null,
      grant.requester.organisation ?? null,
      grant.patientId,
      [...new Set([grant.patientId, ...grant.personIds])],
      grant.decision ?? null,
      grant.reasonCode ?? null,
      grant.reasonText ?? null,
      grant.requestId ?? null,
      grant.now,
      expires,
    ],
  );
  const row = result.rows[0];
  if (!row) throw new Error('access grant was not written');
  return fromRow(row);
}

export interface GrantsAt {
  /** The grants still running at `now`, newest first: for each kind only the newest counts (a later "refused" replaces an earlier "given"). */
  readonly active: Grant[];
  /**
   * The next instant after `now` (ms) at which these grants could read otherwise: one recorded
   * with a later start (another process's clock, or a request overlapping this one) begins, or one
   * ends. The times are compared in SQL, so a remembered decision must not outlive this.
   */
  readonly nextChange?: number;
}

/** The user's grants about a person at `now`, and when that could next change, in one statement. */
export async function grantsAt(db: SqlClient, userId: string, personIds: readonly string[], now: Date): Promise<GrantsAt> {
  // Every grant not yet ended, in the order the newest per kind comes first; whether each has begun
  // and its next change are worked out by the database at its own precision (microseconds).
  const result = await db.query<GrantRow & { started: boolean; change_at: string }>(
    `SELECT id::text AS id, kind, user_id, role, organisation, patient_id, decision, reason_code, reason_text, created_at, expires_at,
            created_at <= $3 AS started,
            floor(extract(epoch FROM CASE WHEN created_at > $3 THEN created_at ELSE expires_at END) * 1000)::bigint::text AS change_at
       FROM access_grant
      WHERE user_id = $1 AND person_ids && $2::text[] AND expires_at > $3
      ORDER BY kind, created_at DESC, access_grant.id DESC`,
    [userId, [...personIds], now],
  );
  const newestOfKind = new Map<string, GrantRow>();
  let nextChange: number | undefined;
  for (const row of result.rows) {
    if (row.started && !newestOfKind.has(row.kind)) newestOfKind.set(row.kind, row);
    const at = Number(row.change_at);
    if (nextChange === undefined || at < nextChange) nextChange = at;
  }
  const active = [...newestOfKind.values()].map(fromRow).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return nextChange === undefined ? { active } : { active, nextChange };
}
