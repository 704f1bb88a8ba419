import type { CodeableConcept } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { ceToCodeableConcept, readCe } from '../datatypes/ce';
import { clearedBy, repetitionsOf } from '../datatypes/field';
import { readTimestamp } from '../datatypes/ts-field';
import type { VisitFactsDraft } from './pv1';
import { reportUnmappedFields } from './coverage';

/** PV2 patient visit - additional information (v2.5.1 §3.4.4): admit reason, expected admission and discharge. */
const HANDLED = new Set([3, 8, 9]);

/** Adds PV2's facts to the draft PV1 started. */
export function mapPv2(scope: MapScope, segment: Hl7Segment, facts: VisitFactsDraft): void {
  reportUnmappedFields(scope, segment, HANDLED);
  const reasons = repetitionsOf(segment, 3)
    .map((v) => readCe(v))
    .filter((c) => c !== undefined)
    .map((c): CodeableConcept => ceToCodeableConcept(scope, c, 'admit-reason'));
  if (reasons.length) facts.reasonCode = reasons;
  // PV2-8 expected admit date/time; PV2-9 expected discharge date/time.
  const expectedAdmission = readTimestamp(scope, segment, 8, 'PV2-8 expected admit date/time');
  if (expectedAdmission) facts.expectedAdmission = expectedAdmission.dateTime;
  const expectedDischarge = readTimestamp(scope, segment, 9, 'PV2-9 expected discharge date/time');
  if (expectedDischarge) facts.expectedDischarge = expectedDischarge.dateTime;
  if (clearedBy(segment, 3)) facts.cleared.push('reasonCode');
  if (clearedBy(segment, 8)) facts.cleared.push('expectedAdmission');
  if (clearedBy(segment, 9)) facts.cleared.push('expectedDischarge');
}
