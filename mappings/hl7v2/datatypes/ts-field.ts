import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { at, Hl7ErrorCode, IssueReason } from '../issues';
import { parseHl7Timestamp, type ParsedTimestamp } from './ts';

export type ValidTimestamp = Extract<ParsedTimestamp, { ok: true }>;

/**
 * A TS field (component 1; TS.2 "degree of precision" is long deprecated). A value that is not a
 * timestamp or names no real date is an error (102): the message parsed but cannot be applied.
 */
export function readTimestamp(scope: MapScope, segment: Hl7Segment, seq: number, label: string, component = 1, repetition = 1): ValidTimestamp | undefined {
  const raw = segment.text(seq, component, 1, repetition).trim();
  if (raw === '') return undefined;
  const parsed = parseHl7Timestamp(raw, scope.timeZone);
  if (parsed.ok && !parsed.shifted) return parsed;
  const location = at(segment, seq, component === 1 ? undefined : component, repetition);
  if (!parsed.ok) {
    if (parsed.reason === 'format') scope.issues.error(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.INVALID_DATE, location, `${label} is not an HL7 timestamp`);
    else scope.issues.error(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.IMPOSSIBLE_DATE, location, `${label} is not a real date or time`);
    return undefined;
  }
  if (parsed.shifted) {
    scope.issues.information(Hl7ErrorCode.ACCEPTED, IssueReason.NONEXISTENT_LOCAL_TIME, location, `${label} falls in the sender's daylight-saving gap; moved forward by the gap`);
  }
  return parsed;
}

/** Whether `a` is strictly before `b` (both with a known instant; false otherwise). */
export function isBefore(a: ValidTimestamp | undefined, b: ValidTimestamp | undefined): boolean {
  if (!a?.instant || !b?.instant) return false;
  return Date.parse(a.instant) < Date.parse(b.instant);
}
