import type { Coding, Identifier, Meta, Organization, Patient, Reference, Resource } from '@medplum/fhirtypes';
import type { ExtractType } from '../../adapters/social-care/manifest';
import type { SocialCareTable, SourceRow } from '../../adapters/social-care/tables';
import { resourceId } from '../ids';
import { ONS_LOCAL_AUTHORITY_SYSTEM, sourceTeamSystem, sourceWorkerSystem } from '../identifiers';
import { securityLabels, type Confidentiality, type Sensitivity } from '../security/labels';

/**
 * What a social care mapping knows about the extract (all from its manifest; nothing from a clock).
 * `extractedAt` is also "today" for the rules that need one (births in the future, open cases),
 * so mapping the same extract always gives the same resources.
 */
export interface SocialCareContext {
  /** manifest.sourceSystemUri: meta.source and the base of every local identifier system. */
  readonly source: string;
  readonly council: { readonly code: string; readonly name: string };
  readonly extractedAt: string;
  readonly type: ExtractType;
}

export const IssueSeverity = { ERROR: 'error', WARNING: 'warning', INFORMATION: 'information' } as const;
export type IssueSeverity = (typeof IssueSeverity)[keyof typeof IssueSeverity];

/**
 * Why a row was rejected (error) or altered (warning), or something noted (information). Texts
 * name columns and codes, never names, NHS numbers, dates or free text from the row.
 */
export const IssueCode = {
  ROW_REJECTED_NO_ID: 'missing-id',
  UNKNOWN_PERSON: 'unknown-person',
  DUPLICATE_ROW: 'duplicate-row',
  INVALID_DATE: 'invalid-date',
  TWO_DIGIT_YEAR: 'two-digit-year',
  FUTURE_DATE: 'future-date',
  DATES_OUT_OF_ORDER: 'dates-out-of-order',
  UNKNOWN_CODE: 'unknown-code',
  INVALID_FLAG: 'invalid-flag',
  INVALID_NUMBER: 'invalid-number',
  NHS_NUMBER_INVALID: 'nhs-number-invalid',
  NHS_NUMBER_FORMAT: 'nhs-number-format',
  NHS_NUMBER_SHARED: 'nhs-number-shared',
  INVALID_RECORD_STATUS: 'invalid-record-status',
  INCONSISTENT: 'inconsistent',
  RELATED_PERSON_UNKNOWN: 'related-person-unknown',
  WORKER_DETAILS_DIFFER: 'worker-details-differ',
  SENSITIVE_RAISED: 'sensitive-raised',
} as const;
export type IssueCode = (typeof IssueCode)[keyof typeof IssueCode];

export interface SocialCareIssue {
  readonly file: string;
  readonly line: number;
  readonly column?: string;
  readonly severity: IssueSeverity;
  /** An IssueCode, or a CsvIssueCode for problems with the file's shape. */
  readonly code: string;
  readonly reason: string;
  /** The row's own id (PERSON_ID, SERVICE_ID…), when it has one: a system number, not patient data. */
  readonly recordId?: string;
}

/** Collects the issues of one row. */
export class RowIssues {
  readonly items: SocialCareIssue[] = [];
  constructor(
    readonly row: Pick<SourceRow, 'table' | 'line'>,
    readonly recordId?: string,
  ) {}

  private add(severity: IssueSeverity, code: IssueCode, column: string | undefined, reason: string): void {
    this.items.push({ file: `${this.row.table}.csv`, line: this.row.line, ...(column ? { column } : {}), severity, code, reason, ...(this.recordId ? { recordId: this.recordId } : {}) });
  }
  error(code: IssueCode, column: string | undefined, reason: string): void {
    this.add(IssueSeverity.ERROR, code, column, reason);
  }
  warning(code: IssueCode, column: string | undefined, reason: string): void {
    this.add(IssueSeverity.WARNING, code, column, reason);
  }
  information(code: IssueCode, column: string | undefined, reason: string): void {
    this.add(IssueSeverity.INFORMATION, code, column, reason);
  }
}

/** Identifier systems local to the extract's source. */
export const localSystem = {
  person: (source: string): string => `${source}/person`,
  record: (source: string, table: SocialCareTable): string => `${source}/${table.replace('_', '-')}`,
  /** The source's own code for a column whose value is not in the contract's list. */
  code: (source: string, column: string): string => `${source}/code/${column.toLowerCase().replace(/_/g, '-')}`,
  team: sourceTeamSystem,
  worker: sourceWorkerSystem,
} as const;

/** The contract's own code lists (specs/social-care-extract.md) as CareBridge code systems. */
export const contractCodeSystem = (column: string): string => `https://carebridge.nhs.uk/fhir/CodeSystem/social-care-${column.toLowerCase().replace(/_/g, '-')}`;

/** A resource no longer current at its source: tagged, so it can be found and told apart. */
export const RETIRED_TAG: Coding = { system: 'https://carebridge.nhs.uk/fhir/CodeSystem/record-state', code: 'retired-by-source', display: 'No longer held by the source system' };

export function meta(context: SocialCareContext, sensitivities: readonly Sensitivity[] = [], confidentiality: Confidentiality = 'N', retired = false): Meta {
  return { source: context.source, security: securityLabels(sensitivities, confidentiality), ...(retired ? { tag: [{ ...RETIRED_TAG }] } : {}) };
}

export function idFor(context: SocialCareContext, resourceType: Resource['resourceType'], key: string): string {
  return resourceId(resourceType, context.source, key);
}

export function reference<T extends Resource>(resourceType: T['resourceType'], id: string, identifier?: Identifier, display?: string): Reference<T> {
  return { reference: `${resourceType}/${id}`, ...(identifier ? { identifier } : {}), ...(display ? { display } : {}) };
}

/** The person's own Patient (id from PERSON_ID), referenced with its local identifier. */
export function patientId(context: SocialCareContext, personId: string): string {
  return idFor(context, 'Patient', `person|${personId}`);
}

export function patientReference(context: SocialCareContext, personId: string): Reference<Patient> {
  return reference<Patient>('Patient', patientId(context, personId), { system: localSystem.person(context.source), value: personId });
}

export const councilIdentifier = (context: SocialCareContext): Identifier => ({ system: ONS_LOCAL_AUTHORITY_SYSTEM, value: context.council.code });
export const councilId = (context: SocialCareContext): string => resourceId('Organization', ONS_LOCAL_AUTHORITY_SYSTEM, context.council.code);
export function councilReference(context: SocialCareContext): Reference<Organization> {
  return reference<Organization>('Organization', councilId(context), councilIdentifier(context), context.council.name);
}

/** The row's source identifier (e.g. `<source>/service` | SERVICE_ID). */
export function recordIdentifier(context: SocialCareContext, table: SocialCareTable, id: string): Identifier {
  return { system: localSystem.record(context.source, table), value: id };
}

/** A row's retirement: the date it stopped being current at the source (the extract's date). */
export interface Retirement {
  readonly on: string;
}
