/**
 * The part of an access decision that becomes SQL: applied inside every query, before paging and
 * counting, so totals and pages never include what the reader may not see. The per-resource check
 * and redaction after reading is the other part (gateway/access/hooks.ts).
 */
export interface AccessScope {
  /** Patients whose compartment the reader may see; 'all' for no restriction by patient. */
  readonly patientIds: 'all' | readonly string[];
  /** Whether resources in no patient's compartment (Practitioner, Organization…) may be seen. */
  readonly nonPatientResources: boolean;
  /** Resource types the reader may see; 'all' for no restriction by type. */
  readonly resourceTypes: 'all' | readonly string[];
  /** meta.security labels ('system|code') whose resources are withheld. */
  readonly withheldLabels: readonly string[];
  /**
   * When set, only resources whose meta.source is one of these may be seen (the person objected to
   * sharing: only the organisation holding the data sees it). Resources with no meta.source are
   * withheld too.
   */
  readonly allowedSources?: readonly string[];
  /** Resources whose meta.source is one of these are withheld (consent by purpose and recipient). */
  readonly withheldSources?: readonly string[];
  /** Per resource type, the only ids of that type that may be seen (urgent care's "latest encounters"). */
  readonly onlyIds?: Readonly<Record<string, readonly string[]>>;
  /**
   * Several people's scopes at once (a search that finds more than one person): a row is visible
   * when any of these scopes lets it through. The fields above apply as well.
   */
  readonly anyOf?: readonly AccessScope[];
}

/** Sees nothing: a denied request still runs its query, so the count of what was withheld is known. */
export const NOTHING_SCOPE: AccessScope = Object.freeze({
  patientIds: [],
  nonPatientResources: false,
  resourceTypes: [],
  withheldLabels: [],
});

/** Unrestricted: for the system's own work (ingest, migrations), never for a person's request. */
export const SYSTEM_SCOPE: AccessScope = Object.freeze({
  patientIds: 'all',
  nonPatientResources: true,
  resourceTypes: 'all',
  withheldLabels: [],
});

/** Collects positional parameters while SQL text is assembled; values never enter the text. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** SQL predicates for a scope, over a row alias with patient_ids, security and resource_type columns. */
export function scopePredicates(scope: AccessScope, alias: string, params: SqlParams): string[] {
  const predicates: string[] = [];
  if (scope.patientIds !== 'all') {
    const inCompartment = `${alias}.patient_ids && ${params.add(scope.patientIds)}::text[]`;
    predicates.push(scope.nonPatientResources ? `(${inCompartment} OR ${alias}.patient_ids = '{}')` : inCompartment);
  } else if (!scope.nonPatientResources) {
    predicates.push(`${alias}.patient_ids <> '{}'`);
  }
  if (scope.resourceTypes !== 'all') predicates.push(`${alias}.resource_type = ANY(${params.add(scope.resourceTypes)}::text[])`);
  if (scope.withheldLabels.length > 0) predicates.push(`NOT (${alias}.security && ${params.add(scope.withheldLabels)}::text[])`);
  const source = `(${alias}.content->'meta'->>'source')`;
  if (scope.allowedSources) predicates.push(`COALESCE(${source} = ANY(${params.add(scope.allowedSources)}::text[]), false)`);
  if (scope.withheldSources && scope.withheldSources.length > 0) predicates.push(`NOT COALESCE(${source} = ANY(${params.add(scope.withheldSources)}::text[]), false)`);
  for (const [type, ids] of Object.entries(scope.onlyIds ?? {})) {
    predicates.push(`(${alias}.resource_type <> ${params.add(type)} OR ${alias}.id = ANY(${params.add(ids)}::text[]))`);
  }
  if (scope.anyOf) {
    const alternatives = scope.anyOf.map((s) => {
      const p = scopePredicates(s, alias, params);
      return p.length > 0 ? `(${p.join(' AND ')})` : 'TRUE';
    });
    predicates.push(alternatives.length > 0 ? `(${alternatives.join(' OR ')})` : 'FALSE');
  }
  return predicates;
}

/**
 * The rows of the reader's own people that the scope withholds (by type, label, source or id):
 * the predicate a query adds, in place of the scope's, to learn whether anything it would have
 * returned was withheld, so the answer can say so (never what). Undefined when nothing of theirs
 * can be withheld (no restriction, or a scope not limited to people: then other people's rows are
 * not "withheld from this answer" and must not be hinted at).
 */
export function withheldPredicate(scope: AccessScope, alias: string, params: SqlParams): string | undefined {
  if (scope.patientIds === 'all' || scope.patientIds.length === 0) return undefined;
  const rest = scopePredicates({ ...scope, patientIds: 'all', nonPatientResources: true }, alias, params);
  if (rest.length === 0) return undefined;
  return `${alias}.patient_ids && ${params.add(scope.patientIds)}::text[] AND NOT COALESCE((${rest.join(' AND ')}), false)`;
}

