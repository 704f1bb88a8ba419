import type { ServiceRequest } from '@medplum/fhirtypes';
import { sensitivitiesOf } from '../security/sensitive-codes';
import { compact, mapReference, mapReferences, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import { SERVICE_REQUEST_INTENT, SERVICE_REQUEST_PRIORITY, SERVICE_REQUEST_STATUS } from './service-request-status';
import type { Stu3ReferralRequest } from './stu3';
import { r4CodeableConcept, r4CodeableConcepts } from './terminology';

const PERFORMER_TYPES = ['Practitioner', 'PractitionerRole', 'Organization', 'CareTeam', 'HealthcareService', 'Patient', 'Device', 'RelatedPerson'];

/**
 * CareConnect-GPC-ReferralRequest-1 → ServiceRequest (R4 has no ReferralRequest). type → category;
 * serviceRequested (0..*) → code (0..1: the first; others go to orderDetail); specialty →
 * performerType; recipient → performer (each with its identifier, the reference contract);
 * requester.agent → requester; context → encounter; description → note; status suspended →
 * on-hold, cancelled → revoked. The UBRN and other identifiers are kept.
 */
export function mapReferralRequest(scope: GpScope, r: Stu3ReferralRequest, at: string, id: string): ServiceRequest & { id: string } {
  reportUnmappedExtensions(scope, r.extension, [], at);
  const status = r.status ? SERVICE_REQUEST_STATUS[r.status] : undefined;
  if (!status) scope.issues.warning(r.status ? 'code-invalid' : 'required', `${at}.status`, 'status missing or not in the STU3 value set; recorded as unknown');
  const intent = r.intent ? SERVICE_REQUEST_INTENT[r.intent] : undefined;
  if (!intent) scope.issues.warning(r.intent ? 'code-invalid' : 'required', `${at}.intent`, 'intent missing or not in the STU3 value set; recorded as order');
  const [first, ...rest] = r.serviceRequested ?? [];
  if (r.requester?.onBehalfOf) scope.issues.information('informational', `${at}.requester.onBehalfOf`, 'requester.onBehalfOf has no R4 element; the agent is kept as requester');
  const note = [...(r.description ? [{ text: r.description }] : []), ...(r.note ?? [])];
  return compact<ServiceRequest & { id: string }>({
    resourceType: 'ServiceRequest',
    id,
    meta: metaFor(scope, r, sensitivitiesOf([...(r.serviceRequested ?? []), ...(r.reasonCode ?? []), r.specialty])),
    identifier: r.identifier,
    basedOn: mapReferences(scope, r.basedOn, `${at}.basedOn`, ['CarePlan', 'ServiceRequest', 'MedicationRequest']),
    replaces: mapReferences(scope, r.replaces, `${at}.replaces`, ['ServiceRequest']),
    requisition: r.groupIdentifier,
    status: status ?? 'unknown',
    intent: intent ?? 'order',
    category: r.type ? [r4CodeableConcept(r.type)] : undefined,
    priority: r.priority ? SERVICE_REQUEST_PRIORITY[r.priority] : undefined,
    code: r4CodeableConcept(first),
    orderDetail: rest.length ? rest.map((c) => r4CodeableConcept(c)) : undefined,
    subject: subjectOf(scope, r.subject, `${at}.subject`),
    encounter: mapReference(scope, r.context, `${at}.context`, ['Encounter']),
    occurrenceDateTime: r.occurrenceDateTime,
    occurrencePeriod: r.occurrencePeriod,
    authoredOn: r.authoredOn,
    requester: mapReference(scope, r.requester?.agent, `${at}.requester.agent`, ['Practitioner', 'PractitionerRole', 'Organization', 'Patient', 'RelatedPerson', 'Device']),
    performerType: r4CodeableConcept(r.specialty),
    performer: mapReferences(scope, r.recipient, `${at}.recipient`, PERFORMER_TYPES),
    reasonCode: r4CodeableConcepts(r.reasonCode),
    reasonReference: mapReferences(scope, r.reasonReference, `${at}.reasonReference`, ['Condition', 'Observation', 'DiagnosticReport', 'DocumentReference']),
    supportingInfo: mapReferences(scope, r.supportingInfo, `${at}.supportingInfo`),
    note: note.length ? note : undefined,
  });
}
