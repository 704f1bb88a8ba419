import type { Encounter, Patient } from '@medplum/fhirtypes';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';

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
