/** Authentication and the directory: what the rest of the gateway imports. */
export { loadAuthConfig, type AuthConfig } from './auth-config';
export { Authenticator, configuredDirectory, demoDirectory, type AuthOutcome } from './authenticator';
export { Claim, DEV_ISSUER, DEFAULT_AUDIENCE } from './claims';
export { IntakeKind, OrganisationKind, loadDirectory, parseDirectory, organisationId, DirectoryError, type Directory, type DirectoryOrganisation, type DirectorySystem, type DirectoryTeam, type RoleMapping } from './directory';
export { identityFromClaims, type Identity, type IdentityOutcome, type PersonRequester, type SystemRequester } from './identity';
export { authenticate, authenticateRequest, clientInfoOf, identityOf, requesterOf, requirePerson, requireRole, requireSystem, type RefusalAudit, type TokenRefusal } from './middleware';
export { CareRole, CARE_ROLES, isCareRole } from './roles';
export { ASYMMETRIC_ALGORITHMS, TokenRejection, TokenVerifier } from './token-verifier';
