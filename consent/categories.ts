import type { Resource } from '@medplum/fhirtypes';
import baselineCategories from './data/categories.json';
import { DataCategory } from './types';
import { tableReader } from './table-reader';

/**
 * Data categories as FHIR (specs/access-and-consent.md, "Data categories, as FHIR … A deployment
 * can refine this mapping; it is data"). Each resource type has default categories; content rules
 * refine them (a care-package CarePlan is social care record, a Consent of scope adr is a plan, a
 * DNACPR DocumentReference is a plan). A resource type not in the table is in no category, so
 * nothing sees it (deny by default).
 */

export interface ContentRule {
  /** Dotted element path from the resource; arrays are walked; the end is a CodeableConcept, Coding or code. */
  readonly element: string;
  readonly system: string;
  readonly codes: readonly string[];
  readonly categories: readonly DataCategory[];
  /** Where the rule comes from (reviewed like code). */
  readonly source: string;
}

export interface TypeCategories {
  readonly default: readonly DataCategory[];
  readonly rules: readonly ContentRule[];
}

export interface CategoryTable {
  readonly byType: Readonly<Record<string, TypeCategories>>;
}

const CATEGORIES = Object.values(DataCategory);

/** Validates a category table (parsed JSON); throws a TableError naming each problem by path. */
export function loadCategoryTable(json: unknown, fileName = 'categories.json'): CategoryTable {
  const r = tableReader(json, fileName);
  const byType: Record<string, TypeCategories> = {};
  for (const [type, value] of Object.entries(r.object('byType') ?? {})) {
    const path = `byType.${type}`;
    if (!/^[A-Z][A-Za-z]+$/.test(type)) r.problem(path, 'is not a FHIR resource type name');
    r.onlyFields(path, ['default', 'rules']);
    const rules: ContentRule[] = [];
    const rawRules = typeof value === 'object' && value !== null ? (value as { rules?: unknown }).rules : undefined;
    if (rawRules !== undefined && !Array.isArray(rawRules)) r.problem(`${path}.rules`, 'must be a list');
    (Array.isArray(rawRules) ? rawRules : []).forEach((_rule, i) => {
      // Paths with an index: the reader walks objects only, so read each rule through its own reader.
      const rr = tableReader(_rule, fileName);
      const at = `${path}.rules[${i}]`;
      const rule: ContentRule = {
        element: rr.string('element'),
        system: rr.string('system'),
        codes: rr.stringList('codes'),
        categories: rr.listOf('categories', CATEGORIES),
        source: rr.string('source'),
      };
      rr.onlyFields('', ['element', 'system', 'codes', 'categories', 'source']);
      try {
        rr.finish();
        rules.push(rule);
      } catch (e) {
        for (const p of (e as { problems: readonly string[] }).problems) r.problem(at, p.replace('(top level): ', ''));
      }
    });
    byType[type] = { default: r.listOf(`${path}.default`, CATEGORIES), rules };
  }
  r.onlyFields('', ['description', 'byType']);
  r.finish();
  return { byType };
}

export const BASELINE_CATEGORIES: CategoryTable = loadCategoryTable(baselineCategories, 'consent/data/categories.json');

function valuesAt(value: unknown, path: readonly string[]): unknown[] {
  if (Array.isArray(value)) return value.flatMap((v: unknown) => valuesAt(v, path));
  if (path.length === 0) return [value];
  if (typeof value !== 'object' || value === null) return [];
  const [head, ...rest] = path;
  return valuesAt((value as Record<string, unknown>)[head ?? ''], rest);
}

/** Whether a value (CodeableConcept, Coding or a bare code) carries system|code among codes. */
function carriesCode(value: unknown, system: string, codes: readonly string[]): boolean {
  if (typeof value === 'string') return codes.includes(value) && system === '';
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { coding?: unknown; system?: unknown; code?: unknown };
  if (Array.isArray(v.coding)) return v.coding.some((c: unknown) => carriesCode(c, system, codes));
  return v.system === system && typeof v.code === 'string' && codes.includes(v.code);
}

export function ruleMatches(rule: ContentRule, resource: Resource): boolean {
  return valuesAt(resource, rule.element.split('.')).some((v) => carriesCode(v, rule.system, rule.codes));
}

/** The categories a resource belongs to: the union of its type's matching content rules, else the type's default. */
export function categoriesOf(resource: Resource, table: CategoryTable = BASELINE_CATEGORIES): DataCategory[] {
  const entry = table.byType[resource.resourceType];
  if (!entry) return [];
  const matched = entry.rules.filter((rule) => ruleMatches(rule, resource));
  if (matched.length === 0) return [...entry.default];
  return [...new Set(matched.flatMap((rule) => rule.categories))];
}

const typesByTable = new WeakMap<CategoryTable, Map<string, readonly string[]>>();

/**
 * Resource types any of whose resources may fall in these categories: the SQL scope. A type
 * whose content decides (CarePlan, DocumentReference, Consent, Bundle) is included when any of its
 * possible categories is allowed; the per-resource check then withholds the rest.
 */
export function resourceTypesFor(categories: readonly DataCategory[], table: CategoryTable = BASELINE_CATEGORIES): string[] {
  // Asked on every access decision, always with one of the role table's few category lists: worked out once per table and list.
  const key = [...new Set(categories)].sort().join(' ');
  let byCategories = typesByTable.get(table);
  if (!byCategories) {
    byCategories = new Map();
    typesByTable.set(table, byCategories);
  }
  let types = byCategories.get(key);
  if (!types) {
    const allowed = new Set(categories);
    types = Object.entries(table.byType)
      .filter(([, entry]) => [...entry.default, ...entry.rules.flatMap((r) => r.categories)].some((c) => allowed.has(c)))
      .map(([type]) => type)
      .sort();
    byCategories.set(key, types);
  }
  return [...types];
}

/** Types whose category depends on content: a count by SQL alone may include resources the check withholds. */
export function contentDependentTypes(table: CategoryTable = BASELINE_CATEGORIES): string[] {
  return Object.entries(table.byType)
    .filter(([, entry]) => entry.rules.length > 0)
    .map(([type]) => type)
    .sort();
}
