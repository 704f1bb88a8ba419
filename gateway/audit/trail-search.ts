import type { AuditEvent } from '@medplum/fhirtypes';
import type { SqlClient } from '../store/engine';
import { decisionOf, returnedOf, teamsOf, USER_AGENT_EXTENSION, type AuditDecision } from './audit-event';

/**
 * Searches of the trail for the privacy officer, and a person's access report (who looked at
 * their record, when, from which organisation, in what role, why, and what they were shown).
 * Newest first; paged by sequence number (`before`), which is stable while the trail grows.
 */

export interface TrailQuery {
  /** Entries about any of these patients (pass every record of one person). */
  readonly patientIds?: readonly string[];
  readonly userId?: string;
  /** 'system|value', or a bare code (an ODS code) matched against any system. */
  readonly organisation?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly outcome?: AuditDecision;
  readonly purpose?: string;
  readonly before?: number;
  readonly count: number;
}

export interface TrailPage {
  readonly events: readonly { seq: number; event: AuditEvent }[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  readonly nextBefore?: number;
}

export async function searchTrail(db: SqlClient, q: TrailQuery): Promise<TrailPage> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown): string => {
    params.push(v);
    return `$${String(params.length)}`;
  };
  if (q.patientIds) where.push(`patient_ids && ${param(q.patientIds)}::text[]`);
  if (q.userId) where.push(`user_id = ${param(q.userId)}`);
  if (q.organisation) {
    const p = param(q.organisation);
    where.push(q.organisation.includes('|') ? `organisation = ${p}` : `(organisation = ${p} OR substr(organisation, strpos(organisation, '|') + 1) = ${p})`);
  }
  if (q.from) where.push(`recorded >= ${param(q.from.toISOString())}::timestamptz`);
  if (q.to) where.push(`recorded < ${param(q.to.toISOString())}::timestamptz`);
  if (q.outcome) where.push(`outcome = ${param(q.outcome)}`);
  if (q.purpose) where.push(`purpose = ${param(q.purpose)}`);
  if (q.before !== undefined) where.push(`seq < ${param(q.before)}`);
  const result = await db.query<{ seq: string | number; event: AuditEvent }>(
    `SELECT seq, event FROM audit_event${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${param(q.count + 1)}`,
    params,
  );
  const rows = result.rows.map((r) => ({ seq: Number(r.seq), event: r.event }));
  const events = rows.slice(0, q.count);
  const last = events[events.length - 1];
  return { events, ...(rows.length > q.count && last ? { nextBefore: last.seq } : {}) };
}

/** One look at a person's record, as the access report lists it. */
export interface AccessReportEntry {
  readonly when: string;
  readonly auditEventId: string;
  readonly user: { id: string; name?: string; workerId?: string };
  readonly role?: string;
  readonly organisation?: string;
  readonly teams: readonly string[];
  readonly purposeOfUse?: string;
  /** read, vread, history-instance, search-type, everything, or a named operation. */
  readonly interaction: string;
  readonly decision: string;
  readonly reasons: readonly string[];
  /** References of what was shown. */
  readonly returned: readonly string[];
  readonly withheld: number;
  readonly from?: { address?: string; userAgent?: string };
}

export interface AccessReport {
  readonly patientIds: readonly string[];
  readonly entries: readonly AccessReportEntry[];
  readonly nextBefore?: number;
}

export function accessReportEntry(event: AuditEvent): AccessReportEntry {
  const user = event.agent.find((a) => a.requestor);
  const org = event.agent.find((a) => a.type?.coding?.some((c) => c.code === 'organisation'))?.who?.identifier;
  const decision = decisionOf(event);
  const subtype = event.subtype?.find((c) => c.system !== 'http://hl7.org/fhir/restful-interaction') ?? event.subtype?.[0];
  const address = user?.network?.address;
  const userAgent = user?.extension?.find((e) => e.url === USER_AGENT_EXTENSION)?.valueString;
  return {
    when: event.recorded,
    auditEventId: event.id ?? '',
    user: { id: user?.who?.identifier?.value ?? '', ...(user?.who?.display ? { name: user.who.display } : {}), ...(user?.altId ? { workerId: user.altId } : {}) },
    ...(user?.role?.[0]?.coding?.[0]?.code ? { role: user.role[0].coding[0].code } : {}),
    ...(org?.value ? { organisation: org.system ? `${org.system}|${org.value}` : org.value } : {}),
    teams: teamsOf(event),
    ...(event.purposeOfEvent?.[0]?.coding?.[0]?.code ? { purposeOfUse: event.purposeOfEvent[0].coding[0].code } : {}),
    interaction: subtype?.code ?? '',
    decision: decision.decision,
    reasons: decision.reasons,
    returned: returnedOf(event),
    withheld: decision.withheld,
    ...(address || userAgent ? { from: { ...(address ? { address } : {}), ...(userAgent ? { userAgent } : {}) } } : {}),
  };
}

/** Who looked at this person's record (any of their records' ids), newest first. */
export async function accessReport(db: SqlClient, patientIds: readonly string[], options: { from?: Date; to?: Date; before?: number; count: number }): Promise<AccessReport> {
  const page = await searchTrail(db, { patientIds, ...options });
  return { patientIds, entries: page.events.map((e) => accessReportEntry(e.event)), ...(page.nextBefore !== undefined ? { nextBefore: page.nextBefore } : {}) };
}
