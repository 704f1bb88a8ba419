import type { CodeableConcept, Coding } from '@medplum/fhirtypes';

/**
 * Code system URIs that changed between STU3 and R4 (HL7 moved its own code systems to
 * terminology.hl7.org) or between CareConnect and UK Core. Everything else (SNOMED CT, Read, dm+d,
 * ICD-10, LOINC, local systems) is kept as sent.
 */
export const SYSTEM_RENAMES: Readonly<Record<string, string>> = {
  'http://hl7.org/fhir/allergy-clinical-status': 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  'http://hl7.org/fhir/allergy-verification-status': 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  'http://hl7.org/fhir/condition-clinical': 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  'http://hl7.org/fhir/condition-ver-status': 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  'http://hl7.org/fhir/condition-category': 'http://terminology.hl7.org/CodeSystem/condition-category',
  'http://hl7.org/fhir/observation-category': 'http://terminology.hl7.org/CodeSystem/observation-category',
  'http://hl7.org/fhir/list-empty-reason': 'http://terminology.hl7.org/CodeSystem/list-empty-reason',
  'http://hl7.org/fhir/list-order': 'http://terminology.hl7.org/CodeSystem/list-order',
  'http://hl7.org/fhir/medication-statement-category': 'http://terminology.hl7.org/CodeSystem/medication-statement-category',
  'http://hl7.org/fhir/medication-request-category': 'http://terminology.hl7.org/CodeSystem/medicationrequest-category',
  'http://hl7.org/fhir/immunization-origin': 'http://terminology.hl7.org/CodeSystem/immunization-origin',
  'http://hl7.org/fhir/data-absent-reason': 'http://terminology.hl7.org/CodeSystem/data-absent-reason',
  'http://hl7.org/fhir/diagnostic-service-sections': 'http://terminology.hl7.org/CodeSystem/v2-0074',
  'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1': 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland',
  'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1': 'https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland',
  'https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-PrescriptionType-1': 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PrescriptionType',
  'https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-PrescribingAgency-1': 'https://fhir.hl7.org.uk/CodeSystem/UKCore-MedicationPrescribingAgency',
  'https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-ListEmptyReasonCode-1': 'https://fhir.hl7.org.uk/CodeSystem/UKCore-ListEmptyReasonCode',
  'https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-ListWarningCode-1': 'https://fhir.hl7.org.uk/CodeSystem/UKCore-ListWarningCode',
  'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-HumanLanguage-1': 'https://fhir.hl7.org.uk/CodeSystem/UKCore-HumanLanguage',
};

/** `http://hl7.org/fhir/v2/0203` → `http://terminology.hl7.org/CodeSystem/v2-0203`, the same for v3. */
function renamedHl7Table(system: string): string | undefined {
  const v2 = /^http:\/\/hl7\.org\/fhir\/v2\/(\d{4})$/.exec(system);
  if (v2) return `http://terminology.hl7.org/CodeSystem/v2-${v2[1] ?? ''}`;
  const v3 = /^http:\/\/hl7\.org\/fhir\/v3\/([A-Za-z]+)$/.exec(system);
  if (v3) return `http://terminology.hl7.org/CodeSystem/v3-${v3[1] ?? ''}`;
  return undefined;
}

export function r4System(system: string | undefined): string | undefined {
  if (system === undefined) return undefined;
  return SYSTEM_RENAMES[system] ?? renamedHl7Table(system) ?? system;
}

export function r4Coding(coding: Coding): Coding {
  const system = r4System(coding.system);
  // GP Connect puts the SNOMED CT description id in an extension on Coding; it is valid R4 as is.
  return { ...coding, ...(system === undefined ? {} : { system }) };
}

export function r4CodeableConcept(concept: CodeableConcept): CodeableConcept;
export function r4CodeableConcept(concept: CodeableConcept | undefined): CodeableConcept | undefined;
export function r4CodeableConcept(concept: CodeableConcept | undefined): CodeableConcept | undefined {
  if (!concept) return undefined;
  return { ...concept, ...(concept.coding ? { coding: concept.coding.map(r4Coding) } : {}) };
}

export function r4CodeableConcepts(concepts: readonly CodeableConcept[] | undefined): CodeableConcept[] | undefined {
  return concepts?.length ? concepts.map((c) => r4CodeableConcept(c)) : undefined;
}

export const SNOMED = 'http://snomed.info/sct';

/** R4 status CodeableConcepts. */
export const ALLERGY_CLINICAL_SYSTEM = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
export const ALLERGY_VERIFICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
export const CONDITION_CLINICAL_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
export const CONDITION_VERIFICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';

export function statusConcept(system: string, code: string): CodeableConcept {
  return { coding: [{ system, code }] };
}
