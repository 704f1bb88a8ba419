/**
 * The GP Connect Access Record: Structured request (`POST [base]/Patient/$gpc.getstructuredrecord`),
 * built from the specification: the Spine Secure Proxy headers, the unsigned audit JWT of
 * "Cross Organisation Audit & Provenance", and the Parameters for every clinical area. No I/O here.
 */
export const GET_STRUCTURED_RECORD_INTERACTION = 'urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1';
export const GET_STRUCTURED_RECORD_PATH = 'Patient/$gpc.getstructuredrecord';
export const FHIR_JSON_STU3 = 'application/fhir+json;charset=utf-8';

export interface GpConnectConsumer {
  /** Our ASID (Ssp-From) and the provider's (Ssp-To). */
  readonly fromAsid: string;
  readonly toAsid: string;
  /** requesting_organization: the organisation the request is made for (its ODS code and name). */
  readonly organizationOds: string;
  readonly organizationName: string;
  /** requesting_practitioner: SDS user id, role profile id and name of the person the request is for. */
  readonly userId: string;
  readonly userRoleProfileId?: string;
  readonly userFamilyName?: string;
  readonly userGivenName?: string;
  /** iss: our issuer URI. */
  readonly issuer: string;
  readonly deviceVersion: string;
}

export interface StructuredRecordOptions {
  /** Ask for diary entries too (GP Connect 1.6; older providers refuse the parameter). */
  readonly includeDiaryEntries?: boolean;
}

interface Parameter {
  name: string;
  valueIdentifier?: { system: string; value: string };
  valueBoolean?: boolean;
  part?: Parameter[];
}

/**
 * Every clinical area, unfiltered: resolved allergies and prescription issues included, no search
 * periods. A record fetched this way is complete, so what it no longer holds has truly gone.
 */
export function structuredRecordParameters(nhsNumber: string, options: StructuredRecordOptions = {}): { resourceType: 'Parameters'; parameter: Parameter[] } {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'patientNHSNumber', valueIdentifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber } },
      { name: 'includeAllergies', part: [{ name: 'includeResolvedAllergies', valueBoolean: true }] },
      { name: 'includeMedication', part: [{ name: 'includePrescriptionIssues', valueBoolean: true }] },
      { name: 'includeConsultations' },
      { name: 'includeProblems' },
      { name: 'includeImmunisations', part: [{ name: 'includeNotGiven', valueBoolean: true }, { name: 'includeStatus', valueBoolean: true }] },
      { name: 'includeUncategorisedData' },
      { name: 'includeInvestigations' },
      { name: 'includeReferrals' },
      ...(options.includeDiaryEntries ? [{ name: 'includeDiaryEntries' }] : []),
    ],
  };
}

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * The audit JWT GP Connect asks consumers to send (RFC 7519 unsecured: alg none, empty signature,
 * so it ends with a dot): who asks, for which organisation, from which system, why and for what.
 */
export function auditJwt(consumer: GpConnectConsumer, audience: string, now: Date): string {
  const iat = Math.floor(now.getTime() / 1000);
  const practitionerIdentifiers = [
    { system: 'https://fhir.nhs.uk/Id/sds-user-id', value: consumer.userId },
    ...(consumer.userRoleProfileId ? [{ system: 'https://fhir.nhs.uk/Id/sds-role-profile-id', value: consumer.userRoleProfileId }] : []),
  ];
  const payload = {
    iss: consumer.issuer,
    sub: consumer.userId,
    aud: audience,
    exp: iat + 300,
    iat,
    reason_for_request: 'directcare',
    requested_scope: 'patient/*.read',
    requesting_device: {
      resourceType: 'Device',
      identifier: [{ system: consumer.issuer, value: 'carebridge' }],
      model: 'CareBridge',
      version: consumer.deviceVersion,
    },
    requesting_organization: {
      resourceType: 'Organization',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: consumer.organizationOds }],
      name: consumer.organizationName,
    },
    requesting_practitioner: {
      resourceType: 'Practitioner',
      id: consumer.userId,
      identifier: practitionerIdentifiers,
      ...(consumer.userFamilyName ? { name: [{ family: consumer.userFamilyName, ...(consumer.userGivenName ? { given: [consumer.userGivenName] } : {}) }] } : {}),
    },
  };
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.`;
}

/** The headers of one request; `traceId` is a fresh UUID per request (Ssp-TraceID). */
export function structuredRecordHeaders(consumer: GpConnectConsumer, audience: string, traceId: string, now: Date): Record<string, string> {
  return {
    Accept: FHIR_JSON_STU3,
    'Content-Type': FHIR_JSON_STU3,
    'Ssp-TraceID': traceId,
    'Ssp-From': consumer.fromAsid,
    'Ssp-To': consumer.toAsid,
    'Ssp-InteractionID': GET_STRUCTURED_RECORD_INTERACTION,
    Authorization: `Bearer ${auditJwt(consumer, audience, now)}`,
  };
}
