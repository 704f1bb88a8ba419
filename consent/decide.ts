import type { Resource } from '@medplum/fhirtypes';
import { BASELINE_CATEGORIES, type CategoryTable } from './categories';
import { BASELINE_ROLES, type RoleTable } from './roles';
import type { AccessDecision, AccessInput, AccessPolicy, ResourceDecision } from './types';

/** The tables and policy a deployment runs with; every field defaults to the baseline. */
export interface AccessRules {
  readonly roles: RoleTable;
  readonly categories: CategoryTable;
  readonly policy: AccessPolicy;
}

export const DEFAULT_POLICY: AccessPolicy = {
  selfClaimHours: 24,
  breakGlassHours: 4,
  permissionToViewSessionHours: 8,
  recentContactDays: 30,
  latestEncounters: 5,
  requirePermissionToView: true,
};

export const BASELINE_RULES: AccessRules = { roles: BASELINE_ROLES, categories: BASELINE_CATEGORIES, policy: DEFAULT_POLICY };

/**
 * The request-level decision: may this requester see this person's record now, which categories,
 * which labels and sources are withheld, what must alert the privacy officer, and why.
 * INTERIM: denies everything until the rules land (deny by default).
 */
export function decideAccess(input: AccessInput, _now: Date, _rules: AccessRules = BASELINE_RULES): AccessDecision {
  return {
    effect: 'deny',
    role: input.requester.role,
    relationship: undefined,
    relationships: [],
    breakGlass: false,
    categories: [],
    resourceTypes: [],
    nonPatientResources: false,
    withheldSensitivities: [],
    withheldLabels: [],
    allowedSources: undefined,
    withheldSources: [],
    latestEncounterIds: undefined,
    permissionToView: 'not-recorded',
    needsPermissionToView: false,
    validUntil: undefined,
    alerts: [],
    reasons: ['access rules not yet in place: denied by default'],
  };
}

/** The per-resource part: the resource as the requester may see it (redacted), or why it is withheld. */
export function decideResource(_decision: AccessDecision, _resource: Resource, _rules: AccessRules = BASELINE_RULES): ResourceDecision {
  return { withheld: 'denied' };
}
