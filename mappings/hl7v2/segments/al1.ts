import type { AllergyIntolerance, AllergyIntoleranceReaction, Patient, Reference } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import { idFor, meta, type MapScope } from '../context';
import { ceToCodeableConcept, readCe } from '../datatypes/ce';
import { firstOf, repetitionsOf, simpleText } from '../datatypes/field';
import { readTimestamp } from '../datatypes/ts-field';
import { at, Hl7ErrorCode, IssueReason } from '../issues';
import { ALLERGEN_TYPE, ALLERGY_CLINICAL_STATUS, ALLERGY_SEVERITY } from '../tables/clinical';
import { reportUnmappedFields } from './coverage';

/**
 * AL1 patient allergy information (v2.5.1 §3.4.6) → AllergyIntolerance. Its id is the patient's
 * key and the allergen (code, else text), so the same allergy in the next message updates in place.
 */
const HANDLED = new Set([1, 2, 3, 4, 5, 6]);

export function mapAl1(scope: MapScope, segment: Hl7Segment, patientKey: string, patient: Reference<Patient>): (AllergyIntolerance & { id: string }) | undefined {
  reportUnmappedFields(scope, segment, HANDLED);
  const allergenValue = firstOf(segment, 3);
  const allergen = allergenValue && readCe(allergenValue);
  if (!allergen) {
    scope.issues.warning(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.REQUIRED_FIELD_MISSING, at(segment, 3), 'AL1-3 allergen is empty; the allergy is not mapped');
    return undefined;
  }
  const typeCode = simpleText(segment, 2).toUpperCase();
  const type = ALLERGEN_TYPE[typeCode];
  if (typeCode && !type) scope.issues.unknownCode(at(segment, 2), 'allergen type (table 0127)');
  const severityCode = simpleText(segment, 4).toUpperCase();
  const severity = ALLERGY_SEVERITY[severityCode];
  if (severityCode && !severity) scope.issues.unknownCode(at(segment, 4), 'allergy severity (table 0128)');
  const manifestations = repetitionsOf(segment, 5)
    .map((v) => segment.text(5, 1, 1, v.rep).trim())
    .filter((t) => t !== '')
    .map((text) => ({ text }));
  const reaction: AllergyIntoleranceReaction[] = manifestations.length ? [{ manifestation: manifestations, ...(severity?.severity ? { severity: severity.severity } : {}) }] : [];
  const identified = readTimestamp(scope, segment, 6, 'AL1-6 identification date');
  const allergenKey = allergen.code ? `${allergen.codingSystem}|${allergen.code}` : `text|${allergen.text.toLowerCase()}`;
  return {
    resourceType: 'AllergyIntolerance',
    id: idFor(scope, 'AllergyIntolerance', `${patientKey}|${allergenKey}`),
    meta: meta(scope),
    clinicalStatus: ALLERGY_CLINICAL_STATUS,
    ...(type?.type ? { type: type.type } : {}),
    ...(type?.category ? { category: type.category } : {}),
    ...(severity ? { criticality: severity.criticality } : {}),
    code: ceToCodeableConcept(scope, allergen, 'allergen'),
    patient,
    ...(identified ? { recordedDate: identified.dateTime } : {}),
    ...(reaction.length ? { reaction } : {}),
  };
}
