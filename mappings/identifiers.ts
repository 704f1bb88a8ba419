/**
 * Identifier systems for organisations, teams and workers (specs/access-and-consent.md,
 * "Organisation and team identity"). Access decisions match a token's organisation, teams and
 * worker id against these identifiers on the record, so every mapping uses them and nothing else.
 */

export { NHS_NUMBER_SYSTEM } from './identity/nhs-number';

/** NHS bodies and GP practices. */
export const ODS_ORGANIZATION_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
/** Councils: the ONS code from a social care extract's manifest (`organisation.code`, e.g. E09000004). */
export const ONS_LOCAL_AUTHORITY_SYSTEM = 'https://carebridge.nhs.uk/Id/ons-local-authority-code';
/** Care homes and other regulated services: the CQC location id. */
export const CQC_LOCATION_SYSTEM = 'https://carebridge.nhs.uk/Id/cqc-location-id';

/** A source system's teams and workers live under its own URI (e.g. the extract's `TEAM_ID`, `WORKER_ID`). */
export const sourceTeamSystem = (sourceSystemUri: string): string => `${sourceSystemUri}/team`;
export const sourceWorkerSystem = (sourceSystemUri: string): string => `${sourceSystemUri}/worker`;

/**
 * An identifier as one string, `system|value`: how tokens, the directory and access decisions carry
 * an organisation, team or worker, so two councils' team "T1" are never confused.
 */
export function qualifiedId(system: string, value: string): string {
  return `${system}|${value}`;
}

/**
 * Where a person lives when it is a care home: an extension on Patient whose valueReference names
 * the home (an Organization) and carries its CQC location id as `identifier`. The access model's
 * "care home staff of the home the person lives in" reads this.
 */
export const CARE_HOME_RESIDENCE_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/care-home-residence';

/*
 * Reference contract for access decisions: every reference to an Organization, a team or a
 * Practitioner that the legitimate-relationship rules read (Patient.generalPractitioner,
 * CareTeam.participant.member, CareTeam.managingOrganization, Encounter.serviceProvider,
 * EpisodeOfCare.managingOrganization and .team, ServiceRequest.performer, the care home
 * residence) carries `identifier` (one of the systems above) beside `reference`, so a decision
 * can be made from the resource alone, without resolving references.
 */

/** The tag of a person-level ("golden") Patient, which CareBridge builds from a person's source records (gateway/identity/golden.ts). */
export const PERSON_RECORD_TAG = { system: 'https://carebridge.nhs.uk/fhir/CodeSystem/record-kind', code: 'person', display: 'Person-level record' } as const;

export function isPersonLevelRecord(resource: { meta?: { tag?: readonly { system?: string; code?: string }[] } }): boolean {
  return resource.meta?.tag?.some((t) => t.system === PERSON_RECORD_TAG.system && t.code === PERSON_RECORD_TAG.code) ?? false;
}
