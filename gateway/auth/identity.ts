import { PurposeOfUse, type Requester } from '../access/hooks';
import { Claim } from './claims';
import { MappingClaim, organisationId, type Directory, type DirectoryOrganisation, type DirectorySystem } from './directory';
import { isCareRole, type CareRole } from './roles';

/**
 * From a verified token's claims to who is asking: a person (role, organisation, teams, purpose)
 * or a source system. Every claim goes through the directory; anything it cannot place is refused
 * with a reason the caller may see (403), never guessed.
 */

/** A person's Requester always has a role and an organisation. */
export interface PersonRequester extends Requester {
  readonly role: CareRole;
  readonly organisation: string;
  readonly teams: readonly string[];
  readonly system?: undefined;
}

/** A source system's Requester: `system` is its directory name; it acts for its organisation. */
export interface SystemRequester extends Requester {
  readonly system: string;
  readonly role?: undefined;
}

export type Identity =
  | { readonly kind: 'person'; readonly requester: PersonRequester; readonly organisation: DirectoryOrganisation }
  | { readonly kind: 'system'; readonly requester: SystemRequester; readonly system: DirectorySystem };

export type IdentityOutcome = { readonly ok: true; readonly identity: Identity } | { readonly ok: false; readonly reason: string };

type Claims = Readonly<Record<string, unknown>>;

const refuse = (reason: string): IdentityOutcome => ({ ok: false, reason });

/** Purposes a token may carry. BTG is granted only by the break-glass operation, never by a token. */
const TOKEN_PURPOSES: readonly PurposeOfUse[] = [PurposeOfUse.TREAT, PurposeOfUse.HOPERAT, PurposeOfUse.PATADMIN];

function optionalString(claims: Claims, name: string): string | undefined | Error {
  const v = claims[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') return new Error(`the '${name}' claim must be a non-empty string`);
  return v.trim();
}

function stringList(claims: Claims, name: string): string[] | Error {
  const v = claims[name];
  if (v === undefined || v === null) return [];
  const items = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(items) || !items.every((i): i is string => typeof i === 'string' && i.trim() !== '')) return new Error(`the '${name}' claim must be a string or a list of strings`);
  return items.map((i) => i.trim());
}

/** `S8000:G8000:R8000` (CIS2's role_code) → `R8000`; any other code as given. */
export function jobRoleCode(code: string): string {
  return /(?:^|:)(R\d{4,5})$/.exec(code)?.[1] ?? code;
}

/** The role code and organisation of an NHS CIS2 ID token's selected role, when it has one. */
function cis2SelectedRole(claims: Claims): { roleCode?: string; org?: string } | Error {
  const selected = claims[Claim.CIS2_SELECTED_ROLE];
  const roles = claims[Claim.CIS2_ROLES];
  if (selected === undefined || roles === undefined) return {};
  if (!Array.isArray(roles)) return new Error(`the '${Claim.CIS2_ROLES}' claim must be a list`);
  const entry = roles.find((r): r is Record<string, unknown> => typeof r === 'object' && r !== null && (r as Record<string, unknown>)['person_roleid'] === selected);
  if (!entry) return new Error(`the selected role is not among the token's '${Claim.CIS2_ROLES}'`);
  const roleCode = entry['role_code'];
  const org = entry['org_code'];
  if (typeof roleCode !== 'string' || typeof org !== 'string') return new Error(`the selected role has no role_code or org_code`);
  return { roleCode: jobRoleCode(roleCode), org };
}

export function identityFromClaims(claims: Claims, directory: Directory): IdentityOutcome {
  const sub = optionalString(claims, Claim.SUBJECT);
  if (sub instanceof Error) return refuse(sub.message);
  if (sub === undefined) return refuse(`the token has no '${Claim.SUBJECT}' claim`);
  const systemName = optionalString(claims, Claim.SYSTEM);
  if (systemName instanceof Error) return refuse(systemName.message);
  if (systemName !== undefined) return systemIdentity(claims, sub, systemName, directory);
  return personIdentity(claims, sub, directory);
}

function systemIdentity(claims: Claims, sub: string, name: string, directory: Directory): IdentityOutcome {
  for (const personal of [Claim.ROLE, Claim.GROUPS, Claim.TEAMS, Claim.WORKER, Claim.CIS2_SELECTED_ROLE]) {
    if (claims[personal] !== undefined) return refuse(`a system token may not carry the person claim '${personal}'`);
  }
  const system = directory.system(name);
  if (!system) return refuse(`system '${name}' is not in the directory`);
  return {
    ok: true,
    identity: {
      kind: 'system',
      system,
      // Systems write through intake for their own organisation: healthcare operations, not treatment.
      requester: { userId: sub, displayName: system.displayName, system: system.name, ...(system.organisation ? { organisation: system.organisation } : {}), purposeOfUse: PurposeOfUse.HOPERAT },
    },
  };
}