/** The columns of a stored row that a scope reads (resource.patient_ids, security, meta.source), read with the row. */
export interface ScopeRow {
  readonly resourceType: string;
  readonly id: string;
  readonly patientIds: readonly string[];
  readonly security: readonly string[];
  /** content->'meta'->>'source'; null when absent. */
  readonly source: string | null;
}

const overlaps = (a: readonly string[], b: readonly string[]): boolean => a.some((x) => b.includes(x));

/**
 * Every field of AccessScope that scopeAdmits applies as scopePredicates does (and so
 * scopeWithholds, which like withheldPredicate reads an AccessScope and nothing else). A field
 * added to AccessScope fails tsc below until it is listed here, and it belongs here only once
 * scopeAdmits applies it; a scope that carries any other key at run time is not applied in memory
 * (scopeInCode), only by the SQL.
 */
const SCOPE_KEYS_IN_CODE = [
  'patientIds',
  'nonPatientResources',
  'resourceTypes',
  'withheldLabels',
  'allowedSources',
  'withheldSources',
  'onlyIds',
  'anyOf',
] as const satisfies readonly (keyof AccessScope)[];
/** The list itself when it names every key of AccessScope; otherwise a type naming the keys it lacks, which it does not satisfy. */
type NamesEveryScopeKey<List extends readonly (keyof AccessScope)[]> = [Exclude<keyof AccessScope, List[number]>] extends [never] ? List : { readonly scopeKeysNotInCode: Exclude<keyof AccessScope, List[number]> };
// Fails to compile, naming the key, when AccessScope has a key SCOPE_KEYS_IN_CODE lacks.
const keysInCode: ReadonlySet<string> = new Set<string>(SCOPE_KEYS_IN_CODE satisfies NamesEveryScopeKey<typeof SCOPE_KEYS_IN_CODE>);

/**
 * Whether scopeAdmits and scopeWithholds apply every part of this scope (and of each of its
 * anyOf): false when it carries a key they do not know (a scope built by code newer than theirs),
 * and then only the SQL may apply it.
 */
export function scopeInCode(scope: AccessScope): boolean {
  return Object.keys(scope).every((key) => keysInCode.has(key)) && (scope.anyOf ?? []).every(scopeInCode);
}

/**
 * scopePredicates over a row already read, for a query whose rows were read before its scope was
 * known (a Patient search reads the people it finds to decide for them). Must say exactly what
 * the SQL says, predicate by predicate in the same order; tests/store/scope-rows.pglite.test.ts
 * holds the two side by side on a table of scopes and rows. The columns are NOT NULL, so no SQL
 * NULL arises but from meta.source, which the SQL wraps in COALESCE(…, false) as done here. Only
 * for a scope that is scopeInCode.
 */
export function scopeAdmits(scope: AccessScope, row: ScopeRow): boolean {
  if (scope.patientIds !== 'all') {
    const inCompartment = overlaps(row.patientIds, scope.patientIds);
    if (!(scope.nonPatientResources ? inCompartment || row.patientIds.length === 0 : inCompartment)) return false;
  } else if (!scope.nonPatientResources && row.patientIds.length === 0) {
    return false;
  }
  if (scope.resourceTypes !== 'all' && !scope.resourceTypes.includes(row.resourceType)) return false;
  if (scope.withheldLabels.length > 0 && overlaps(row.security, scope.withheldLabels)) return false;
  if (scope.allowedSources && !(row.source !== null && scope.allowedSources.includes(row.source))) return false;
  if (scope.withheldSources && scope.withheldSources.length > 0 && row.source !== null && scope.withheldSources.includes(row.source)) return false;
  for (const [type, ids] of Object.entries(scope.onlyIds ?? {})) {
    if (row.resourceType === type && !ids.includes(row.id)) return false;
  }
  if (scope.anyOf && !scope.anyOf.some((s) => scopeAdmits(s, row))) return false;
  return true;
}

/**
 * withheldPredicate over rows already read, worked out once for the scope: whether a row is one
 * of the reader's own people's that the scope withholds; false for every row wherever that
 * predicate is undefined. Only for a scope that is scopeInCode.
 */
export function scopeWithholds(scope: AccessScope): (row: ScopeRow) => boolean {
  const { patientIds } = scope;
  if (patientIds === 'all' || withheldPredicate(scope, 'r', new SqlParams()) === undefined) return () => false;
  const rest: AccessScope = { ...scope, patientIds: 'all', nonPatientResources: true };
  return (row) => overlaps(row.patientIds, patientIds) && !scopeAdmits(rest, row);
}
