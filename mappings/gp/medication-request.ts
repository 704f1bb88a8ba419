import type { CodeableConcept, Extension, MedicationRequest } from '@medplum/fhirtypes';
import { sensitivitiesOf } from '../security/sensitive-codes';
import { compact, extensionOf, mapReference, mapReferences, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import { mapDosage } from './dosage';
import { STU3_EXT, UKCORE_EXT } from './extensions';
import type { Stu3MedicationRequest } from './stu3';
import { r4CodeableConcept, r4CodeableConcepts } from './terminology';

/** STU3 and R4 share these status codes. */
export const MEDICATION_REQUEST_STATUS = {
  active: 'active',
  'on-hold': 'on-hold',
  cancelled: 'cancelled',
  completed: 'completed',
  'entered-in-error': 'entered-in-error',
  stopped: 'stopped',
  draft: 'draft',
  unknown: 'unknown',
} as const;
/** GP Connect: `plan` is the authorisation (acute or repeat), `order` is one issue of it. */
export const MEDICATION_REQUEST_INTENT = { proposal: 'proposal', plan: 'plan', order: 'order', 'instance-order': 'instance-order' } as const;

function repeatInformation(ext: Extension | undefined): { allowed?: number; extension?: Extension } {
  if (!ext) return {};
  const part = (url: string): Extension | undefined => ext.extension?.find((e) => e.url === url);
  const allowedPart = part('numberOfRepeatPrescriptionsAllowed');
  const allowed = allowedPart?.valueUnsignedInt ?? allowedPart?.valuePositiveInt;
  const issuedPart = part('numberOfRepeatPrescriptionsIssued');
  const issued = issuedPart?.valueUnsignedInt ?? issuedPart?.valuePositiveInt;
  const expiry = part('authorisationExpiryDate')?.valueDateTime;
  const parts: Extension[] = [
    ...(issued !== undefined ? [{ url: 'numberOfPrescriptionsIssued', valueUnsignedInt: issued }] : []),
    ...(expiry ? [{ url: 'authorisationExpiryDate', valueDateTime: expiry }] : []),
  ];
  return { ...(allowed !== undefined ? { allowed } : {}), ...(parts.length ? { extension: { url: UKCORE_EXT.REPEAT_INFORMATION, extension: parts } } : {}) };
}

/**
 * CareConnect-GPC-MedicationRequest-1 → MedicationRequest (plans and issues). STU3 requester
 * (agent + onBehalfOf) becomes the R4 requester (the agent); context → encounter; the GP Connect
 * repeat information becomes dispenseRequest.numberOfRepeatsAllowed (GP Connect counts the issues
 * allowed; UK Core reads numberOfRepeatsAllowed the same way) and the UK Core
 * MedicationRepeatInformation extension (issued so far, authorisation expiry); the status reason
 * extension becomes R4 statusReason.
 */
export function mapMedicationRequest(scope: GpScope, r: Stu3MedicationRequest, at: string, id: string, medicationConcepts: readonly (CodeableConcept | undefined)[]): MedicationRequest & { id: string } {
  reportUnmappedExtensions(scope, r.extension, [STU3_EXT.REPEAT_INFORMATION, STU3_EXT.PRESCRIPTION_TYPE, STU3_EXT.MEDICATION_STATUS_REASON], at);
  const status = r.status ? MEDICATION_REQUEST_STATUS[r.status as keyof typeof MEDICATION_REQUEST_STATUS] : undefined;
  if (!status) scope.issues.warning(r.status ? 'code-invalid' : 'required', `${at}.status`, 'status missing or not in the STU3 value set; recorded as unknown');
  const intent = r.intent ? MEDICATION_REQUEST_INTENT[r.intent as keyof typeof MEDICATION_REQUEST_INTENT] : undefined;
  if (!intent) scope.issues.error(r.intent ? 'code-invalid' : 'required', `${at}.intent`, 'intent missing or not in the STU3 value set (GP Connect uses plan and order)');
  const repeat = repeatInformation(extensionOf(r.extension, STU3_EXT.REPEAT_INFORMATION));
  const type = extensionOf(r.extension, STU3_EXT.PRESCRIPTION_TYPE)?.valueCodeableConcept;
  const statusExtension = extensionOf(r.extension, STU3_EXT.MEDICATION_STATUS_REASON);
  const statusReason = statusExtension?.extension?.find((e) => e.url === 'statusReason')?.valueCodeableConcept;
  if (statusExtension?.extension?.some((e) => e.url === 'statusChangeDate')) scope.issues.information('informational', `${at}.extension`, 'The status change date has no R4 or UK Core element; left out');
  const extension: Extension[] = [...(repeat.extension ? [repeat.extension] : []), ...(type ? [{ url: UKCORE_EXT.PRESCRIPTION_TYPE, valueCodeableConcept: r4CodeableConcept(type) }] : [])];
  if (r.requester?.onBehalfOf) scope.issues.information('informational', `${at}.requester.onBehalfOf`, 'requester.onBehalfOf has no R4 element; the agent is kept as requester');
  if (!r.medicationReference && !r.medicationCodeableConcept) scope.issues.error('required', `${at}.medication[x]`, 'MedicationRequest names no medication');
  const d = r.dispenseRequest;
  const dispenseRequest = compact({
    validityPeriod: d?.validityPeriod,
    numberOfRepeatsAllowed: repeat.allowed ?? d?.numberOfRepeatsAllowed,
    quantity: d?.quantity,
    expectedSupplyDuration: d?.expectedSupplyDuration,
    performer: mapReference(scope, d?.performer, `${at}.dispenseRequest.performer`, ['Organization']),
  });
  return compact<MedicationRequest & { id: string }>({
    resourceType: 'MedicationRequest',
    id,
    meta: metaFor(scope, r, sensitivitiesOf([r.medicationCodeableConcept, ...medicationConcepts, ...(r.reasonCode ?? [])])),
    extension: extension.length ? extension : undefined,
    identifier: r.identifier,
    status: status ?? 'unknown',
    statusReason: r4CodeableConcept(statusReason),
    intent: intent ?? 'order',
    category: r.category ? [r4CodeableConcept(r.category)] : undefined,
    priority: r.priority === 'routine' || r.priority === 'urgent' || r.priority === 'asap' || r.priority === 'stat' ? r.priority : undefined,
    medicationCodeableConcept: r4CodeableConcept(r.medicationCodeableConcept),
    medicationReference: mapReference(scope, r.medicationReference, `${at}.medicationReference`, ['Medication']),
    subject: subjectOf(scope, r.subject, `${at}.subject`),
    encounter: mapReference(scope, r.context, `${at}.context`, ['Encounter']),
    supportingInformation: mapReferences(scope, r.supportingInformation, `${at}.supportingInformation`),
    authoredOn: r.authoredOn,
    requester: mapReference(scope, r.requester?.agent, `${at}.requester.agent`, ['Practitioner', 'PractitionerRole', 'Organization', 'Patient', 'RelatedPerson', 'Device']),
    recorder: mapReference(scope, r.recorder, `${at}.recorder`, ['Practitioner', 'PractitionerRole']),
    reasonCode: r4CodeableConcepts(r.reasonCode),
    reasonReference: mapReferences(scope, r.reasonReference, `${at}.reasonReference`, ['Condition', 'Observation']),
    basedOn: mapReferences(scope, r.basedOn, `${at}.basedOn`, ['MedicationRequest', 'CarePlan', 'ServiceRequest', 'ImmunizationRecommendation']),
    groupIdentifier: r.groupIdentifier,
    note: r.note,
    dosageInstruction: r.dosageInstruction?.map((x, i) => mapDosage(scope, x, `${at}.dosageInstruction[${String(i)}]`)),
    dispenseRequest: Object.keys(dispenseRequest).length ? dispenseRequest : undefined,
    substitution: r.substitution?.allowed !== undefined ? compact({ allowedBoolean: r.substitution.allowed, reason: r4CodeableConcept(r.substitution.reason) }) : undefined,
    priorPrescription: mapReference(scope, r.priorPrescription, `${at}.priorPrescription`, ['MedicationRequest']),
  });
}
