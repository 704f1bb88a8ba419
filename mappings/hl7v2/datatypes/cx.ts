import { readHdComponent, type HierarchicDesignator } from './hd';
import { component, type FieldValue } from './field';

/**
 * CX extended composite id (v2.5.1 §2.A.14): id ^ check digit ^ check digit scheme ^ assigning
 * authority (HD) ^ identifier type code (table 0203) ^ assigning facility (HD) ^ effective ^ expiry.
 */
export interface ExtendedId {
  readonly value: string;
  readonly assigningAuthority: HierarchicDesignator;
  readonly typeCode: string;
  readonly assigningFacility: HierarchicDesignator;
}

export function readCx(value: FieldValue): ExtendedId | undefined {
  const id = component(value, 1);
  if (id === '') return undefined;
  return { value: id, assigningAuthority: readHdComponent(value, 4), typeCode: component(value, 5).toUpperCase(), assigningFacility: readHdComponent(value, 6) };
}

/** Table 0203 types (and the authorities UK senders write) that mark an NHS number. */
const NHS_NUMBER_TYPES = new Set(['NH', 'NHS', 'NHSNBR', 'NHSNO']);
const NHS_NUMBER_AUTHORITIES = new Set(['NHS', 'NHSNBR', 'NHSNO', 'NHS NUMBER', '2.16.840.1.113883.2.1.4.1']);

/** Table 0203 types of a hospital's own patient number (medical record, patient internal, patient external). */
const LOCAL_RECORD_TYPES = new Set(['MR', 'MRN', 'PI', 'PT', 'PE', 'HOSP', 'LR']);

export const PatientIdentifierKind = {
  NHS_NUMBER: 'nhs-number',
  LOCAL_RECORD_NUMBER: 'local-record-number',
  OTHER: 'other',
} as const;
export type PatientIdentifierKind = (typeof PatientIdentifierKind)[keyof typeof PatientIdentifierKind];

/**
 * What a patient identifier is: an NHS number when its type or authority says so (never guessed
 * from the digits alone); the hospital's own number when typed MR/PI/... or not typed at all.
 */
export function classifyPatientIdentifier(id: ExtendedId): PatientIdentifierKind {
  const authority = [id.assigningAuthority.namespaceId, id.assigningAuthority.universalId].map((s) => s.toUpperCase());
  if (NHS_NUMBER_TYPES.has(id.typeCode) || authority.some((a) => NHS_NUMBER_AUTHORITIES.has(a))) return PatientIdentifierKind.NHS_NUMBER;
  if (id.typeCode === '' || LOCAL_RECORD_TYPES.has(id.typeCode)) return PatientIdentifierKind.LOCAL_RECORD_NUMBER;
  return PatientIdentifierKind.OTHER;
}
