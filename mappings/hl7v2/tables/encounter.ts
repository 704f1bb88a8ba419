import type { CodeableConcept, Coding } from '@medplum/fhirtypes';

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** Table 0004 patient class → Encounter.class (v3 ActEncounterCode). */
export const PATIENT_CLASS: Readonly<Record<string, Coding>> = {
  E: { system: ACT_CODE, code: 'EMER', display: 'emergency' },
  I: { system: ACT_CODE, code: 'IMP', display: 'inpatient encounter' },
  B: { system: ACT_CODE, code: 'IMP', display: 'inpatient encounter' },
  O: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
  R: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
  P: { system: ACT_CODE, code: 'PRENC', display: 'pre-admission' },
};

/** Table 0004 codes that say the class is not known (or not applicable, as in A28/A31's dummy PV1). */
export const PATIENT_CLASS_UNKNOWN = new Set(['U', 'N']);

/** Encounter.class is required: when the sender gives none we say so rather than guess. */
export const UNKNOWN_CLASS: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'UNK', display: 'unknown' };

const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

/** PV1 clinician fields → Encounter.participant.type (v3 ParticipationType). */
export const PV1_PARTICIPANT_FIELDS: readonly { readonly seq: number; readonly type: CodeableConcept }[] = [
  { seq: 7, type: { coding: [{ system: PARTICIPATION_TYPE, code: 'ATND', display: 'attender' }] } },
  { seq: 17, type: { coding: [{ system: PARTICIPATION_TYPE, code: 'ADM', display: 'admitter' }] } },
  { seq: 8, type: { coding: [{ system: PARTICIPATION_TYPE, code: 'REF', display: 'referrer' }] } },
  { seq: 9, type: { coding: [{ system: PARTICIPATION_TYPE, code: 'CON', display: 'consultant' }] } },
];

/**
 * R5 Encounter.plannedStartDate / plannedEndDate as R4 cross-version extensions (FHIR R5 §"Extensions
 * for converting between versions"): the expected admission (PV2-8) and discharge (PV2-9) dates.
 */
export const PLANNED_START_EXTENSION = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedStartDate';
export const PLANNED_END_EXTENSION = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate';
