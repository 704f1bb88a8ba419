import type { Resource } from '@medplum/fhirtypes';
import { TABLE_DEFINITION, type SocialCareTable, type SourceRow } from '../../adapters/social-care/tables';
import { canonicalStringify } from './canonical';
import { RECORD_STATUS, type RecordStatus } from './codes';
import { IssueCode, IssueSeverity, RowIssues, type Retirement, type SocialCareContext, type SocialCareIssue } from './context';
import { extractDate, normaliseCode } from './fields';
import { councilOrganization } from './organisations';
import { mapAlertRow } from './alerts';
import { mapAllocationRow, mapPersonAllocations, type PersonRow } from './allocations';
import { mapAssessmentRow } from './assessments';
import { mapCarePlanRow } from './care-plans';
import { mapConsentRow } from './consents';
import { mapPersonRow, personFacts } from './persons';
import { mapReferralRow } from './referrals';
import { mapRelationshipRow } from './relationships';
import { mapServiceRow, mapPersonServices } from './services';
import type { RowMapping } from './row-result';

/**
 * The extract-level rules around the per-table mappings, row by row and pure (the importer streams
 * rows through it; the golden tests feed it fixture rows):
 * - RECORD_STATUS (A/U/D) in a delta; rows without a usable id are rejected;
 * - a row whose PERSON_ID is not a known person is rejected;
 * - duplicate ids: the last row wins, earlier ones are reported and skipped (the importer finds
 *   duplicates in its manifest pass, so the first row is never written);
 * - the same NHS number on two PERSON_IDs: both reported (identity resolution keeps them apart);
 * - workers, teams and organisations named on many rows are merged and written once, at the end.
 */
export type WrittenResource = Resource & { id: string };

/** A row as the importer keeps it (the source of aggregates and of retirements). */
export interface KeptRecord {
  readonly table: SocialCareTable;
  readonly recordId: string;
  readonly personId: string;
  readonly row: SourceRow;
  /** True for a delta's D: the record stays, retired. */
  readonly deleted: boolean;
}

export interface RowOutcome {
  readonly resources: WrittenResource[];
  readonly issues: SocialCareIssue[];
  /** Present when the row was accepted. */
  readonly record?: KeptRecord;
}

/** Tables whose resources are built per person from all their rows. */
export const AGGREGATED_TABLES: ReadonlySet<SocialCareTable> = new Set<SocialCareTable>(['allocations', 'services']);
const SHARED_TYPES: ReadonlySet<string> = new Set(['Organization', 'Practitioner', 'PractitionerRole']);

export function retirementOf(context: SocialCareContext): Retirement {
  return { on: extractDate(context) };
}

/** The per-row resources of a row (what a retirement re-maps); aggregated tables give none. */
export function mapRow(context: SocialCareContext, row: SourceRow, retirement?: Retirement, relatedKnown?: boolean): RowMapping {
  const table = row.table;
  switch (table) {
    case 'persons':
      return mapPersonRow(context, row, retirement);
    case 'relationships':
      return mapRelationshipRow(context, row, retirement, relatedKnown);
    case 'allocations':
      return mapAllocationRow(context, row);
    case 'referrals':
      return mapReferralRow(context, row, retirement);
    case 'assessments':
      return mapAssessmentRow(context, row, retirement);
    case 'services':
      return mapServiceRow(context, row);
    case 'care_plans':
      return mapCarePlanRow(context, row, retirement);
    case 'alerts':
      return mapAlertRow(context, row, retirement);
    case 'consents':
      return mapConsentRow(context, row, retirement);
  }
}

/** The aggregated resources of one person from their kept rows of one table. */
export function mapPersonAggregate(context: SocialCareContext, table: SocialCareTable, personId: string, rows: readonly PersonRow[]): WrittenResource[] {
  if (table === 'allocations') return mapPersonAllocations(context, personId, rows);
  if (table === 'services') return mapPersonServices(context, personId, rows);
  return [];
}

export interface ExtractMapperOptions {
  /** People the source already holds (a delta's rows may refer to them); empty for a full extract. */
  readonly knownPersons?: Iterable<string>;
  /** Per table, the ids seen more than once and the line of their last row. */
  readonly duplicates?: ReadonlyMap<SocialCareTable, ReadonlyMap<string, number>>;
}

export class ExtractMapper {
  readonly persons: Set<string>;
  private readonly duplicates: ReadonlyMap<SocialCareTable, ReadonlyMap<string, number>>;
  private readonly nhsNumbers = new Map<string, { personId: string; line: number; reported: boolean }>();
  private readonly shared = new Map<string, WrittenResource>();
  private readonly differing = new Set<string>();

  constructor(
    readonly context: SocialCareContext,
    options: ExtractMapperOptions = {},
  ) {
    this.persons = new Set(options.knownPersons ?? []);
    this.duplicates = options.duplicates ?? new Map();
    const council = councilOrganization(context);
    this.shared.set(`Organization/${council.id}`, council);
  }

