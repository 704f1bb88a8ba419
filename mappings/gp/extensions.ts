/**
 * GP Connect / CareConnect STU3 extension URLs and the UK Core R4 extensions they become.
 * (GP Connect Access Record: Structured, resource guidance pages; UK Core 2.0.0 StructureDefinitions.)
 */
export const STU3_EXT = {
  NHS_NUMBER_VERIFICATION: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1',
  ETHNIC_CATEGORY: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1',
  REGISTRATION_DETAILS: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RegistrationDetails-1',
  ALLERGY_END: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-AllergyIntoleranceEnd-1',
  ENCOUNTER: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-Encounter-1',
  LAST_ISSUE_DATE: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-MedicationStatementLastIssueDate-1',
  PRESCRIBING_AGENCY: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-PrescribingAgency-1',
  REPEAT_INFORMATION: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-MedicationRepeatInformation-1',
  PRESCRIPTION_TYPE: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-PrescriptionType-1',
  MEDICATION_STATUS_REASON: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-MedicationStatusReason-1',
  PROBLEM_SIGNIFICANCE: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ProblemSignificance-1',
  RELATED_PROBLEM_HEADER: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RelatedProblemHeader-1',
  ACTUAL_PROBLEM: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ActualProblem-1',
  RELATED_CLINICAL_CONTENT: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RelatedClinicalContent-1',
  DATE_RECORDED: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-DateRecorded-1',
  VACCINATION_PROCEDURE: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-VaccinationProcedure-1',
  PARENT_PRESENT: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-ParentPresent-1',
  LIST_WARNING_CODE: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ListWarningCode-1',
  CLINICAL_SETTING: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-ClinicalSetting-1',
} as const;

export const UKCORE_EXT = {
  NHS_NUMBER_VERIFICATION: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
  ETHNIC_CATEGORY: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory',
  ALLERGY_END: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AllergyIntoleranceEnd',
  LAST_ISSUE_DATE: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationStatementLastIssueDate',
  PRESCRIBING_AGENCY: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationPrescribingAgency',
  REPEAT_INFORMATION: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation',
  PRESCRIPTION_TYPE: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-PrescriptionType',
  PROBLEM_SIGNIFICANCE: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ProblemSignificance',
  RELATED_PROBLEM_HEADER: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-RelatedProblemHeader',
  ACTUAL_PROBLEM: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ActualProblem',
  RELATED_CLINICAL_CONTENT: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-RelatedClinicalContent',
  VACCINATION_PROCEDURE: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure',
  LIST_WARNING_CODE: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ListWarningCode',
  CLINICAL_SETTING: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ClinicalSetting',
} as const;

/** Kept under its GP Connect URL: UK Core 2.0.0 has no registration-details extension. */
export const KEPT_REGISTRATION_DETAILS = STU3_EXT.REGISTRATION_DETAILS;

export const UKCORE_PROFILE = {
  PATIENT: 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient',
  ALLERGY_INTOLERANCE: 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-AllergyIntolerance',
  CONDITION: 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Condition',
  MEDICATION_STATEMENT: 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-MedicationStatement',
} as const;

export const GPC_BUNDLE_PROFILE = 'https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-StructuredRecord-Bundle-1';