function personIdentity(claims: Claims, sub: string, directory: Directory): IdentityOutcome {
  const name = optionalString(claims, Claim.NAME);
  const roleClaim = optionalString(claims, Claim.ROLE);
  const orgClaim = optionalString(claims, Claim.ORGANISATION);
  const worker = optionalString(claims, Claim.WORKER);
  const purposeClaim = optionalString(claims, Claim.PURPOSE);
  const teamClaims = stringList(claims, Claim.TEAMS);
  const groups = stringList(claims, Claim.GROUPS);
  const cis2 = cis2SelectedRole(claims);
  for (const v of [name, roleClaim, orgClaim, worker, purposeClaim, teamClaims, groups, cis2]) if (v instanceof Error) return refuse(v.message);
  const c = cis2 as { roleCode?: string; org?: string };
  const roleCode = roleClaim === undefined ? c.roleCode : jobRoleCode(roleClaim as string);
  const orgText = (orgClaim as string | undefined) ?? c.org;

  if (orgText === undefined) return refuse(`the token names no organisation ('${Claim.ORGANISATION}' claim)`);
  const organisation = directory.organisation(organisationId(orgText));
  if (!organisation) return refuse(`organisation '${organisationId(orgText)}' is not in the directory`);

  // Role: the directory's mappings of the role code and groups at this organisation; else a CareBridge role named directly.
  const groupList = groups as string[];
  const matched = directory.roleMappings.filter(
    (m) =>
      (m.claim === MappingClaim.ROLE ? m.code === roleCode : groupList.includes(m.code)) &&
      (m.organisationKinds.length === 0 || m.organisationKinds.includes(organisation.kind)) &&
      (m.organisations.length === 0 || m.organisations.includes(organisation.id)),
  );
  const mappedRoles = [...new Set(matched.flatMap((m) => (m.role ? [m.role] : [])))];
  let role: CareRole;
  if (mappedRoles.length > 1) return refuse(`the token's role and groups map to more than one role (${mappedRoles.sort().join(', ')}); the directory must make them unambiguous`);
  if (mappedRoles.length === 1) role = mappedRoles[0] as CareRole;
  else if (roleCode !== undefined && directory.acceptCareBridgeRoles && isCareRole(roleCode)) role = roleCode;
  else if (roleCode === undefined && groupList.length === 0) return refuse(`the token names no role ('${Claim.ROLE}' or '${Claim.GROUPS}' claim)`);
  else return refuse(`role '${roleCode ?? groupList.join(', ')}' has no CareBridge role in the directory for organisations of kind '${organisation.kind}'`);

  // Teams: qualified ids in the directory, or a bare value naming one of the organisation's teams; plus teams the groups give.
  const teams = new Set<string>();
  for (const t of teamClaims as string[]) {
    const id = t.includes('|') ? t : organisation.teams.find((ot) => ot.id.endsWith(`|${t}`))?.id;
    if (id === undefined || !directory.team(id)) return refuse(`team '${t}' is not in the directory`);
    teams.add(id);
  }
  for (const m of matched) for (const t of m.teams) teams.add(t);

  if (worker !== undefined && !/^[^|\s]+\|[^|\s]+$/.test(worker as string)) return refuse(`the '${Claim.WORKER}' claim must be a qualified id 'system|value'`);

  let purposeOfUse: PurposeOfUse = PurposeOfUse.TREAT;
  if (purposeClaim !== undefined) {
    if (purposeClaim === PurposeOfUse.BTG) return refuse('break-glass is not granted by a token: use the break-glass operation, which records a reason');
    const p = TOKEN_PURPOSES.find((x) => x === purposeClaim);
    if (p === undefined) return refuse(`purpose of use '${purposeClaim as string}' is not one of ${TOKEN_PURPOSES.join(', ')}`);
    purposeOfUse = p;
  }

  return {
    ok: true,
    identity: {
      kind: 'person',
      organisation,
      requester: {
        userId: sub,
        ...(name !== undefined ? { displayName: name as string } : {}),
        role,
        organisation: organisation.id,
        teams: [...teams].sort(),
        ...(worker !== undefined ? { workerId: worker as string } : {}),
        purposeOfUse,
      },
    },
  };
}
