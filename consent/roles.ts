import { Confidentiality, Sensitivity } from '../mappings/security/labels';
import baselineRoles from './data/roles.json';
import { DataCategory, RecipientClass, RelationshipKind } from './types';
import { TableError, type TableReader, tableReader } from './table-reader';

/**
 * The role table as data (specs/access-and-consent.md, "Roles (baseline; a deployment changes this
 * table, not code)"). `consent/data/roles.json` is the baseline; a deployment passes its own
 * table through loadRoleTable, which names every problem it finds.
 */

/** Minimum necessary: for a resource type, keep only these elements (plus resourceType, id, meta), or withhold it. */
export type RedactionRule = { readonly keep: readonly string[] } | 'withhold';

export interface RoleDefinition {
  readonly who: string;
  readonly categories: readonly DataCategory[];
  /** Per-category limits: `encounters: 'latest'` = the last N and any open one. */
  readonly limits: { readonly encounters?: 'latest' };
  /** The highest confidentiality (N, R, V) the role may see. */
  readonly maxConfidentiality: Confidentiality;
  /** Sensitivities the role is granted; resources with any other sensitivity are withheld. */
  readonly sensitivities: readonly Sensitivity[];
  /** Whether a legitimate relationship is needed at all (not for the privacy officer's governance view). */
  readonly relationship: 'required' | 'not-required';
  /** When set, only these relationship kinds count (care home staff: residence; care co-ordinator: caseload). */
  readonly relationshipKinds: readonly RelationshipKind[] | undefined;
  readonly selfClaim: boolean;
  readonly breakGlass: boolean;
  /** Whether the role records permission to view on first opening a record in a session. */
  readonly permissionToView: boolean;
  readonly recipientClass: RecipientClass;
  /** Whether the role may record the person's objection or consent (GP, social worker, privacy officer). */
  readonly recordsConsent: boolean;
  /** Minimum necessary, by resource type. */
  readonly redact: Readonly<Record<string, RedactionRule>>;
}

export interface RoleTable {
  readonly roles: Readonly<Record<string, RoleDefinition>>;
  /** Recipient classes that see nothing unless the person consented (voluntary sector, carers). */
  readonly consentRequiredFor: readonly RecipientClass[];
}

const CATEGORIES = Object.values(DataCategory);
const SENSITIVITIES = Object.values(Sensitivity);
const CONFIDENTIALITIES = Object.values(Confidentiality);
const RECIPIENT_CLASSES = Object.values(RecipientClass);
/** Granted relationships are not "kinds found in the record", so a role cannot be limited to them. */
const RECORD_KINDS = Object.values(RelationshipKind).filter((k) => k !== 'self-claimed' && k !== 'break-glass');

function readRedaction(r: TableReader, path: string): Record<string, RedactionRule> {
  const rules: Record<string, RedactionRule> = {};
  const value = r.optionalObject(path);
  if (!value) return rules;
  for (const [type, rule] of Object.entries(value)) {
    const at = `${path}.${type}`;
    if (!/^[A-Z][A-Za-z]+$/.test(type)) r.problem(at, 'is not a FHIR resource type name');
    if (rule === 'withhold') rules[type] = 'withhold';
    else if (typeof rule === 'object' && rule !== null && !Array.isArray(rule)) rules[type] = { keep: r.stringList(`${at}.keep`) };
    else r.problem(at, 'must be "withhold" or { "keep": [element names] }');
  }
  return rules;
}

function readRole(r: TableReader, path: string): RoleDefinition {
  const limits = r.optionalObject(`${path}.limits`);
  const encounters = limits ? r.optionalOneOf(`${path}.limits.encounters`, ['latest'] as const) : undefined;
  return {
    who: r.string(`${path}.who`),
    categories: r.listOf(`${path}.categories`, CATEGORIES),
    limits: encounters ? { encounters } : {},
    maxConfidentiality: r.oneOf(`${path}.maxConfidentiality`, CONFIDENTIALITIES),
    sensitivities: r.listOf(`${path}.sensitivities`, SENSITIVITIES),
    relationship: r.oneOf(`${path}.relationship`, ['required', 'not-required'] as const),
    relationshipKinds: r.has(`${path}.relationshipKinds`) ? r.listOf(`${path}.relationshipKinds`, RECORD_KINDS) : undefined,
    selfClaim: r.boolean(`${path}.selfClaim`),
    breakGlass: r.boolean(`${path}.breakGlass`),
    permissionToView: r.boolean(`${path}.permissionToView`),
    recipientClass: r.oneOf(`${path}.recipientClass`, RECIPIENT_CLASSES),
    recordsConsent: r.optionalBoolean(`${path}.recordsConsent`) ?? false,
    redact: readRedaction(r, `${path}.redact`),
  };
}

/**
 * Validates a role table (parsed JSON). Throws a TableError listing every problem as
 * `path: reason` (e.g. `roles.gp.sensitivities[2]: "hiv2" is not one of …`), so a deployment
 * fixes its file in one pass. Unknown fields are reported too: a misspelt field is a rule lost.
 */
export function loadRoleTable(json: unknown, fileName = 'roles.json'): RoleTable {
  const r = tableReader(json, fileName);
  const roles: Record<string, RoleDefinition> = {};
  const rolesObject = r.object('roles');
  for (const name of Object.keys(rolesObject ?? {})) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) r.problem(`roles.${name}`, 'role names are lower_snake_case');
    roles[name] = readRole(r, `roles.${name}`);
    r.onlyFields(`roles.${name}`, ['who', 'categories', 'limits', 'maxConfidentiality', 'sensitivities', 'relationship', 'relationshipKinds', 'selfClaim', 'breakGlass', 'permissionToView', 'recipientClass', 'recordsConsent', 'redact']);
  }
  if (rolesObject && Object.keys(rolesObject).length === 0) r.problem('roles', 'names no role');
  const consentRequiredFor = r.listOf('consentRequiredFor', RECIPIENT_CLASSES);
  r.onlyFields('', ['description', 'roles', 'consentRequiredFor']);
  r.finish();
  return { roles, consentRequiredFor };
}

export { TableError };

/** The baseline table shipped in consent/data/roles.json. */
export const BASELINE_ROLES: RoleTable = loadRoleTable(baselineRoles, 'consent/data/roles.json');
