import type { Reference, Resource } from '@medplum/fhirtypes';
import { CARE_HOME_RESIDENCE_EXTENSION, CQC_LOCATION_SYSTEM, ODS_ORGANIZATION_SYSTEM, qualifiedId, sourceTeamSystem, sourceWorkerSystem } from '../../mappings/identifiers';
import type { AccessRequester } from '../types';

/**
 * Synthetic people and requesters for access tests (here and in the gateway's read-path tests).
 * No real data: invented organisation codes, NHS numbers from the 999 range.
 */

export const COUNCIL_SOURCE = 'https://social-care.example-council.invalid/carefirst';
export const GP_SOURCE = 'https://gp.example.invalid/fhir';
export const HOSPITAL_SOURCE = 'https://pas.example-trust.invalid/hl7v2';

export const ORG = {
  /** The requester's organisation in most scenarios (an ODS code). */
  requester: { system: ODS_ORGANIZATION_SYSTEM, value: 'ZZR01' },
  otherPractice: { system: ODS_ORGANIZATION_SYSTEM, value: 'ZZG99' },
  careHome: { system: CQC_LOCATION_SYSTEM, value: '1-000000001' },
  council: { system: 'https://carebridge.nhs.uk/Id/ons-local-authority-code', value: 'E09999999' },
} as const;

export const TEAM = { system: sourceTeamSystem(COUNCIL_SOURCE), value: 'T1' } as const;
export const WORKER = { system: sourceWorkerSystem(COUNCIL_SOURCE), value: 'W1' } as const;

export const q = (id: { system: string; value: string }): string => qualifiedId(id.system, id.value);

/** A reference that carries its identifier (the reference contract of mappings/identifiers.ts). */
export function identified<T extends Resource = Resource>(type: string, id: { system: string; value: string }): Reference<T> {
  return { reference: `${type}/${id.value}`, identifier: { system: id.system, value: id.value } };
}

export function requester(role: string, overrides: Partial<AccessRequester> = {}): AccessRequester {
  return {
    userId: 'user-1',
    role,
    organisation: q(role === 'care_home_staff' ? ORG.careHome : ORG.requester),
    teams: [q(TEAM)],
    workerId: q(WORKER),
    purposeOfUse: 'TREAT',
    ...overrides,
  };
}

/** The person's GP-held Patient, registered elsewhere unless told. */
export function patient(overrides: Record<string, unknown> = {}): Resource {
  return {
    resourceType: 'Patient',
    id: 'pat-gp',
    meta: { source: GP_SOURCE },
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' }],
    name: [{ family: 'Testperson', given: ['Alex'] }],
    birthDate: '1940-02-03',
    telecom: [{ system: 'phone', value: '01632 960000' }],
    generalPractitioner: [identified('Organization', ORG.otherPractice)],
    ...overrides,
  };
}

export function careHomeResidence(home: { system: string; value: string }): Record<string, unknown> {
  return { extension: [{ url: CARE_HOME_RESIDENCE_EXTENSION, valueReference: identified('Organization', home) }] };
}

export const days = (now: Date, n: number): string => new Date(now.getTime() + n * 86_400_000).toISOString();
export const hours = (now: Date, n: number): string => new Date(now.getTime() + n * 3_600_000).toISOString();
