import type { Resource } from '@medplum/fhirtypes';
import type { Sensitivity } from '../mappings/security/labels';

/**
 * The public vocabulary of the access decisions (specs/access-and-consent.md). Everything here is
 * a value: the gateway builds the inputs from a verified token and the store, and applies the
 * outputs (SQL scope, per-resource check, audit, alerts).
 */

/** Baseline roles of the model. A deployment's role table may add others (any string key). */
export const Role = {
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
export type Role = (typeof Role)[keyof typeof Role];

/** Data categories of the model, plus three CareBridge needs to make the rules complete (see README). */
export const DataCategory = {
  DEMOGRAPHICS: 'demographics',
  CARE_TEAM: 'care_team',
  ALERTS: 'alerts',
  PROBLEMS: 'problems',
  ALLERGIES: 'allergies',
  MEDICATIONS: 'medications',
  ENCOUNTERS: 'encounters',
  PLANS: 'plans',
  SOCIAL_CARE: 'social_care',
  DOCUMENTS: 'documents',
  OBSERVATIONS: 'observations',
  EQUIPMENT: 'equipment',
  PASSPORT: 'passport',
  /** The voluntary sector's "non-clinical needs": social care support plans and their goals. */
  NEEDS: 'needs',
  /** The person's own decisions about sharing (Consent of scope patient-privacy). */
  PRIVACY: 'privacy',
  /** Organisations, practitioners and locations: in no patient's compartment. */
  DIRECTORY: 'directory',
} as const;
export type DataCategory = (typeof DataCategory)[keyof typeof DataCategory];

/** Same values as gateway/access/hooks.ts PurposeOfUse (consent/ may not import gateway/). */
export const PurposeOfUse = { TREAT: 'TREAT', BTG: 'BTG', HOPERAT: 'HOPERAT', PATADMIN: 'PATADMIN' } as const;
export type PurposeOfUse = (typeof PurposeOfUse)[keyof typeof PurposeOfUse];

/** Who receives data, for the person's consent by recipient ("social care data not to health"). */
export const RecipientClass = {
  HEALTH: 'health',
  SOCIAL_CARE: 'social-care',
  CARE_PROVIDER: 'care-provider',
  VOLUNTARY_SECTOR: 'voluntary-sector',
  CARER: 'carer',
  ADMINISTRATION: 'administration',
  GOVERNANCE: 'governance',
} as const;
export type RecipientClass = (typeof RecipientClass)[keyof typeof RecipientClass];

export const RelationshipKind = {
  REGISTERED_GP: 'registered-gp',
  CARE_TEAM: 'care-team',
  ENCOUNTER: 'encounter',
  EPISODE_OF_CARE: 'episode-of-care',
  CARE_HOME_RESIDENCE: 'care-home-residence',
  OPEN_REFERRAL: 'open-referral',
  SELF_CLAIMED: 'self-claimed',
  BREAK_GLASS: 'break-glass',
} as const;
export type RelationshipKind = (typeof RelationshipKind)[keyof typeof RelationshipKind];

export const GrantKind = { SELF_CLAIMED: 'self-claimed', BREAK_GLASS: 'break-glass' } as const;
export type GrantKind = (typeof GrantKind)[keyof typeof GrantKind];

export const PermissionToViewOutcome = { GIVEN: 'given', COULD_NOT_ASK: 'could-not-ask', REFUSED: 'refused' } as const;
export type PermissionToViewOutcome = (typeof PermissionToViewOutcome)[keyof typeof PermissionToViewOutcome];

/** Who is asking: structurally the gateway's Requester (organisation, teams, workerId as `system|value`). */
export interface AccessRequester {
  readonly userId: string;
  readonly role?: string;
  readonly organisation?: string;
  readonly teams?: readonly string[];
  readonly workerId?: string;
  /** Set for source systems: they never read the record through people's access rules. */
  readonly system?: string;
  readonly purposeOfUse: PurposeOfUse;
}

/** A self-claimed relationship or a break-glass, as recorded (audited) by the gateway for one user and person. */
export interface AccessGrant {
  readonly kind: GrantKind;
  readonly userId: string;
  /** The reason from the list (self-claim) or the emergency stated (break-glass). Required: an empty reason grants nothing. */
  readonly reason: string;
  readonly grantedAt: string;
  /** When the grant ends; never later than the policy's duration after grantedAt (see grantExpiry). */
  readonly expiresAt: string;
}

/** "Permission to view", recorded by this user for this person. */
export interface PermissionToViewRecord {
  readonly userId: string;
  readonly outcome: PermissionToViewOutcome;
  /** Why the person could not be asked (required for could-not-ask). */
  readonly reason?: string;
  readonly recordedAt: string;
}

/** Durations and switches of the model; defaults in DEFAULT_POLICY. */
export interface AccessPolicy {
  /** Self-claimed relationship: 24 hours. */
  readonly selfClaimHours: number;
  /** Break-glass: 4 hours. */
  readonly breakGlassHours: number;
  /** A permission-to-view "session": the user's access to the person within 8 hours. */
  readonly permissionToViewSessionHours: number;
  /** A closed encounter or episode still gives a relationship for 30 days. */
  readonly recentContactDays: number;
  /** "Latest encounters": the last 5 and any open one. */
  readonly latestEncounters: number;
  /** Whether a role that asks permission to view is denied until it is recorded in the session. */
  readonly requirePermissionToView: boolean;
}

export interface AccessInput {
  readonly requester: AccessRequester;
  /**
   * The person's resources the rules read, from every source record: Patient (each source's),
   * CareTeam, EpisodeOfCare, Encounter (all of them: "latest" is computed from these),
   * ServiceRequest and Consent. Other types are ignored.
   */
  readonly record: readonly Resource[];
  /** This user's grants for this person (expired ones are ignored, so passing history is fine). */
  readonly grants?: readonly AccessGrant[];
  /** This user's permission-to-view records for this person (the latest within the session counts). */
  readonly permissionToView?: readonly PermissionToViewRecord[];
  /** meta.source (a source system URI) → the organisation holding that data, `system|value`. */
  readonly sourceOrganisations?: Readonly<Record<string, string>>;
  /**
   * Relationships the caller established from this same record by rules of its own: the
   * notification recipients of mappings/notify/recipients.ts, which also follow references that
   * carry no identifier. Counted like those found here (the role's `relationshipKinds` still
   * apply); self-claimed and break-glass kinds are ignored: those come only from grants.
   */
  readonly establishedRelationships?: readonly RelationshipFinding[];
}

export const AlertKind = {
  SELF_CLAIM: 'self-claim',
  BREAK_GLASS: 'break-glass',
  REFUSAL_OVERRIDE: 'refusal-override',
  VERY_RESTRICTED: 'very-restricted',
} as const;
export type AlertKind = (typeof AlertKind)[keyof typeof AlertKind];

/** Something the privacy officer must review. `reason` is human-readable and carries no patient data. */
export interface AccessAlert {
  readonly kind: AlertKind;
  readonly reason: string;
}

export interface RelationshipFinding {
  readonly kind: RelationshipKind;
  /** e.g. "requester's organisation is the registered GP practice"; no patient data. */
  readonly reason: string;
  /** For granted relationships: when they end. */
  readonly expiresAt?: string;
}

export type PermissionToViewState = PermissionToViewOutcome | 'not-recorded' | 'not-required';

export interface AccessDecision {
  readonly effect: 'permit' | 'deny';
  readonly role: string | undefined;
  /** The relationship the permit rests on (the strongest found), if any. */
  readonly relationship: RelationshipFinding | undefined;
  /** Every relationship found (for the audit record). */
  readonly relationships: readonly RelationshipFinding[];
  readonly breakGlass: boolean;
  /** Data categories the requester may see (empty when denied). */
  readonly categories: readonly DataCategory[];
  /** Resource types of those categories (SQL scope); content rules refine per resource. */
  readonly resourceTypes: readonly string[];
  /** Whether resources in no patient's compartment (Organization, Practitioner, Location) may be seen. */
  readonly nonPatientResources: boolean;
  /** Sensitivities the role is not granted: resources carrying them are withheld. */
  readonly withheldSensitivities: readonly Sensitivity[];
  /** meta.security labels as `system|code` whose resources are withheld (SQL: AccessScope.withheldLabels). */
  readonly withheldLabels: readonly string[];
  /** When set, only data from these sources (meta.source) may be seen (objection: the holding organisation's own data). */
  readonly allowedSources: readonly string[] | undefined;
  /** Data from these sources (meta.source) is withheld (consent by purpose and recipient). */
  readonly withheldSources: readonly string[];
  /** When encounters are limited to the latest (urgent care): the ids of the latest ones. */
  readonly latestEncounterIds: readonly string[] | undefined;
  readonly permissionToView: PermissionToViewState;
  /** Set when the decision is deny because permission to view must be recorded first (the viewer asks). */
  readonly needsPermissionToView: boolean;
  /** When the decision stops holding (a grant or a permission-to-view session ending), if it does. */
  readonly validUntil: string | undefined;
  readonly alerts: readonly AccessAlert[];
  /** Human-readable, in order; no patient data. */
  readonly reasons: readonly string[];
}

export const WithheldReason = {
  DENIED: 'denied',
  CATEGORY: 'category',
  LABEL: 'label',
  SOURCE: 'source',
  NOT_LATEST_ENCOUNTER: 'not-latest-encounter',
  ROLE_REDACTION: 'role-redaction',
} as const;
export type WithheldReason = (typeof WithheldReason)[keyof typeof WithheldReason];

export type ResourceDecision =
  | { readonly resource: Resource; readonly redacted: boolean; readonly alerts: readonly AccessAlert[] }
  | { readonly withheld: WithheldReason };
