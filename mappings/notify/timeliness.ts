import { RecipientRole } from './recipients';

/**
 * How long before each discharge the people who pick up the care were told (issue 10: the measure
 * the field never had). For each discharge and each GP practice, community team or care home the
 * record names: when they were first told of the pending discharge and of the discharge itself
 * (a delivered notification, or the worklist item acknowledged, whichever came first), as a lead
 * time (positive: told before the person left). Pure: the gateway reads the rows, this sums them.
 */

export const NoticeKind = { PENDING: 'pending', ACTUAL: 'actual' } as const;
export type NoticeKind = (typeof NoticeKind)[keyof typeof NoticeKind];

export const MeasuredRole = { GP_PRACTICE: 'gp-practice', COMMUNITY: 'community', CARE_HOME: 'care-home' } as const;
export type MeasuredRole = (typeof MeasuredRole)[keyof typeof MeasuredRole];

/** The role a recipient is measured under; undefined for parties outside the measure. */
export function measuredRole(roles: readonly string[]): MeasuredRole | undefined {
  if (roles.includes(RecipientRole.GP_PRACTICE)) return MeasuredRole.GP_PRACTICE;
  if (roles.includes(RecipientRole.CARE_TEAM) || roles.includes(RecipientRole.COORDINATOR_TEAM)) return MeasuredRole.COMMUNITY;
  if (roles.includes(RecipientRole.CARE_HOME)) return MeasuredRole.CARE_HOME;
  return undefined;
}

export interface DischargeNotice {
  readonly encounterId: string;
  readonly hospital: string;
  readonly ward: string;
  readonly dischargedAt: string;
  readonly recipient: string;
  readonly recipientRole: MeasuredRole;
  readonly pendingToldAt?: string;
  readonly actualToldAt?: string;
}

export interface DischargeNoticeRow extends DischargeNotice {
  /** Seconds from being told to the discharge (negative: told afterwards); absent when never told. */
  readonly pendingLeadSeconds?: number;
  readonly actualLeadSeconds?: number;
}

export interface TimelinessSummaryRow {
  readonly hospital: string;
  readonly ward: string;
  readonly recipientRole: MeasuredRole;
  readonly notice: NoticeKind;
  readonly discharges: number;
  /** Told before the discharge. */
  readonly inTime: number;
  /** Told only after the discharge. */
  readonly late: number;
  readonly notTold: number;
  readonly medianLeadSeconds?: number;
  readonly minLeadSeconds?: number;
}

const lead = (dischargedAt: string, toldAt: string | undefined): number | undefined => (toldAt === undefined ? undefined : (Date.parse(dischargedAt) - Date.parse(toldAt)) / 1000);

export function withLeadTimes(notice: DischargeNotice): DischargeNoticeRow {
  const pending = lead(notice.dischargedAt, notice.pendingToldAt);
  const actual = lead(notice.dischargedAt, notice.actualToldAt);
  return { ...notice, ...(pending !== undefined ? { pendingLeadSeconds: pending } : {}), ...(actual !== undefined ? { actualLeadSeconds: actual } : {}) };
}

function median(sorted: readonly number[]): number | undefined {
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Per hospital, ward, recipient role and notice kind, in a stable order. */
export function summariseTimeliness(rows: readonly DischargeNoticeRow[]): TimelinessSummaryRow[] {
  const groups = new Map<string, { hospital: string; ward: string; role: MeasuredRole; notice: NoticeKind; leads: (number | undefined)[] }>();
  for (const row of rows) {
    for (const notice of [NoticeKind.PENDING, NoticeKind.ACTUAL]) {
      const k = [row.hospital, row.ward, row.recipientRole, notice].join('\u0000');
      let g = groups.get(k);
      if (!g) {
        g = { hospital: row.hospital, ward: row.ward, role: row.recipientRole, notice, leads: [] };
        groups.set(k, g);
      }
      g.leads.push(notice === NoticeKind.PENDING ? row.pendingLeadSeconds : row.actualLeadSeconds);
    }
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => {
      const told = g.leads.filter((l): l is number => l !== undefined).sort((a, b) => a - b);
      const med = median(told);
      return {
        hospital: g.hospital,
        ward: g.ward,
        recipientRole: g.role,
        notice: g.notice,
        discharges: g.leads.length,
        inTime: told.filter((l) => l >= 0).length,
        late: told.filter((l) => l < 0).length,
        notTold: g.leads.length - told.length,
        ...(med !== undefined ? { medianLeadSeconds: med, minLeadSeconds: told[0] } : {}),
      };
    });
}
