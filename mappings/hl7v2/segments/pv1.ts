import type { Coding, EncounterParticipant, Practitioner, Reference } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import { localSystem, type MapScope } from '../context';
import { clearedBy, firstOf, repetitionsOf, simpleText } from '../datatypes/field';
import { locationFromPl } from '../datatypes/pl';
import { isBefore, readTimestamp } from '../datatypes/ts-field';
import { practitionerFromXcn } from '../datatypes/xcn';
import { at, Hl7ErrorCode, IssueReason } from '../issues';
import type { ResourceSet } from '../resource-set';
import { senderCode, translateCode } from '../tables/coded';
import { PATIENT_CLASS, PATIENT_CLASS_UNKNOWN, PV1_PARTICIPANT_FIELDS } from '../tables/encounter';
import { ADMISSION_METHOD_ENGLAND, DISCHARGE_DESTINATION_ENGLAND, DISCHARGE_METHOD_ENGLAND, SOURCE_OF_ADMISSION_ENGLAND } from '../tables/uk-core-codes';
import type { VisitFacts, VisitField } from '../visit-event';
import { reportUnmappedFields } from './coverage';

/**
 * PV1 patient visit (v2.5.1 §3.4.3) → the visit facts of an Encounter. UK PAS feeds carry NHS Data
 * Dictionary codes in the coded fields: PV1-4 admission method, PV1-14 source of admission, PV1-36
 * discharge method, PV1-37 discharge destination; these become UK Core codes where they are in
 * the England code systems, and stay the sender's codes (with a 103 warning) where not.
 */

/** Mapped here or passed over on purpose: PV1-1 set id; PV1-6 prior location (the fold keeps the history); PV1-51 visit indicator. */
const HANDLED = new Set([1, 2, 3, 4, 6, 7, 8, 9, 10, 14, 17, 19, 36, 37, 44, 45, 51]);

export type VisitFactsDraft = { -readonly [K in Exclude<keyof VisitFacts, 'encounterId' | 'source' | 'visitNumber' | 'subject' | 'cleared'>]?: VisitFacts[K] } & {
  cleared: VisitField[];
};

export interface Pv1Mapping {
  /** PV1-19.1, the visit number with this sender. */
  readonly visitKey: string | undefined;
  /** PV1-2 as sent (upper case), for the event kind (A04 with 'E' is an ED attendance). */
  readonly patientClass: string;
  readonly facts: VisitFactsDraft;
}

function patientClass(scope: MapScope, segment: Hl7Segment): Coding | undefined {
  const code = simpleText(segment, 2).toUpperCase();
  if (!code) {
    scope.issues.warning(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.REQUIRED_FIELD_MISSING, at(segment, 2), 'PV1-2 patient class is empty; the encounter class is unknown');
    return undefined;
  }
  if (PATIENT_CLASS_UNKNOWN.has(code)) return undefined;
  const mapped = PATIENT_CLASS[code];
  if (mapped) return mapped;
  scope.issues.unknownCode(at(segment, 2), 'patient class (table 0004)');
  return senderCode(scope, 'patient-class', code, '').coding?.[0];
}

function participants(scope: MapScope, segment: Hl7Segment, resources: ResourceSet): EncounterParticipant[] {
  const out: EncounterParticipant[] = [];
  for (const { seq, type } of PV1_PARTICIPANT_FIELDS) {
    for (const value of repetitionsOf(segment, seq)) {
      const individual: Reference<Practitioner> | undefined = practitionerFromXcn(scope, value, resources);
      if (individual) out.push({ type: [type], individual });
    }
  }
  return out;
}

export function mapPv1(scope: MapScope, segment: Hl7Segment, resources: ResourceSet): Pv1Mapping {
  reportUnmappedFields(scope, segment, HANDLED);
  const facts: VisitFactsDraft = { cleared: [] };

  const cls = patientClass(scope, segment);
  if (cls) facts.class = cls;

  const place = firstOf(segment, 3);
  const location = place && locationFromPl(scope, place, resources);
  if (location) facts.location = location;

  const admissionMethod = simpleText(segment, 4);
  if (admissionMethod) facts.admissionMethod = translateCode(scope, ADMISSION_METHOD_ENGLAND, admissionMethod.toUpperCase(), '', 'admission-type', at(segment, 4), 'admission method (PV1-4)');

  const participant = participants(scope, segment, resources);
  if (participant.length) facts.participant = participant;

  const service = simpleText(segment, 10);
  if (service) facts.serviceType = { coding: [{ system: localSystem.code(scope.source, 'hospital-service'), code: service }] };

  const admitSource = simpleText(segment, 14);
  if (admitSource) facts.admitSource = translateCode(scope, SOURCE_OF_ADMISSION_ENGLAND, admitSource, '', 'admit-source', at(segment, 14), 'source of admission (PV1-14)');

  const dischargeMethod = simpleText(segment, 36);
  if (dischargeMethod) facts.dischargeMethod = translateCode(scope, DISCHARGE_METHOD_ENGLAND, dischargeMethod, '', 'discharge-disposition', at(segment, 36), 'discharge method (PV1-36)');

  // PV1-37 is DLD: discharge location ^ effective date.
  const destination = simpleText(segment, 37);
  if (destination) facts.dischargeDestination = translateCode(scope, DISCHARGE_DESTINATION_ENGLAND, destination, '', 'discharged-to-location', at(segment, 37), 'discharge destination (PV1-37)');

  const admit = readTimestamp(scope, segment, 44, 'PV1-44 admit date/time');
  const discharge = readTimestamp(scope, segment, 45, 'PV1-45 discharge date/time');
  if (admit) facts.admitTime = admit.dateTime;
  if (discharge) facts.dischargeTime = discharge.dateTime;
  if (isBefore(discharge, admit)) {
    scope.issues.error(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.DATES_OUT_OF_ORDER, at(segment, 45), 'PV1-45 discharge date/time is before PV1-44 admit date/time');
  }

  const clearedFields: readonly [VisitField, readonly number[]][] = [
    ['location', [3]],
    ['admissionMethod', [4]],
    ['participant', [7, 8, 9, 17]],
    ['serviceType', [10]],
    ['admitSource', [14]],
    ['dischargeMethod', [36]],
    ['dischargeDestination', [37]],
    ['admitTime', [44]],
    ['dischargeTime', [45]],
  ];
  for (const [field, seqs] of clearedFields) if (clearedBy(segment, ...seqs)) facts.cleared.push(field);

  const visitKey = simpleText(segment, 19) || undefined;
  return { visitKey, patientClass: simpleText(segment, 2).toUpperCase(), facts };
}
