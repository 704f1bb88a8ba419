import { readFileSync } from 'node:fs';
import { ConfigError } from '../config';
import { ODS_ORGANIZATION_SYSTEM, qualifiedId } from '../../mappings/identifiers';
import { CARE_ROLES, isCareRole, type CareRole } from './roles';

/**
 * The deployment's directory (specs/access-and-consent.md, "Organisation and team identity"):
 * data, not code. It names every organisation and team a token may carry, maps the identity
 * provider's claims (NHS CIS2 role codes, a council's directory groups) to CareBridge roles and
 * teams, and lists the source systems that may write through intake. DIRECTORY_FILE names the JSON
 * file; `demo-directory.json` beside this file is the development one.
 */

export const OrganisationKind = {
  GP_PRACTICE: 'gp-practice',
  ACUTE_TRUST: 'acute-trust',
  COMMUNITY_TRUST: 'community-trust',
  MENTAL_HEALTH_TRUST: 'mental-health-trust',
  AMBULANCE_TRUST: 'ambulance-trust',
  COUNCIL: 'council',
  CARE_HOME: 'care-home',
  VOLUNTARY: 'voluntary',
} as const;
export type OrganisationKind = (typeof OrganisationKind)[keyof typeof OrganisationKind];

/** What a source system may send. `subscription` is POST /fhir/Subscription for its own organisation. */
export const IntakeKind = {
  HL7V2: 'hl7v2',
  SOCIAL_CARE_EXTRACT: 'social-care-extract',
  GP_CONNECT: 'gp-connect',
  FHIR_BUNDLE: 'fhir-bundle',
  SUBSCRIPTION: 'subscription',
} as const;
export type IntakeKind = (typeof IntakeKind)[keyof typeof IntakeKind];

/** Where a role mapping's code is read from: the token's role code, or one of its directory groups. */
export const MappingClaim = { ROLE: 'role', GROUP: 'group' } as const;
export type MappingClaim = (typeof MappingClaim)[keyof typeof MappingClaim];

export interface DirectoryTeam {
  /** Qualified id, `system|value` (e.g. `<council source URI>/team|T-HD`). */
  readonly id: string;
  readonly name: string;
  readonly phone?: string;
}

export interface DirectoryOrganisation {
  /** Qualified id, `system|value` (ODS, ONS council code, CQC location id). */
  readonly id: string;
  readonly name: string;
  readonly kind: OrganisationKind;
  readonly phone?: string;
  readonly address?: string;
  readonly teams: readonly DirectoryTeam[];
}

export interface RoleMapping {
  readonly claim: MappingClaim;
  /** The identity provider's code: a CIS2 role code (`R8000`) or a group name (`ASC-Team-Hospital-Discharge`). */
  readonly code: string;
  /** The CareBridge role it gives; a group may give only teams. */
  readonly role?: CareRole;
  /** Teams (qualified ids) it adds. */
  readonly teams: readonly string[];
  /** Applies only at organisations of these kinds (all when empty). */
  readonly organisationKinds: readonly OrganisationKind[];
  /** Applies only at these organisations (all when empty). */
  readonly organisations: readonly string[];
  /** Where the code comes from, for reviewers (e.g. "NHS national RBAC database"). */
  readonly source?: string;
}

export interface DirectorySystem {
  /** The `system` claim of its tokens. */
  readonly name: string;
  readonly displayName: string;
  /** The source system URI its records live under. */
  readonly sourceUri: string;
  readonly organisation?: string;
  readonly intake: readonly IntakeKind[];
  /** HL7v2 senders (MSH-4|MSH-3, e.g. `RZZ|PAS`) it may send as; required with `hl7v2` intake. */
  readonly hl7Senders: readonly string[];
}

export interface Directory {
  /** A token's `role` claim may name a CareBridge role directly (development tokens, IdPs configured with CareBridge roles). */
  readonly acceptCareBridgeRoles: boolean;
  readonly organisations: readonly DirectoryOrganisation[];
  readonly roleMappings: readonly RoleMapping[];
  readonly systems: readonly DirectorySystem[];
  organisation(id: string): DirectoryOrganisation | undefined;
  team(id: string): { team: DirectoryTeam; organisation: DirectoryOrganisation } | undefined;
  system(name: string): DirectorySystem | undefined;
}

