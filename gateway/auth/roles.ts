import { Role } from '../../consent/types';

/**
 * CareBridge's roles (specs/access-and-consent.md, "Roles"): the fixed set of identifiers a
 * verified token resolves to. What each role may see is the role table in consent/ (data); this
 * file names the roles only, so the directory, the token command and the middlewares agree.
 */
/** The same values as consent/'s Role: one list of roles, named here for the directory and middlewares. */
export const CareRole = Role;
export type CareRole = (typeof CareRole)[keyof typeof CareRole];

export const CARE_ROLES: readonly CareRole[] = Object.values(CareRole);

export function isCareRole(value: unknown): value is CareRole {
  return typeof value === 'string' && (CARE_ROLES as readonly string[]).includes(value);
}
