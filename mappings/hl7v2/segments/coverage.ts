import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { at, Hl7ErrorCode, IssueReason } from '../issues';

/**
 * Nothing is dropped silently: every field a segment carries that its mapper neither maps nor
 * deliberately passes over (set ids, fields the adapter already used) is reported once.
 */
export function reportUnmappedFields(scope: MapScope, segment: Hl7Segment, handled: ReadonlySet<number>): void {
  for (let seq = 1; seq <= segment.fieldCount; seq++) {
    if (handled.has(seq) || segment.repetitions(seq) === 0) continue;
    scope.issues.warning(Hl7ErrorCode.ACCEPTED, IssueReason.FIELD_NOT_MAPPED, at(segment, seq), `${segment.name}-${seq} is not mapped`);
  }
}
