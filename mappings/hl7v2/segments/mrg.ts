import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { at, Hl7ErrorCode, IssueReason } from '../issues';
import { keyFromIdentifiers, patientIdentifiers } from './pid';
import { reportUnmappedFields } from './coverage';

/**
 * MRG merge patient information (v2.5.1 §3.4.9): MRG-1 prior patient identifier list names the
 * record being merged away; PID-3 of the same group names the survivor. MRG-4 prior patient id
 * (deprecated), MRG-5/6 prior visit and account and MRG-7 prior name are passed over: A40 merges
 * people, not visits.
 */
const HANDLED = new Set([1, 2, 4, 5, 6, 7]);

export function mapMrg(scope: MapScope, segment: Hl7Segment): string | undefined {
  reportUnmappedFields(scope, segment, HANDLED);
  const key = keyFromIdentifiers(patientIdentifiers(segment, [1, 4]));
  if (!key) {
    scope.issues.error(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.REQUIRED_FIELD_MISSING, at(segment, 1), 'MRG-1 prior patient identifier is empty');
    return undefined;
  }
  return key.key;
}
