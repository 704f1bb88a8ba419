import { CareRole } from '../auth';

/**
 * The header's navigation for each role: the pages that role has. The privacy officer's pages
 * replace "Find a person" (they see the trail, not records).
 */
export interface NavigationItem {
  readonly href: string;
  readonly text: string;
}

/**
 * Roles the record names as responsible for people (registered practice, care team or allocation,
 * care home, co-ordinator's team), so they have a worklist of admissions and discharges.
 */
const WORKLIST_ROLES: ReadonlySet<string> = new Set<string>([
  CareRole.GP,
  CareRole.COMMUNITY_NURSE,
  CareRole.MENTAL_HEALTH,
  CareRole.SOCIAL_WORKER,
  CareRole.CARE_COORDINATOR,
  CareRole.THERAPIST,
  CareRole.CARE_HOME_STAFF,
]);

export function hasWorklist(role: string | undefined): boolean {
  return role !== undefined && WORKLIST_ROLES.has(role);
}

export function navigationFor(role: string | undefined): readonly NavigationItem[] {
  if (role === CareRole.PRIVACY_OFFICER) {
    return [
      { href: '/privacy/alerts', text: 'Alerts' },
      { href: '/privacy/audit', text: 'Audit trail' },
    ];
  }
  return [{ href: '/', text: 'Find a person' }, ...(hasWorklist(role) ? [{ href: '/worklist', text: 'Worklist' }] : [])];
}
