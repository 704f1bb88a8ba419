import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { readTimestamp, type ValidTimestamp } from '../datatypes/ts-field';
import { reportUnmappedFields } from './coverage';

/**
 * EVN event type (v2.5.1 §3.4.1): when the event happened. EVN-6 "event occurred" is the real
 * time of the admission/transfer/discharge; EVN-2 "recorded date/time" is when the PAS recorded
 * it. EVN-1 (deprecated trigger), EVN-3 planned time, EVN-4 reason, EVN-5 operator and EVN-7
 * facility are passed over: none is part of the shared record.
 */
const HANDLED = new Set([1, 2, 3, 4, 5, 6, 7]);

export interface EventTimes {
  readonly occurred: ValidTimestamp | undefined;
  readonly recorded: ValidTimestamp | undefined;
}

export function mapEvn(scope: MapScope, segment: Hl7Segment): EventTimes {
  reportUnmappedFields(scope, segment, HANDLED);
  return {
    recorded: readTimestamp(scope, segment, 2, 'EVN-2 recorded date/time'),
    occurred: readTimestamp(scope, segment, 6, 'EVN-6 event occurred'),
  };
}
