import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import { PassportKind } from './view';

/**
 * The codes and identifiers of red bag passports (specs/red-bag-passport.md). The document types
 * are the ones the access rules already know (consent/data/categories.json: a Composition,
 * Bundle or DocumentReference of these types is in the `passport` category).
 */

export const DOCUMENT_TYPE_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/document-type';
/** Composition.identifier: the passport, the same across its versions. */
export const PASSPORT_ID_SYSTEM = 'https://carebridge.nhs.uk/Id/red-bag-passport';
/** Bundle.identifier: one issued document (a version, or a reader's copy of a version): `{passportId}/{version}[/{copy}]`. */
export const PASSPORT_DOCUMENT_SYSTEM = 'https://carebridge.nhs.uk/Id/red-bag-passport-document';
/** The red bag (the journey both passports belong to). */
export const RED_BAG_ID_SYSTEM = 'https://carebridge.nhs.uk/Id/red-bag';
export const SECTION_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/passport-section';
/** The version of a clinical document (FHIR core extension for Composition). */
export const VERSION_NUMBER_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber';
/** On a Composition.section: something in it was withheld from this copy's reader (never what). */
export const SECTION_WITHHELD_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/passport-section-withheld';
/** On the Composition: whom a copy was issued for (a role), when it is a reader's copy. */
export const AUDIENCE_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/passport-audience';
/** The source the care home's transfer form is recorded under, per home: its own record in CareBridge. */
export const CARE_HOME_SOURCE_PREFIX = 'https://carebridge.nhs.uk/source/care-home/';
export const careHomeSource = (careHomeId: string): string => `${CARE_HOME_SOURCE_PREFIX}${encodeURIComponent(careHomeId)}`;
/** meta.source of the passports themselves. */
export const PASSPORT_SOURCE = 'https://carebridge.nhs.uk/source/red-bag-passport';

export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';

export const PASSPORT_TYPE: Readonly<Record<PassportKind, CodeableConcept>> = {
  [PassportKind.TRANSFER]: {
    coding: [
      { system: DOCUMENT_TYPE_SYSTEM, code: 'transfer-passport', display: 'Red bag hospital transfer passport' },
      { system: LOINC, code: '18761-7', display: 'Transfer summary note' },
    ],
    text: 'Hospital transfer passport',
  },
  [PassportKind.DISCHARGE]: {
    coding: [
      { system: DOCUMENT_TYPE_SYSTEM, code: 'discharge-passport', display: 'Red bag discharge passport' },
      { system: LOINC, code: '18842-5', display: 'Discharge summary' },
    ],
    text: 'Discharge passport',
  },
};

/**
 * The type codes that mark a hospital's discharge summary, whoever sent it: SNOMED CT 373942005 and
 * LOINC 18842-5 (FHIR eDischarge Compositions and DocumentReferences), and HL7v2 table 0270 `DS`
 * (TXA-2 of an MDM message, kept on the DocumentReference beside its SNOMED CT code).
 */
export const DISCHARGE_SUMMARY_CODES: ReadonlySet<string> = new Set(['373942005', '18842-5', 'DS']);

/** Whether a type (CodeableConcept) names a discharge summary. */
export const isDischargeSummaryType = (type: { coding?: readonly { code?: string }[] } | undefined): boolean => (type?.coding ?? []).some((c) => DISCHARGE_SUMMARY_CODES.has(c.code ?? ''));

export const PASSPORT_TITLE: Readonly<Record<PassportKind, string>> = {
  [PassportKind.TRANSFER]: 'Hospital transfer passport',
  [PassportKind.DISCHARGE]: 'Discharge passport',
};

/** What the care home's transfer form records, so the passport finds it again. */
export const TRANSFER_REQUEST_CATEGORY: Coding = { system: 'https://carebridge.nhs.uk/fhir/CodeSystem/service-request-kind', code: 'hospital-transfer', display: 'Transfer from care home to hospital' };
export const TRANSFER_REQUEST_CODE: Coding = { system: SNOMED, code: '107724000', display: 'Patient transfer' };
export const ITEMS_SENT_CODE: Coding = { system: 'https://carebridge.nhs.uk/fhir/CodeSystem/list-kind', code: 'red-bag-items-sent', display: 'Items sent in the red bag' };
export const ABOUT_ME_QUESTIONNAIRE = 'https://carebridge.nhs.uk/fhir/Questionnaire/about-me';
export const BASELINE_QUESTIONNAIRE = 'https://carebridge.nhs.uk/fhir/Questionnaire/baseline';
export const NEWS2_CODE: Coding = { system: SNOMED, code: '1104051000000101', display: 'Royal College of Physicians National Early Warning Score 2 (NEWS2) total score' };
/** Observation.note and SBAR parts on the transfer ServiceRequest are told apart by these codes. */
export const SBAR_PART_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/sbar-part';
export const TIME_UNWELL_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/unwell-since';

/** Who holds the legal power to decide (RelatedPerson.relationship), from HL7 v3 RoleCode. */
export const ROLE_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
export const LEGAL_DECISION_MAKER_CODES: Readonly<Record<string, string>> = {
  HPOWATT: 'Lasting power of attorney (health and welfare)',
  POWATT: 'Lasting power of attorney (property and financial affairs)',
  GUARD: 'Court-appointed deputy',
};
export const NEXT_OF_KIN_CODES: ReadonlySet<string> = new Set(['NOK', 'N', 'C', 'EP']);
