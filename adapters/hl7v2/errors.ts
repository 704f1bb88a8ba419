/**
 * HL7 errors as the standard names them: a code from HL7 table 0357 (message error condition
 * codes, v2.5.1), where in the message it happened (the ERL data type of ERR-2) and a readable
 * text. Texts never quote patient data: they name fields, not values.
 */

/** HL7 table 0357, v2.5.1 (§2.15.9.3 ERR-3 uses this table). */
export const Hl7ErrorCode = {
  MessageAccepted: '0',
  SegmentSequenceError: '100',
  RequiredFieldMissing: '101',
  DataTypeError: '102',
  TableValueNotFound: '103',
  UnsupportedMessageType: '200',
  UnsupportedEventCode: '201',
  UnsupportedProcessingId: '202',
  UnsupportedVersionId: '203',
  UnknownKeyIdentifier: '204',
  DuplicateKeyIdentifier: '205',
  ApplicationRecordLocked: '206',
  ApplicationInternalError: '207',
} as const;
export type Hl7ErrorCode = (typeof Hl7ErrorCode)[keyof typeof Hl7ErrorCode];

/** The table's own wording, sent as ERR-3.2 (CWE text) beside the code. */
export const HL7_ERROR_CODE_TEXT: Readonly<Record<Hl7ErrorCode, string>> = {
  '0': 'Message accepted',
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
};

/** HL7 table 0516 (ERR-4 severity). */
export const Hl7ErrorSeverity = {
  Error: 'E',
  Warning: 'W',
  Information: 'I',
} as const;
export type Hl7ErrorSeverity = (typeof Hl7ErrorSeverity)[keyof typeof Hl7ErrorSeverity];

/**
 * Where an error is (the ERL data type, ERR-2): segment ID, the segment's 1-based position in the
 * message, then field, repetition, component and subcomponent, each 1-based and optional.
 */
export interface Hl7ErrorLocation {
  readonly segment: string;
  readonly position?: number;
  readonly field?: number;
  readonly repetition?: number;
  readonly component?: number;
  readonly subcomponent?: number;
}

/** Why a message could not be parsed or accepted. Plain data: parsing returns it, never throws it. */
export interface Hl7ParseError {
  readonly code: Hl7ErrorCode;
  readonly location?: Hl7ErrorLocation;
  /** Readable, names fields only: never patient data. */
  readonly text: string;
}

export function hl7Error(code: Hl7ErrorCode, text: string, location?: Hl7ErrorLocation): Hl7ParseError {
  return location ? { code, text, location } : { code, text };
}
