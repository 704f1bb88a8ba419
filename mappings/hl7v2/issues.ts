import type { Hl7Segment } from '../../adapters/hl7v2/types';

/**
 * What a mapping could not map, in the shape an HL7 ACK's ERR segment needs: an HL7 error code
 * (table 0357), a location (ERR-2: segment, sequence, field, repetition, component) and a text
 * that carries no patient data (it may reach a log or the sender).
 */

/** HL7 v2.5.1 table 0357 "Message error condition codes". `code` of every issue is one of these. */
export const Hl7ErrorCode = {
  /** 0: message accepted; used with severity warning/information for things noted but not mapped. */
  ACCEPTED: '0',
  SEGMENT_SEQUENCE_ERROR: '100',
  REQUIRED_FIELD_MISSING: '101',
  DATA_TYPE_ERROR: '102',
  TABLE_VALUE_NOT_FOUND: '103',
  UNSUPPORTED_MESSAGE_TYPE: '200',
  UNSUPPORTED_EVENT_CODE: '201',
  UNKNOWN_KEY_IDENTIFIER: '204',
} as const;
export type Hl7ErrorCode = (typeof Hl7ErrorCode)[keyof typeof Hl7ErrorCode];

/** error: the gateway answers AE and applies nothing; warning/information: mapped, reported. */
export const IssueSeverity = {
  ERROR: 'error',
  WARNING: 'warning',
  INFORMATION: 'information',
} as const;
export type IssueSeverity = (typeof IssueSeverity)[keyof typeof IssueSeverity];

/** CareBridge's own finer reason beside the 0357 code, for metrics and the integration team. */
export const IssueReason = {
  MISSING_SEGMENT: 'missing-segment',
  REQUIRED_FIELD_MISSING: 'required-field-missing',
  NO_PATIENT_IDENTIFIER: 'no-patient-identifier',
  INVALID_DATE: 'invalid-date',
  IMPOSSIBLE_DATE: 'impossible-date',
  DATES_OUT_OF_ORDER: 'dates-out-of-order',
  NONEXISTENT_LOCAL_TIME: 'nonexistent-local-time',
  CODE_NOT_MAPPED: 'code-not-mapped',
  NHS_NUMBER_INVALID: 'nhs-number-invalid',
  NHS_NUMBER_CONFLICT: 'nhs-number-conflict',
  NHS_NUMBER_AS_KEY: 'nhs-number-as-key',
  SEGMENT_NOT_MAPPED: 'segment-not-mapped',
  FIELD_NOT_MAPPED: 'field-not-mapped',
  UNSUPPORTED_MESSAGE_TYPE: 'unsupported-message-type',
  UNSUPPORTED_EVENT: 'unsupported-event',
  INVALID_ATTACHMENT: 'invalid-attachment',
} as const;
export type IssueReason = (typeof IssueReason)[keyof typeof IssueReason];

/** ERR-2 error location. `field` is absent for an issue about a whole segment (or a missing one: position 0). */
export interface Hl7IssueLocation {
  readonly segment: string;
  readonly position: number;
  readonly field?: number;
  readonly repetition?: number;
  readonly component?: number;
}

export interface Hl7MappingIssue {
  readonly severity: IssueSeverity;
  readonly code: Hl7ErrorCode;
  readonly reason: IssueReason;
  readonly location: Hl7IssueLocation;
  /** Readable, without patient data (no names, numbers, dates or clinical text from the message). */
  readonly text: string;
}

/** Where an issue is, from the segment and the field address. */
export function at(segment: Hl7Segment, field?: number, component?: number, repetition?: number): Hl7IssueLocation {
  const location: { -readonly [K in keyof Hl7IssueLocation]: Hl7IssueLocation[K] } = { segment: segment.name, position: segment.position };
  if (field !== undefined) location.field = field;
  if (repetition !== undefined && repetition !== 1) location.repetition = repetition;
  if (component !== undefined) location.component = component;
  return location;
}

/** A segment the message lacks: position 0. */
export function missing(segmentName: string, field?: number): Hl7IssueLocation {
  return { segment: segmentName, position: 0, ...(field === undefined ? {} : { field }) };
}

/** Collects issues during one mapping; the order of reporting is the order in the result. */
export class IssueList {
  readonly items: Hl7MappingIssue[] = [];

  error(code: Hl7ErrorCode, reason: IssueReason, location: Hl7IssueLocation, text: string): void {
    this.items.push({ severity: IssueSeverity.ERROR, code, reason, location, text });
  }

  warning(code: Hl7ErrorCode, reason: IssueReason, location: Hl7IssueLocation, text: string): void {
    this.items.push({ severity: IssueSeverity.WARNING, code, reason, location, text });
  }

  information(code: Hl7ErrorCode, reason: IssueReason, location: Hl7IssueLocation, text: string): void {
    this.items.push({ severity: IssueSeverity.INFORMATION, code, reason, location, text });
  }

  /** A code the tables do not know: kept as the sender's code, reported as 103. */
  unknownCode(location: Hl7IssueLocation, table: string): void {
    this.warning(Hl7ErrorCode.TABLE_VALUE_NOT_FOUND, IssueReason.CODE_NOT_MAPPED, location, `Code not in the ${table} mapping; kept as the sender's code`);
  }

  hasErrors(): boolean {
    return this.items.some((i) => i.severity === IssueSeverity.ERROR);
  }
}
