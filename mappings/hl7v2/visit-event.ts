import type { CodeableConcept, Coding, EncounterParticipant, Identifier, Location, Organization, Patient, Reference } from '@medplum/fhirtypes';
import type { VisitTrigger } from './tables/events';

/**
 * What one message says about one visit, as plain JSON: the gateway stores every applied
 * VisitEvent of a visit and folds them (visit-fold.ts) into the Encounter, whatever order they
 * arrived in.
 */

/** The visit details a message may set (present), delete (`""`: listed in `cleared`) or leave alone (absent). */
export const VISIT_FIELDS = [
  'class',
  'location',
  'participant',
  'serviceType',
  'admitSource',
  'admissionMethod',
  'dischargeMethod',
  'dischargeDestination',
  'reasonCode',
  'admitTime',
  'dischargeTime',
  'expectedAdmission',
  'expectedDischarge',
  'serviceProvider',
] as const;
export type VisitField = (typeof VISIT_FIELDS)[number];

export interface VisitFacts {
  readonly encounterId: string;
  /** The sender's system URI (meta.source). */
  readonly source: string;
  /** PV1-19 visit number as an identifier under `${source}/visit-number`. */
  readonly visitNumber: Identifier;
  readonly subject: Reference<Patient>;
  /** PV1-2 via table 0004. */
  readonly class?: Coding;
  /** PV1-3: where the patient is (or, for A05/A14, will be). */
  readonly location?: Reference<Location>;
  /** PV1-7 attending, PV1-17 admitting, PV1-8 referring, PV1-9 consulting. */
  readonly participant?: EncounterParticipant[];
  /** PV1-10 hospital service (the sender's specialty / treatment function code). */
  readonly serviceType?: CodeableConcept;
  /** PV1-14 → UK Core source of admission. */
  readonly admitSource?: CodeableConcept;
  /** PV1-4 → UK Core admission method. */
  readonly admissionMethod?: CodeableConcept;
  /** PV1-36 → UK Core discharge method. */
  readonly dischargeMethod?: CodeableConcept;
  /** PV1-37 → UK Core discharge destination. */
  readonly dischargeDestination?: CodeableConcept;
  /** PV2-3 admit reason. */
  readonly reasonCode?: CodeableConcept[];
  /** PV1-44 admit date/time (FHIR dateTime). */
  readonly admitTime?: string;
  /** PV1-45 discharge date/time (FHIR dateTime). */
  readonly dischargeTime?: string;
  /** PV2-8 expected admit date/time. */
  readonly expectedAdmission?: string;
  /** PV2-9 expected discharge date/time. */
  readonly expectedDischarge?: string;
  /** MSH-4 sending facility. */
  readonly serviceProvider?: Reference<Organization>;
  /** Fields the message deleted with `""`. */
  readonly cleared: readonly VisitField[];
}

export interface VisitEvent {
  /** MSH-10 of the message (unique per sender). */
  readonly messageId: string;
  readonly trigger: VisitTrigger;
  /** When it happened (EVN-6, else EVN-2, else MSH-7), UTC instant: the fold orders by this. */
  readonly eventTime: string;
  /** The same moment as the sender wrote it (FHIR dateTime with the sender's offset): what the Encounter shows. */
  readonly eventDateTime: string;
  /** MSH-7, UTC instant (the tie-break after eventTime). */
  readonly messageTime: string;
  readonly facts: VisitFacts;
}
