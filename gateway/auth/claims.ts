/**
 * The claims CareBridge reads from a verified token (README, "Authentication"). Person tokens:
 * `sub`, `name`, `role` (a CareBridge role, or an identity provider's role code such as the NHS
 * CIS2 national RBAC code `R8000`, mapped by the directory), `org`, `teams`, `groups` (a council's
 * directory groups), `worker`, `purpose`; an NHS CIS2 ID token's `nhsid_nrbac_roles` with
 * `selected_roleid` is read too. System tokens: `sub` and `system` (a system named in the directory).
 */
export const Claim = {
  SUBJECT: 'sub',
  NAME: 'name',
  ROLE: 'role',
  ORGANISATION: 'org',
  TEAMS: 'teams',
  GROUPS: 'groups',
  WORKER: 'worker',
  PURPOSE: 'purpose',
  SYSTEM: 'system',
  /** NHS CIS2: the user's national RBAC role assignments, each { person_roleid, org_code, role_code, … }. */
  CIS2_ROLES: 'nhsid_nrbac_roles',
  /** NHS CIS2: the person_roleid the user selected for this session. */
  CIS2_SELECTED_ROLE: 'selected_roleid',
} as const;
export type Claim = (typeof Claim)[keyof typeof Claim];

/** Issuer of development tokens (`carebridge token`); trusted only while development auth is on. */
export const DEV_ISSUER = 'urn:carebridge:dev-auth';
/** Audience when AUTH_AUDIENCE is unset (development only). */
export const DEFAULT_AUDIENCE = 'carebridge';
