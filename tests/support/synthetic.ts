import type { Encounter, Patient } from '@medplum/fhirtypes';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { NHS_NUMBER_SYSTEM, NHS_NUMBER_VERIFICATION_EXTENSION, NHS_NUMBER_VERIFICATION_SYSTEM } from '../../mappings/identity/nhs-number';

/** Synthetic people for tests: invented names, NHS numbers from the 999 test range. */
export function syntheticPatient(n: number, overrides: Partial<Patient> = {}): Patient {
  return {
    resourceType: 'Patient',
    id: `pat-${n}`,
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: demoNhsNumber(n) }],
    name: [{ family: `Testperson${n}`, given: ['Alex'] }],
    gender: n % 2 === 0 ? 'female' : 'male',
    birthDate: `19${String(30 + (n % 60)).padStart(2, '0')}-0${1 + (n % 9)}-1${n % 10}`,
    ...overrides,
  };
}

export function syntheticEncounter(n: number, patientId: string, overrides: Partial<Encounter> = {}): Encounter {
  return {
    resourceType: 'Encounter',
    id: `enc-${n}`,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: `Patient/${patientId}` },
    period: { start: '2026-10-01T10:00:00Z', end: '2026-10-05T12:00:00Z' },
    ...overrides,
  };
}

/** One source's own record of a person: its meta.source, the NHS number, verified or not as that source says. */
export function sourcePatient(id: string, source: string, nhs: string, fields: { verified?: boolean; birthDate?: string; family?: string } = {}): Patient {
  return {
    resourceType: 'Patient',
    id,
    meta: { source },
    identifier: [
      {
        ...(fields.verified ? { extension: [{ url: NHS_NUMBER_VERIFICATION_EXTENSION, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code: '01' }] } }] } : {}),
        system: NHS_NUMBER_SYSTEM,
        value: nhs,
      },
    ],
    name: [{ use: 'official', family: fields.family ?? 'Testperson', given: ['Alex'] }],
    birthDate: fields.birthDate ?? '1939-05-17',
  };
}
