import type { Condition, Encounter, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, nhsCheckDigit } from '../mappings/identity/nhs-number';
import { resourceId } from '../mappings/ids';

/**
 * A synthetic population for the benchmarks: per patient one Patient, one Encounter, one Condition
 * and two Observations, written in that order so a batch looks like what ingest produces. Everyone
 * is invented; NHS numbers are from the 999 test range with valid modulus-11 check digits.
 */
const SOURCE = 'carebridge-bench';
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

export const RESOURCES_PER_PATIENT = 5;

export interface SyntheticPopulation {
  readonly resources: Resource[];
  /** NHS number of each Patient, in the same order as patientIds. */
  readonly nhsNumbers: string[];
  readonly patientIds: string[];
}

/** The first `count` NHS numbers of the 999 test range that have a valid check digit. */
export function testRangeNhsNumbers(count: number): string[] {
  const numbers: string[] = [];
  for (let body = 999_000_001; numbers.length < count; body++) {
    const check = nhsCheckDigit(String(body));
    if (check !== undefined) numbers.push(`${body}${check}`);
  }
  return numbers;
}

const FAMILIES = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Okafor', 'Evans', 'Thomas', 'Roberts', 'Khan', "O'Brien", 'Hughes'];
const GIVEN = ['Olivia', 'Amelia', 'Isla', 'Ava', 'Noah', 'Oliver', 'George', 'Arthur', 'Siân', 'Muhammad', 'Leo', 'Grace', 'Freya', 'Harry', 'Aisha', 'Jack'];
const CONDITIONS: [string, string][] = [['38341003', 'Hypertension'], ['73211009', 'Diabetes mellitus'], ['195967001', 'Asthma'], ['64859006', 'Osteoporosis'], ['709044004', 'Chronic kidney disease']];
const VITALS: [string, string, string, number][] = [['8867-4', 'Heart rate', '/min', 72], ['8310-5', 'Body temperature', 'Cel', 36.8], ['9279-1', 'Respiratory rate', '/min', 16], ['59408-5', 'Oxygen saturation', '%', 97]];

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length] as T;
const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export function syntheticPopulation(patients: number): SyntheticPopulation {
  const nhsNumbers = testRangeNhsNumbers(patients);
  const resources: Resource[] = [];
  const patientIds: string[] = [];
  for (let i = 0; i < patients; i++) {
    const key = `p${i}`;
    const patientId = resourceId('Patient', SOURCE, key);
    patientIds.push(patientId);
    const subject = { reference: `Patient/${patientId}` };
    const encounterId = resourceId('Encounter', SOURCE, `${key}-enc`);
    const day = `2025-${pad((i % 12) + 1, 2)}-${pad((i % 28) + 1, 2)}`;
    const patient: Patient = {
      resourceType: 'Patient',
      id: patientId,
      meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'] },
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumbers[i] }],
      name: [{ use: 'official', family: pick(FAMILIES, i), given: [pick(GIVEN, i * 7 + 3)] }],
      gender: i % 2 === 0 ? 'female' : 'male',
      birthDate: `${1930 + (i % 80)}-${pad((i % 12) + 1, 2)}-${pad((i % 28) + 1, 2)}`,
      address: [{ use: 'home', line: [`${(i % 200) + 1} Sample Street`], city: 'Benchtown', postalCode: `ZZ${(i % 9) + 1} ${(i % 9) + 1}AA` }],
      telecom: [{ system: 'phone', value: `07700 9${pad(i % 100_000, 5)}`, use: 'mobile' }],
    };
    const encounter: Encounter = {
      resourceType: 'Encounter',
      id: encounterId,
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
      subject,
      period: { start: `${day}T09:00:00Z`, end: `${day}T09:20:00Z` },
    };
    const [conditionCode, conditionDisplay] = pick(CONDITIONS, i);
    const condition: Condition = {
      resourceType: 'Condition',
      id: resourceId('Condition', SOURCE, `${key}-${conditionCode}`),
      subject,
      encounter: { reference: `Encounter/${encounterId}` },
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
      code: { coding: [{ system: SNOMED, code: conditionCode, display: conditionDisplay }] },
      recordedDate: day,
    };
    resources.push(patient, encounter, condition);
    for (let v = 0; v < 2; v++) {
      const [loinc, display, unit, base] = pick(VITALS, i + v);
      const observation: Observation = {
        resourceType: 'Observation',
        id: resourceId('Observation', SOURCE, `${key}-obs-${v}`),
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: LOINC, code: loinc, display }] },
        subject,
        encounter: { reference: `Encounter/${encounterId}` },
        effectiveDateTime: `${day}T09:${pad(5 + v, 2)}:00Z`,
        valueQuantity: { value: base + (i % 7), unit, system: UCUM, code: unit },
      };
      resources.push(observation);
    }
  }
  return { resources, nhsNumbers, patientIds };
}