export class DirectoryError extends ConfigError {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`The directory ${file} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'DirectoryError';
  }
}

const QUALIFIED = /^[^|\s]+\|[^|\s]+$/;
const ORGANISATION_KINDS = Object.values(OrganisationKind) as string[];
const INTAKE_KINDS = Object.values(IntakeKind) as string[];
const MAPPING_CLAIMS = Object.values(MappingClaim) as string[];

/** `system|value` as is; a bare code is an ODS code (how NHS tokens carry organisations). */
export function organisationId(value: string): string {
  return value.includes('|') ? value : qualifiedId(ODS_ORGANIZATION_SYSTEM, value);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a parsed directory file; every problem is reported with its path, not just the first. */
export function parseDirectory(json: unknown, file: string): Directory {
  const problems: string[] = [];
  const text = (obj: Json, key: string, path: string, required: boolean): string | undefined => {
    const v = obj[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      problems.push(`${path}.${key}: ${v === undefined ? 'is required' : 'must be a non-empty string'}`);
      return undefined;
    }
    return v;
  };
  const qualified = (v: string | undefined, path: string): string | undefined => {
    if (v !== undefined && !QUALIFIED.test(v)) {
      problems.push(`${path}: '${v}' must be a qualified id 'system|value'`);
      return undefined;
    }
    return v;
  };
  const list = (obj: Json, key: string, path: string): unknown[] => {
    const v = obj[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      problems.push(`${path}.${key}: must be an array`);
      return [];
    }
    return v;
  };
  const strings = (obj: Json, key: string, path: string): string[] =>
    list(obj, key, path).filter((v, i): v is string => {
      if (typeof v === 'string' && v !== '') return true;
      problems.push(`${path}.${key}[${i}]: must be a non-empty string`);
      return false;
    });

  if (!isObject(json)) throw new DirectoryError(file, ['the file must hold a JSON object']);
  const accept = json['acceptCareBridgeRoles'];
  if (accept !== undefined && typeof accept !== 'boolean') problems.push('acceptCareBridgeRoles: must be true or false');

  const organisations: DirectoryOrganisation[] = [];
  list(json, 'organisations', '').forEach((raw, i) => {
    const path = `organisations[${i}]`;
    if (!isObject(raw)) return void problems.push(`${path}: must be an object`);
    const id = qualified(text(raw, 'id', path, true), `${path}.id`);
    const name = text(raw, 'name', path, true);
    const kind = text(raw, 'kind', path, true);
    if (kind !== undefined && !ORGANISATION_KINDS.includes(kind)) problems.push(`${path}.kind: '${kind}' is not one of ${ORGANISATION_KINDS.join(', ')}`);
    const teams: DirectoryTeam[] = [];
    list(raw, 'teams', path).forEach((t, j) => {
      const tpath = `${path}.teams[${j}]`;
      if (!isObject(t)) return void problems.push(`${tpath}: must be an object`);
      const tid = qualified(text(t, 'id', tpath, true), `${tpath}.id`);
      const tname = text(t, 'name', tpath, true);
      const tphone = text(t, 'phone', tpath, false);
      if (tid && tname) teams.push({ id: tid, name: tname, ...(tphone ? { phone: tphone } : {}) });
    });
    const phone = text(raw, 'phone', path, false);
    const address = text(raw, 'address', path, false);
    if (id && name && kind && ORGANISATION_KINDS.includes(kind)) {
      organisations.push({ id, name, kind: kind as OrganisationKind, ...(phone ? { phone } : {}), ...(address ? { address } : {}), teams });
    }
  });
  const orgById = new Map<string, DirectoryOrganisation>();
  const teamById = new Map<string, { team: DirectoryTeam; organisation: DirectoryOrganisation }>();
  for (const org of organisations) {
    if (orgById.has(org.id)) problems.push(`organisations: '${org.id}' is listed twice`);
    orgById.set(org.id, org);
    for (const team of org.teams) {
      if (teamById.has(team.id)) problems.push(`teams: '${team.id}' is listed twice`);
      teamById.set(team.id, { team, organisation: org });
    }
  }

  const roleMappings: RoleMapping[] = [];
  list(json, 'roleMappings', '').forEach((raw, i) => {
    const path = `roleMappings[${i}]`;
    if (!isObject(raw)) return void problems.push(`${path}: must be an object`);
    const claim = text(raw, 'claim', path, true);
    if (claim !== undefined && !MAPPING_CLAIMS.includes(claim)) problems.push(`${path}.claim: '${claim}' is not one of ${MAPPING_CLAIMS.join(', ')}`);
    const code = text(raw, 'code', path, true);
    const role = text(raw, 'role', path, false);
    if (role !== undefined && !isCareRole(role)) problems.push(`${path}.role: '${role}' is not a CareBridge role (${CARE_ROLES.join(', ')})`);
    const teams = strings(raw, 'teams', path);
    teams.forEach((t) => {
      if (!teamById.has(t)) problems.push(`${path}.teams: '${t}' is not a team in the directory`);
    });
    const organisationKinds = strings(raw, 'organisationKinds', path);
    organisationKinds.forEach((k) => {
      if (!ORGANISATION_KINDS.includes(k)) problems.push(`${path}.organisationKinds: '${k}' is not one of ${ORGANISATION_KINDS.join(', ')}`);
    });
    const orgs = strings(raw, 'organisations', path).map(organisationId);
    orgs.forEach((o) => {
      if (!orgById.has(o)) problems.push(`${path}.organisations: '${o}' is not an organisation in the directory`);
    });
    if (role === undefined && teams.length === 0) problems.push(`${path}: gives neither a role nor teams`);
    if (claim === MappingClaim.ROLE && role === undefined) problems.push(`${path}: a role code mapping must give a role`);
    const source = text(raw, 'source', path, false);
    if (claim && MAPPING_CLAIMS.includes(claim) && code) {
      roleMappings.push({
        claim: claim as MappingClaim,
        code,
        ...(role !== undefined && isCareRole(role) ? { role } : {}),
        teams,
        organisationKinds: organisationKinds as OrganisationKind[],
        organisations: orgs,
        ...(source ? { source } : {}),
      });
    }
  });

  const systems: DirectorySystem[] = [];
  list(json, 'systems', '').forEach((raw, i) => {
    const path = `systems[${i}]`;
    if (!isObject(raw)) return void problems.push(`${path}: must be an object`);
    const name = text(raw, 'name', path, true);
    if (name !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(name)) problems.push(`${path}.name: '${name}' may hold only letters, digits, '.', '_' and '-'`);
    const sourceUri = text(raw, 'sourceUri', path, true);
    if (sourceUri !== undefined && !/^(https?|urn):\S+$/.test(sourceUri)) problems.push(`${path}.sourceUri: '${sourceUri}' must be an http(s) URL or a urn`);
    const displayName = text(raw, 'displayName', path, false);
    const organisation = text(raw, 'organisation', path, false);
    const org = organisation === undefined ? undefined : organisationId(organisation);
    if (org !== undefined && !orgById.has(org)) problems.push(`${path}.organisation: '${org}' is not an organisation in the directory`);
    const intake = strings(raw, 'intake', path);
    if (intake.length === 0) problems.push(`${path}.intake: name at least one of ${INTAKE_KINDS.join(', ')}`);
    intake.forEach((k) => {
      if (!INTAKE_KINDS.includes(k)) problems.push(`${path}.intake: '${k}' is not one of ${INTAKE_KINDS.join(', ')}`);
    });
    const hl7Senders = strings(raw, 'hl7Senders', path);
    hl7Senders.forEach((h) => {
      if (!/^[^|]*\|[^|]*$/.test(h)) problems.push(`${path}.hl7Senders: '${h}' must be written 'FACILITY|APPLICATION' (MSH-4|MSH-3)`);
    });
    if (intake.includes(IntakeKind.HL7V2) && hl7Senders.length === 0) problems.push(`${path}.hl7Senders: a system with hl7v2 intake must name the senders (MSH-4|MSH-3) it may send as`);
    if (name && sourceUri) systems.push({ name, displayName: displayName ?? name, sourceUri, ...(org ? { organisation: org } : {}), intake: intake.filter((k) => INTAKE_KINDS.includes(k)) as IntakeKind[], hl7Senders });
  });
  const systemByName = new Map<string, DirectorySystem>();
  const systemBySender = new Map<string, string>();
  for (const s of systems) {
    if (systemByName.has(s.name)) problems.push(`systems: '${s.name}' is listed twice`);
    systemByName.set(s.name, s);
    for (const sender of s.hl7Senders) {
      const other = systemBySender.get(sender);
      // One sender's records live under one source: its system's.
      if (other !== undefined && other !== s.name) problems.push(`systems: HL7 sender '${sender}' is declared by both '${other}' and '${s.name}'`);
      systemBySender.set(sender, s.name);
    }
  }
  for (const key of Object.keys(json)) {
    if (!['$comment', 'acceptCareBridgeRoles', 'organisations', 'roleMappings', 'systems'].includes(key)) problems.push(`${key}: unknown field`);
  }
  if (problems.length > 0) throw new DirectoryError(file, problems);
  return {
    acceptCareBridgeRoles: accept === true,
    organisations,
    roleMappings,
    systems,
    organisation: (id) => orgById.get(id),
    team: (id) => teamById.get(id),
    system: (name) => systemByName.get(name),
  };
}

export function loadDirectory(file: string): Directory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DirectoryError(file, [`cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DirectoryError(file, [`is not JSON: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return parseDirectory(json, file);
}
