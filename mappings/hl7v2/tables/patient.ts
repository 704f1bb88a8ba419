import type { CodeableConcept, Patient } from '@medplum/fhirtypes';

/** Table 0001 administrative sex → Patient.gender; the NHS Data Dictionary person gender codes (1, 2, 9, 0/X) as UK senders also write them. */
export const ADMINISTRATIVE_SEX: Readonly<Record<string, NonNullable<Patient['gender']>>> = {
  M: 'male',
  F: 'female',
  O: 'other',
  A: 'other',
  U: 'unknown',
  N: 'unknown',
  '1': 'male',
  '2': 'female',
  '9': 'other',
  '0': 'unknown',
  X: 'unknown',
};

const V3_MARITAL = 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus';
const NULL_FLAVOR = 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor';

/** Table 0002 marital status → v3 MaritalStatus (HL7 v2-to-FHIR IG concept map). */
export const MARITAL_STATUS: Readonly<Record<string, CodeableConcept>> = {
  M: { coding: [{ system: V3_MARITAL, code: 'M', display: 'Married' }] },
  S: { coding: [{ system: V3_MARITAL, code: 'S', display: 'Never Married' }] },
  D: { coding: [{ system: V3_MARITAL, code: 'D', display: 'Divorced' }] },
  W: { coding: [{ system: V3_MARITAL, code: 'W', display: 'Widowed' }] },
  A: { coding: [{ system: V3_MARITAL, code: 'L', display: 'Legally Separated' }] },
  E: { coding: [{ system: V3_MARITAL, code: 'L', display: 'Legally Separated' }] },
  N: { coding: [{ system: V3_MARITAL, code: 'A', display: 'Annulled' }] },
  I: { coding: [{ system: V3_MARITAL, code: 'I', display: 'Interlocutory' }] },
  P: { coding: [{ system: V3_MARITAL, code: 'T', display: 'Domestic partner' }] },
  R: { coding: [{ system: V3_MARITAL, code: 'T', display: 'Domestic partner' }] },
  C: { coding: [{ system: V3_MARITAL, code: 'T', display: 'Domestic partner' }] },
  G: { coding: [{ system: V3_MARITAL, code: 'T', display: 'Domestic partner' }] },
  B: { coding: [{ system: V3_MARITAL, code: 'U', display: 'unmarried' }] },
  U: { coding: [{ system: NULL_FLAVOR, code: 'UNK', display: 'unknown' }] },
  O: { coding: [{ system: NULL_FLAVOR, code: 'OTH', display: 'other' }] },
  T: { coding: [{ system: NULL_FLAVOR, code: 'UNK', display: 'unknown' }] },
};

/** England NHS number verification status (UKCore-NHSNumberVerificationStatusEngland), all eight codes. */
export const NHS_NUMBER_VERIFICATION_DISPLAY: Readonly<Record<string, string>> = {
  '01': 'Number present and verified',
  '02': 'Number present but not traced',
  '03': 'Trace required',
  '04': 'Trace attempted - No match or multiple match found',
  '05': 'Trace needs to be resolved - (NHS number or patient detail conflict)',
  '06': 'Trace in progress',
  '07': 'Number not present and trace not required',
  '08': 'Trace postponed (baby under six weeks old)',
};

/**
 * PID-32 identity reliability code → NHS number verification status. UK senders (ITK HL7v2
 * profiles) carry the NHS Number Status Indicator Code here ('01'..'08', sometimes without the
 * leading zero); table 0445's US codes (US, UD, UA, AL) say nothing about the NHS number.
 */
export function verificationFromReliabilityCode(code: string): string | undefined {
  const padded = /^\d$/.test(code) ? `0${code}` : code;
  return Object.hasOwn(NHS_NUMBER_VERIFICATION_DISPLAY, padded) ? padded : undefined;
}

/** Table 0445 codes: known, but not about the NHS number. */
export const IDENTITY_RELIABILITY_0445 = new Set(['US', 'UD', 'UA', 'AL']);

export const MOTHERS_MAIDEN_NAME_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName';
