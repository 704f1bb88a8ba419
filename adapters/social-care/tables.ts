/**
 * The tables of a social care extract (specs/social-care-extract.md, "The folder"): file name, the
 * column holding each row's own id, and every column the contract defines. Column names are
 * matched case-insensitively; anything else in a header is an unknown column (ignored, reported once).
 */
export const SocialCareTable = {
  PERSONS: 'persons',
  RELATIONSHIPS: 'relationships',
  ALLOCATIONS: 'allocations',
  REFERRALS: 'referrals',
  ASSESSMENTS: 'assessments',
  SERVICES: 'services',
  CARE_PLANS: 'care_plans',
  ALERTS: 'alerts',
  CONSENTS: 'consents',
} as const;
export type SocialCareTable = (typeof SocialCareTable)[keyof typeof SocialCareTable];

export interface TableDefinition {
  readonly table: SocialCareTable;
  readonly file: string;
  readonly required: boolean;
  /** The column holding the row's own id (PERSON_ID for persons). */
  readonly idColumn: string;
  readonly columns: readonly string[];
}

const table = (t: SocialCareTable, idColumn: string, columns: readonly string[], required = false): TableDefinition => ({
  table: t,
  file: `${t}.csv`,
  required,
  idColumn,
  // Every table but persons refers to a person; a delta carries RECORD_STATUS on every table.
  columns: [idColumn, ...(t === 'persons' ? [] : ['PERSON_ID']), ...columns, 'RECORD_STATUS'],
});

/** In import order: persons first (the others refer to them), allocations before what names workers. */
export const TABLES: readonly TableDefinition[] = [
  table(
    'persons',
    'PERSON_ID',
    [
      'NHS_NUMBER', 'NHS_NUMBER_VERIFIED', 'TITLE', 'FORENAME', 'MIDDLE_NAMES', 'SURNAME', 'PREFERRED_NAME', 'DATE_OF_BIRTH', 'DATE_OF_DEATH',
      'GENDER', 'ETHNICITY', 'FIRST_LANGUAGE', 'INTERPRETER_REQUIRED', 'ADDRESS_LINE_1', 'ADDRESS_LINE_2', 'ADDRESS_LINE_3', 'ADDRESS_LINE_4',
      'POSTCODE', 'ACCOMMODATION_TYPE', 'CARE_HOME_NAME', 'CARE_HOME_CQC_ID', 'TELEPHONE', 'MOBILE', 'EMAIL', 'GP_PRACTICE_CODE', 'LIVES_ALONE',
      'LAST_UPDATED',
    ],
    true,
  ),
  table('relationships', 'RELATIONSHIP_ID', [
    'RELATED_PERSON_ID', 'RELATIONSHIP_TYPE', 'FORENAME', 'SURNAME', 'TELEPHONE', 'ADDRESS', 'POSTCODE', 'CARER_ASSESSMENT_OFFERED', 'START_DATE', 'END_DATE',
  ]),
  table('allocations', 'ALLOCATION_ID', [
    'WORKER_ID', 'WORKER_NAME', 'WORKER_ROLE', 'WORKER_PHONE', 'WORKER_EMAIL', 'TEAM_ID', 'TEAM_NAME', 'ALLOCATION_TYPE', 'START_DATE', 'END_DATE',
  ]),
  table('referrals', 'REFERRAL_ID', ['RECEIVED_DATE', 'SOURCE', 'REASON', 'PRIORITY', 'TEAM_ID', 'TEAM_NAME', 'OUTCOME', 'OUTCOME_DATE']),
  table('assessments', 'ASSESSMENT_ID', [
    'ASSESSMENT_TYPE', 'STATUS', 'START_DATE', 'COMPLETED_DATE', 'ELIGIBLE', 'RISK_RAG', 'OUTCOME', 'SUMMARY', 'WORKER_ID',
  ]),
  table('services', 'SERVICE_ID', [
    'SERVICE_TYPE', 'PROVIDER_NAME', 'PROVIDER_CQC_ID', 'START_DATE', 'END_DATE', 'QUANTITY', 'UNIT', 'STATUS', 'SUSPENSION_REASON', 'NOTES',
  ]),
  table('care_plans', 'PLAN_ID', ['PLAN_TYPE', 'STATUS', 'START_DATE', 'REVIEW_DATE', 'SUMMARY', 'AUTHOR_WORKER_ID']),
  table('alerts', 'ALERT_ID', ['ALERT_TYPE', 'DESCRIPTION', 'START_DATE', 'END_DATE', 'SENSITIVE']),
  table('consents', 'CONSENT_ID', [
    'CONSENT_TYPE', 'DECISION', 'DECISION_DATE', 'HAS_CAPACITY', 'DECISION_MAKER', 'RECORDED_BY_WORKER_ID', 'NOTES',
  ]),
];

export const TABLE_BY_FILE: ReadonlyMap<string, TableDefinition> = new Map(TABLES.map((t) => [t.file, t]));
export const TABLE_DEFINITION: Readonly<Record<SocialCareTable, TableDefinition>> = Object.fromEntries(TABLES.map((t) => [t.table, t])) as Record<SocialCareTable, TableDefinition>;

/** One data row: its file, the line it starts on, and its values by upper-case column name. */
export interface SourceRow {
  readonly table: SocialCareTable;
  readonly line: number;
  /** Upper-case column name → the value as written (trimmed). Columns the file lacks are absent. */
  readonly values: Readonly<Record<string, string>>;
  /** Upper-case column name → its 1-based column number in the file, for reports. */
  readonly columnNumbers: Readonly<Record<string, number>>;
}
