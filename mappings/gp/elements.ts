import type { GpIssueList } from './issues';
import type { Stu3Resource } from './stu3';

/**
 * The top-level STU3 elements each resource mapper takes (besides resourceType, id, meta,
 * extension and identifier, which every one handles). Anything else a GP system sends is reported
 * as not mapped, so nothing is dropped silently: STU3 elements with no R4 home (MedicationRequest
 * definition, Observation valueAttachment), narrative, and elements GP Connect does not use.
 */
export const MAPPED_ELEMENTS: Readonly<Record<string, readonly string[]>> = {
  Patient: ['active', 'name', 'telecom', 'gender', 'birthDate', 'deceasedBoolean', 'deceasedDateTime', 'address', 'maritalStatus', 'multipleBirthBoolean', 'multipleBirthInteger', 'contact', 'communication', 'generalPractitioner', 'managingOrganization'],
  Organization: ['active', 'type', 'name', 'telecom', 'address', 'partOf'],
  Practitioner: ['active', 'name', 'telecom', 'address', 'gender', 'communication'],
  PractitionerRole: ['active', 'period', 'practitioner', 'organization', 'code', 'specialty', 'location', 'telecom'],
  Location: ['status', 'name', 'alias', 'description', 'type', 'telecom', 'address', 'managingOrganization'],
  AllergyIntolerance: ['clinicalStatus', 'verificationStatus', 'type', 'category', 'criticality', 'code', 'patient', 'onsetDateTime', 'onsetPeriod', 'onsetString', 'assertedDate', 'recorder', 'asserter', 'lastOccurrence', 'note', 'reaction'],
  Medication: ['code', 'status', 'isBrand', 'form', 'ingredient', 'package'],
  MedicationStatement: ['basedOn', 'partOf', 'context', 'status', 'category', 'medicationCodeableConcept', 'medicationReference', 'effectiveDateTime', 'effectivePeriod', 'dateAsserted', 'informationSource', 'subject', 'derivedFrom', 'taken', 'reasonNotTaken', 'reasonCode', 'reasonReference', 'note', 'dosage'],
  MedicationRequest: ['basedOn', 'groupIdentifier', 'status', 'intent', 'category', 'priority', 'medicationCodeableConcept', 'medicationReference', 'subject', 'context', 'supportingInformation', 'authoredOn', 'requester', 'recorder', 'reasonCode', 'reasonReference', 'note', 'dosageInstruction', 'dispenseRequest', 'substitution', 'priorPrescription'],
  Condition: ['clinicalStatus', 'verificationStatus', 'category', 'severity', 'code', 'bodySite', 'subject', 'context', 'onsetDateTime', 'onsetAge', 'onsetPeriod', 'onsetRange', 'onsetString', 'abatementDateTime', 'abatementAge', 'abatementBoolean', 'abatementPeriod', 'abatementRange', 'abatementString', 'assertedDate', 'asserter', 'note'],
  Immunization: ['status', 'notGiven', 'vaccineCode', 'patient', 'encounter', 'date', 'primarySource', 'reportOrigin', 'location', 'manufacturer', 'lotNumber', 'expirationDate', 'site', 'route', 'doseQuantity', 'practitioner', 'note', 'explanation', 'vaccinationProtocol'],
  Observation: ['basedOn', 'status', 'category', 'code', 'subject', 'context', 'effectiveDateTime', 'effectivePeriod', 'issued', 'performer', 'valueQuantity', 'valueCodeableConcept', 'valueString', 'valueBoolean', 'valueRange', 'valueRatio', 'valueSampledData', 'valueTime', 'valueDateTime', 'valuePeriod', 'dataAbsentReason', 'interpretation', 'comment', 'bodySite', 'method', 'specimen', 'referenceRange', 'related', 'component'],
  DiagnosticReport: ['basedOn', 'status', 'category', 'code', 'subject', 'context', 'effectiveDateTime', 'effectivePeriod', 'issued', 'performer', 'specimen', 'result', 'conclusion', 'codedDiagnosis', 'presentedForm'],
  Specimen: ['accessionIdentifier', 'status', 'type', 'subject', 'receivedTime', 'parent', 'request', 'collection', 'note'],
  Encounter: ['status', 'class', 'type', 'priority', 'subject', 'episodeOfCare', 'participant', 'appointment', 'period', 'length', 'reason', 'location', 'serviceProvider'],
  ReferralRequest: ['basedOn', 'replaces', 'groupIdentifier', 'status', 'intent', 'type', 'priority', 'serviceRequested', 'subject', 'context', 'occurrenceDateTime', 'occurrencePeriod', 'authoredOn', 'requester', 'specialty', 'recipient', 'reasonCode', 'reasonReference', 'description', 'supportingInfo', 'note'],
  ProcedureRequest: ['basedOn', 'status', 'intent', 'priority', 'category', 'code', 'subject', 'context', 'occurrenceDateTime', 'occurrencePeriod', 'authoredOn', 'requester', 'performer', 'reasonCode', 'reasonReference', 'supportingInfo', 'note'],
  DocumentReference: ['masterIdentifier', 'status', 'docStatus', 'type', 'class', 'subject', 'created', 'indexed', 'author', 'custodian', 'description', 'securityLabel', 'content', 'context'],
  List: ['status', 'mode', 'title', 'code', 'subject', 'encounter', 'date', 'source', 'orderedBy', 'note', 'entry', 'emptyReason'],
};

const ALWAYS = new Set(['resourceType', 'id', 'meta', 'extension', 'identifier']);

export function reportUnmappedElements(issues: GpIssueList, resource: Stu3Resource, path: string): void {
  const mapped = new Set(MAPPED_ELEMENTS[resource.resourceType] ?? []);
  for (const key of Object.keys(resource)) {
    if (ALWAYS.has(key) || mapped.has(key)) continue;
    issues.information('informational', `${path}.${key}`, `${resource.resourceType}.${key} is not mapped`);
  }
}
