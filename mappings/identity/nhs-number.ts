/**
 * NHS numbers: ten digits, the last a modulus-11 check digit (NHS Data Dictionary, "NHS Number").
 * Sources write them with spaces or dashes ('943 476 5919', '943-476-5919'); we store the bare
 * digits. A number that fails the check is kept as given but never used to link records.
 */
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** UK Core NHS number verification status (CodeSystem UKCore-NHSNumberVerificationStatus). */
export const NHS_NUMBER_VERIFICATION_EXTENSION = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus';
export const NHS_NUMBER_VERIFICATION_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland';

export const NhsNumberVerification = {
  /** 01: Number present and verified */
  VERIFIED: '01',
  /** 02: Number present but not traced */
  NOT_TRACED: '02',
} as const;
export type NhsNumberVerification = (typeof NhsNumberVerification)[keyof typeof NhsNumberVerification];

export const VERIFICATION_DISPLAY: Record<NhsNumberVerification, string> = {
  '01': 'Number present and verified',
  '02': 'Number present but not traced',
};

/** Strips spaces and dashes; returns undefined unless ten digits remain. */
export function normaliseNhsNumber(input: string): string | undefined {
  const digits = input.replace(/[\s-]/g, '');
  return /^\d{10}$/.test(digits) ? digits : undefined;
}

/** The modulus-11 check digit for the first nine digits, or undefined when none is possible (remainder 10). */
export function nhsCheckDigit(firstNine: string): number | undefined {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(firstNine[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return undefined;
  return check;
}

export function isValidNhsNumber(input: string): boolean {
  const digits = normaliseNhsNumber(input);
  if (!digits) return false;
  return nhsCheckDigit(digits.slice(0, 9)) === Number(digits[9]);
}