  /** One row: checked, mapped, its shared resources merged; per-row resources returned. */
  row(row: SourceRow): RowOutcome {
    const definition = TABLE_DEFINITION[row.table];
    const recordId = row.values[definition.idColumn] ?? '';
    const issues = new RowIssues(row, recordId || undefined);
    if (!recordId) {
      issues.error(IssueCode.ROW_REJECTED_NO_ID, definition.idColumn, `${definition.idColumn} is empty; the row is rejected`);
      return { resources: [], issues: issues.items };
    }
    const lastLine = this.duplicates.get(row.table)?.get(recordId);
    if (lastLine !== undefined && lastLine !== row.line) {
      issues.warning(IssueCode.DUPLICATE_ROW, definition.idColumn, `${definition.idColumn} appears again on line ${lastLine}; the later row wins and this one is skipped`);
      return { resources: [], issues: issues.items };
    }
    const status = this.recordStatus(row, issues);
    if (status === null) return { resources: [], issues: issues.items };
    const personId = row.table === 'persons' ? recordId : (row.values['PERSON_ID'] ?? '');
    if (row.table === 'persons') {
      if (status === 'D') this.persons.delete(personId);
      else this.persons.add(personId);
    } else if (!personId) {
      issues.error(IssueCode.UNKNOWN_PERSON, 'PERSON_ID', 'PERSON_ID is empty; the row is rejected');
      return { resources: [], issues: issues.items };
    } else if (!this.persons.has(personId)) {
      issues.error(IssueCode.UNKNOWN_PERSON, 'PERSON_ID', 'PERSON_ID is not a person in persons.csv; the row is rejected');
      return { resources: [], issues: issues.items };
    }
    if (status === 'D') {
      // Retired by the importer from the row it holds (a D row may carry little more than its ids).
      return { resources: [], issues: issues.items, record: { table: row.table, recordId, personId, row, deleted: true } };
    }
    let relatedKnown: boolean | undefined;
    if (row.table === 'relationships' && row.values['RELATED_PERSON_ID']) {
      relatedKnown = this.persons.has(row.values['RELATED_PERSON_ID']);
      if (!relatedKnown) issues.information(IssueCode.RELATED_PERSON_UNKNOWN, 'RELATED_PERSON_ID', 'RELATED_PERSON_ID is not a person in persons.csv; the relationship is kept without the link');
    }
    if (row.table === 'persons') this.checkSharedNhsNumber(row, issues);
    const mapped = mapRow(this.context, row, undefined, relatedKnown);
    const resources: WrittenResource[] = [];
    for (const resource of mapped.resources) {
      if (SHARED_TYPES.has(resource.resourceType)) {
        this.mergeShared(resource, issues);
      } else resources.push(resource);
    }
    return { resources, issues: [...issues.items, ...mapped.issues], record: { table: row.table, recordId, personId, row, deleted: false } };
  }

  private recordStatus(row: SourceRow, issues: RowIssues): RecordStatus | undefined | null {
    const raw = row.values['RECORD_STATUS'];
    if (!raw) {
      if (this.context.type === 'delta') {
        issues.error(IssueCode.INVALID_RECORD_STATUS, 'RECORD_STATUS', 'A delta row needs RECORD_STATUS (A, U or D); the row is rejected');
        return null;
      }
      return undefined;
    }
    const status = normaliseCode(raw);
    if (!Object.hasOwn(RECORD_STATUS, status)) {
      issues.error(IssueCode.INVALID_RECORD_STATUS, 'RECORD_STATUS', 'RECORD_STATUS must be A, U or D; the row is rejected');
      return null;
    }
    if (this.context.type === 'full' && status === 'D') issues.information(IssueCode.INVALID_RECORD_STATUS, 'RECORD_STATUS', 'RECORD_STATUS D in a full extract: the record is retired');
    return status as RecordStatus;
  }

  private checkSharedNhsNumber(row: SourceRow, issues: RowIssues): void {
    const facts = personFacts(row);
    if (!facts.nhsNumber || !facts.nhsNumberValid) return;
    const first = this.nhsNumbers.get(facts.nhsNumber);
    if (!first) {
      this.nhsNumbers.set(facts.nhsNumber, { personId: facts.personId, line: row.line, reported: false });
      return;
    }
    if (first.personId === facts.personId) return;
    issues.warning(IssueCode.NHS_NUMBER_SHARED, 'NHS_NUMBER', `The same NHS number as PERSON_ID ${first.personId} (line ${first.line}); neither is linked on it until an identity review decides`);
    if (!first.reported) {
      first.reported = true;
      this.sharedNhsIssues.push({
        file: 'persons.csv',
        line: first.line,
        column: 'NHS_NUMBER',
        severity: IssueSeverity.WARNING,
        code: IssueCode.NHS_NUMBER_SHARED,
        reason: `The same NHS number as PERSON_ID ${facts.personId} (line ${row.line}); neither is linked on it until an identity review decides`,
        recordId: first.personId,
      });
    }
  }

  /** Issues about earlier rows found later (the first of two persons sharing an NHS number). */
  readonly sharedNhsIssues: SocialCareIssue[] = [];

  private mergeShared(resource: WrittenResource, issues: RowIssues): void {
    const key = `${resource.resourceType}/${resource.id}`;
    const before = this.shared.get(key);
    if (!before) {
      this.shared.set(key, resource);
      return;
    }
    const merged: Record<string, unknown> = { ...before };
    let differs = false;
    for (const [field, value] of Object.entries(resource)) {
      if (value === undefined) continue;
      const old = (before as unknown as Record<string, unknown>)[field];
      if (old !== undefined && canonicalStringify(old) !== canonicalStringify(value)) differs = true;
      merged[field] = value;
    }
    if (differs && !this.differing.has(key)) {
      this.differing.add(key);
      issues.information(IssueCode.WORKER_DETAILS_DIFFER, undefined, `${resource.resourceType} details differ from an earlier row; the later row's are used`);
    }
    this.shared.set(key, merged as unknown as WrittenResource);
  }

  /** Workers, teams, the council, care homes, providers and GP practices, merged: write once, after the rows. */
  sharedResources(): WrittenResource[] {
    return [...this.shared.values()].sort((a, b) => `${a.resourceType}/${a.id}`.localeCompare(`${b.resourceType}/${b.id}`));
  }
}
