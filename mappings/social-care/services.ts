import type { CarePlan, CarePlanActivity, Resource } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { SERVICE_ACTIVITY_STATUS, SERVICE_STATUS, SERVICE_TYPE, SERVICE_UNIT, SERVICE_UNIT_UCUM, SUSPENSION_REASON } from './codes';
import { councilReference, idFor, IssueCode, meta, patientReference, recordIdentifier, RowIssues, type SocialCareContext } from './context';
import { code, concept, decimal, extractDate, period, text, type RowReader } from './fields';
import { cqcOrganization, cqcReference } from './organisations';
import type { PersonRow } from './allocations';
import { endedBy, readerFor, type RowMapping } from './row-result';

/**
 * services.csv: a person's service lines together are their care package, one CarePlan of
 * category care-package with one activity per service: what (SERVICE_TYPE), who provides it (the
 * provider by CQC location id), how much (QUANTITY and UNIT), since when, and its status, with the
 * reason when suspended (e.g. a hospital admission). Row by row, only the provider is written and
 * the row's problems reported; the plan is built from all the person's rows.
 */
export const CARE_PLAN_KIND_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/care-plan-kind';
export const CARE_PACKAGE_CATEGORY = { system: CARE_PLAN_KIND_SYSTEM, code: 'care-package', display: 'Care package (adult social care services)' } as const;
export const SOURCE_RECORD_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/source-record';

export function mapServiceRow(context: SocialCareContext, row: SourceRow): RowMapping {
  const r = readerFor(context, row, 'SERVICE_ID');
  const s = readService(r);
  const resources: (Resource & { id: string })[] = [];
  if (s.providerCqc) resources.push(cqcOrganization(context, s.providerCqc, s.providerName, 'Care provider'));
  if (s.status?.known === 'SUSPENDED' && !s.suspension) r.issues.information(IssueCode.INCONSISTENT, 'SUSPENSION_REASON', 'STATUS is SUSPENDED without a SUSPENSION_REASON');
  if (s.suspension && s.status?.known !== 'SUSPENDED') r.issues.information(IssueCode.INCONSISTENT, 'SUSPENSION_REASON', 'SUSPENSION_REASON given but STATUS is not SUSPENDED');
  if (s.quantity !== undefined && !s.unit) r.issues.information(IssueCode.INCONSISTENT, 'UNIT', 'QUANTITY without a UNIT');
  return { resources, issues: r.issues.items };
}

interface Service {
  readonly id: string;
  readonly type?: ReturnType<typeof code<keyof typeof SERVICE_TYPE>>;
  readonly providerName?: string;
  readonly providerCqc?: string;
  readonly period?: { start?: string; end?: string };
  readonly quantity?: number;
  readonly unit?: ReturnType<typeof code<keyof typeof SERVICE_UNIT>>;
  readonly status?: ReturnType<typeof code<keyof typeof SERVICE_STATUS>>;
  readonly suspension?: ReturnType<typeof code<keyof typeof SUSPENSION_REASON>>;
  readonly notes?: string;
}

function readService(r: RowReader): Service {
  return {
    id: text(r, 'SERVICE_ID') ?? '',
    type: code(r, 'SERVICE_TYPE', SERVICE_TYPE),
    providerName: text(r, 'PROVIDER_NAME'),
    providerCqc: text(r, 'PROVIDER_CQC_ID'),
    period: period(r, 'START_DATE', 'END_DATE'),
    quantity: decimal(r, 'QUANTITY'),
    unit: code(r, 'UNIT', SERVICE_UNIT),
    status: code(r, 'STATUS', SERVICE_STATUS),
    suspension: code(r, 'SUSPENSION_REASON', SUSPENSION_REASON),
    notes: text(r, 'NOTES'),
  };
}

type ActivityStatus = NonNullable<CarePlanActivity['detail']>['status'];

function activityStatus(s: Service, today: string, retired: boolean): ActivityStatus {
  let status: ActivityStatus = s.status?.known ? SERVICE_ACTIVITY_STATUS[s.status.known] : 'unknown';
  if (!s.status) status = s.period?.end && s.period.end <= today ? 'completed' : s.period?.start && s.period.start > today ? 'not-started' : 'in-progress';
  if (retired && status !== 'completed') return 'stopped';
  return status;
}

const OPEN_STATUSES: ReadonlySet<ActivityStatus> = new Set<ActivityStatus>(['not-started', 'scheduled', 'in-progress', 'on-hold', 'unknown']);

/** The person's care package from all their service rows (issues were reported row by row). */
export function mapPersonServices(context: SocialCareContext, personId: string, rows: readonly PersonRow[]): (Resource & { id: string })[] {
  if (rows.length === 0) return [];
  const today = extractDate(context);
  const services = rows
    .map(({ row, retirement }) => {
      const s = readService({ context, row, issues: new RowIssues(row) });
      return { ...s, period: endedBy(s.period, retirement), retired: retirement !== undefined };
    })
    .sort((a, b) => (a.period?.start ?? '').localeCompare(b.period?.start ?? '') || a.id.localeCompare(b.id));
  const activity: CarePlanActivity[] = services.map((s) => {
    const status = activityStatus(s, today, s.retired);
    const unitKnown = s.unit?.known;
    const ucum = unitKnown ? SERVICE_UNIT_UCUM[unitKnown] : undefined;
    const statusReason = s.suspension ? concept(s.suspension) : undefined;
    return {
      extension: [{ url: SOURCE_RECORD_EXTENSION, valueIdentifier: recordIdentifier(context, 'services', s.id) }],
      detail: {
        ...(s.type ? { code: concept(s.type) } : {}),
        ...(statusReason ? { statusReason: { ...statusReason, text: `Suspended: ${statusReason.text ?? ''}` } } : {}),
        status,
        ...(s.period ? { scheduledPeriod: s.period } : {}),
        ...(s.providerCqc || s.providerName ? { performer: [s.providerCqc ? cqcReference(context, s.providerCqc, s.providerName) : { display: s.providerName ?? '' }] } : {}),
        ...(s.quantity !== undefined
          ? { quantity: { value: s.quantity, ...(s.unit ? { unit: s.unit.coding.display ?? s.unit.code } : {}), ...(ucum ? { system: 'http://unitsofmeasure.org', code: ucum } : {}) } }
          : {}),
        ...(s.notes ? { description: s.notes } : {}),
      },
    };
  });
  const open = activity.some((a) => OPEN_STATUSES.has(a.detail?.status ?? 'unknown'));
  const allRetired = services.every((s) => s.retired);
  const start = services.map((s) => s.period?.start).filter((d): d is string => d !== undefined).sort()[0];
  const end = open ? undefined : services.map((s) => s.period?.end).filter((d): d is string => d !== undefined).sort().at(-1);
  const plan: CarePlan & { id: string } = {
    resourceType: 'CarePlan',
    id: idFor(context, 'CarePlan', `care-package|${personId}`),
    meta: meta(context, [], 'N', allRetired),
    status: open ? 'active' : allRetired ? 'revoked' : 'completed',
    intent: 'plan',
    category: [{ coding: [{ ...CARE_PACKAGE_CATEGORY }] }],
    title: 'Care package',
    subject: patientReference(context, personId),
    ...(start || end ? { period: { ...(start ? { start } : {}), ...(end ? { end } : {}) } } : {}),
    author: councilReference(context),
    activity,
  };
  return [plan];
}
