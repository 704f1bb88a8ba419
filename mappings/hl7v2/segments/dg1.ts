import type { Condition, Encounter, Patient, Reference } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import { idFor, meta, type MapScope } from '../context';
import { ceToCodeableConcept, readCe } from '../datatypes/ce';
import { firstOf, simpleText } from '../datatypes/field';
import { readTimestamp } from '../datatypes/ts-field';
import { practitionerFromXcn } from '../datatypes/xcn';
import { at, Hl7ErrorCode, IssueReason } from '../issues';
import type { ResourceSet } from '../resource-set';
import { DIAGNOSIS_TYPE, ENCOUNTER_DIAGNOSIS_CATEGORY } from '../tables/clinical';
import { reportUnmappedFields } from './coverage';

/**
 * DG1 diagnosis (v2.5.1 §6.5.2) → Condition (an encounter diagnosis). Its id is the diagnosis
 * identifier (DG1-20) when sent, else the visit (or patient) key and the code.
 * DG1-2 coding method and DG1-4 description are the deprecated forms of DG1-3.
 */
const HANDLED = new Set([1, 2, 3, 4, 5, 6, 16, 20]);

export interface DiagnosisContext {
  readonly ownerKey: string;
  readonly patient: Reference<Patient>;
  readonly encounter: Reference<Encounter> | undefined;
}

export function mapDg1(scope: MapScope, segment: Hl7Segment, context: DiagnosisContext, resources: ResourceSet): (Condition & { id: string }) | undefined {
  reportUnmappedFields(scope, segment, HANDLED);
  const codeValue = firstOf(segment, 3);
  const coded = codeValue && readCe(codeValue);
  const description = simpleText(segment, 4);
  if (!coded && !description) {
    scope.issues.warning(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.REQUIRED_FIELD_MISSING, at(segment, 3), 'DG1-3 diagnosis code is empty; the diagnosis is not mapped');
    return undefined;
  }
  const code = coded ? ceToCodeableConcept(scope, coded, 'diagnosis') : { text: description };
  if (coded && !code.text && description) code.text = description;
  const typeCode = simpleText(segment, 6).toUpperCase();
  const verificationStatus = DIAGNOSIS_TYPE[typeCode];
  if (typeCode && !verificationStatus) scope.issues.unknownCode(at(segment, 6), 'diagnosis type (table 0052)');
  const recorded = readTimestamp(scope, segment, 5, 'DG1-5 diagnosis date/time');
  const clinicianValue = firstOf(segment, 16);
  const asserter = clinicianValue && practitionerFromXcn(scope, clinicianValue, resources);
  const identifier = simpleText(segment, 20);
  const key = identifier ? `DG1-20|${identifier}` : `${context.ownerKey}|${coded ? `${coded.codingSystem}|${coded.code || coded.text}` : `text|${description.toLowerCase()}`}`;
  return {
    resourceType: 'Condition',
    id: idFor(scope, 'Condition', key),
    meta: meta(scope),
    ...(verificationStatus ? { verificationStatus } : {}),
    category: [ENCOUNTER_DIAGNOSIS_CATEGORY],
    code,
    subject: context.patient,
    ...(context.encounter ? { encounter: context.encounter } : {}),
    ...(recorded ? { recordedDate: recorded.dateTime } : {}),
    ...(asserter ? { asserter } : {}),
  };
}
