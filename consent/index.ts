/** The access decisions (specs/access-and-consent.md): pure values in, values out. */
export * from './types';
export { BASELINE_RULES, DEFAULT_POLICY, decideAccess, decideResource, type AccessRules } from './decide';
export { BASELINE_ROLES, loadRoleTable, TableError, type RedactionRule, type RoleDefinition, type RoleTable } from './roles';
export { BASELINE_CATEGORIES, categoriesOf, contentDependentTypes, loadCategoryTable, resourceTypesFor, type CategoryTable, type ContentRule } from './categories';
export { activeGrants, findRelationships, grantExpiry, periodIsCurrent, recordRelationships, referenceKey } from './relationship';
export * from './consent-shape';
export { objectionConsent, sharingConsent, unplacedRecipientConsent, type SharingFields } from './consent-builders';
export { describeDecisionMaker, readPersonDecisions, ruleAppliesTo, type PersonDecisions, type SharingRule } from './consents';
export { isVeryRestricted, withheldLabelKeys, withheldSensitivities, type LabelGrant } from './labels';
export { isRedacted, redact, REDACTED_CODING } from './redact';
export { latestEncounterIds } from './latest-encounters';
export { roleCapabilities, scopeOf, type DecisionScope, type RoleCapabilities } from './scope';
