import type { AccessDecision } from './types';
import { BASELINE_ROLES, type RoleTable } from './roles';

/**
 * The SQL part of a decision, in the shape of gateway/store/access-scope.ts AccessScope (consent/
 * may not import gateway/, so this is structural): a deny sees no patient and nothing else.
 */
export interface DecisionScope {
  readonly patientIds: readonly string[];
  readonly nonPatientResources: boolean;
  readonly resourceTypes: readonly string[];
  readonly withheldLabels: readonly string[];
}

export function scopeOf(decision: AccessDecision, personPatientIds: readonly string[]): DecisionScope {
  if (decision.effect !== 'permit') return { patientIds: [], nonPatientResources: false, resourceTypes: [], withheldLabels: [] };
  return { patientIds: [...personPatientIds], nonPatientResources: decision.nonPatientResources, resourceTypes: decision.resourceTypes, withheldLabels: decision.withheldLabels };
}

/** What a role may do through the named write operations (self-claim, break-glass, recording decisions). */
export interface RoleCapabilities {
  readonly selfClaim: boolean;
  readonly breakGlass: boolean;
  /** Record an objection or consent (GP, social worker, privacy officer in the baseline). */
  readonly recordsConsent: boolean;
  /** Records permission to view on first opening a record in a session. */
  readonly permissionToView: boolean;
}

/** The role's capabilities, or undefined for a role not in the table (which may do nothing). */
export function roleCapabilities(role: string | undefined, table: RoleTable = BASELINE_ROLES): RoleCapabilities | undefined {
  const def = role === undefined ? undefined : table.roles[role];
  return def ? { selfClaim: def.selfClaim, breakGlass: def.breakGlass, recordsConsent: def.recordsConsent, permissionToView: def.permissionToView } : undefined;
}
