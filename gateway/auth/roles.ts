/**
 * CareBridge's roles (specs/access-and-consent.md, "Roles"): the fixed set of identifiers a
 * verified token resolves to. What each role may see is the role table in consent/ (data); this
 * file names the roles only, so the directory, the token command and the middlewares agree.
 */
export const CareRole = {
  GP: 'gp',
  HOSPITAL_CLINICIAN: 'hospital_clinician',
  COMMUNITY_NURSE: 'community_nurse',
  MENTAL_HEALTH: 'mental_health',
  SOCIAL_WORKER: 'social_worker',
  CARE_COORDINATOR: 'care_coordinator',
  THERAPIST: 'therapist',
  PHARMACIST: 'pharmacist',
  URGENT_CARE: 'urgent_care',
  CARE_HOME_STAFF: 'care_home_staff',
  VOLUNTARY_SECTOR: 'voluntary_sector',
  ADMIN: 'admin',
  PRIVACY_OFFICER: 'privacy_officer',
} as const;
export type CareRole = (typeof CareRole)[keyof typeof CareRole];

export const CARE_ROLES: readonly CareRole[] = Object.values(CareRole);

export function isCareRole(value: unknown): value is CareRole {
  return typeof value === 'string' && (CARE_ROLES as readonly string[]).includes(value);
}
