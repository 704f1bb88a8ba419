import type { ServiceRequest } from '@medplum/fhirtypes';
import { sensitivitiesOf } from '../security/sensitive-codes';
import { compact, mapReference, mapReferences, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import { SERVICE_REQUEST_INTENT, SERVICE_REQUEST_PRIORITY, SERVICE_REQUEST_STATUS } from './service-request-status';
import type { Stu3ProcedureRequest } from './stu3';
import { r4CodeableConcept, r4CodeableConcepts } from './terminology';

/**
 * CareConnect-GPC-ProcedureRequest-1 (GP Connect diary entries: recalls, reminders, planned
 * procedures) → ServiceRequest. performer (0..1) → performer (0..*); requester.agent → requester;
 * context → encounter; status suspended → on-hold, cancelled → revoked.
 */
export function mapProcedureRequest(scope: GpScope, p: Stu3ProcedureRequest, at: string, id: string): ServiceRequest & { id: string } {
  reportUnmappedExtensions(scope, p.extension, [], at);
  const status = p.status ? SERVICE_REQUEST_STATUS[p.status] : undefined;
  if (!status) scope.issues.warning(p.status ? 'code-invalid' : 'required', `${at}.status`, 'status missing or not in the STU3 value set; recorded as unknown');
  const intent = p.intent ? SERVICE_REQUEST_INTENT[p.intent] : undefined;
  if (!intent) scope.issues.warning(p.intent ? 'code-invalid' : 'required', `${at}.intent`, 'intent missing or not in the STU3 value set; recorded as plan');
  if (!p.code) scope.issues.error('required', `${at}.code`, 'ProcedureRequest without a code');
  const performer = mapReference(scope, p.performer, `${at}.performer`, ['Practitioner', 'PractitionerRole', 'Organization', 'CareTeam', 'HealthcareService', 'Patient', 'Device', 'RelatedPerson']);
  return compact<ServiceRequest & { id: string }>({
    resourceType: 'ServiceRequest',
    id,
    meta: metaFor(scope, p, sensitivitiesOf([p.code, ...(p.reasonCode ?? [])])),
    identifier: p.identifier,
    basedOn: mapReferences(scope, p.basedOn, `${at}.basedOn`, ['CarePlan', 'ServiceRequest', 'MedicationRequest']),
    status: status ?? 'unknown',
    intent: intent ?? 'plan',
    category: r4CodeableConcepts(p.category),
    priority: p.priority ? SERVICE_REQUEST_PRIORITY[p.priority] : undefined,
    code: r4CodeableConcept(p.code),
    subject: subjectOf(scope, p.subject, `${at}.subject`),
    encounter: mapReference(scope, p.context, `${at}.context`, ['Encounter']),
    occurrenceDateTime: p.occurrenceDateTime,
    occurrencePeriod: p.occurrencePeriod,
    authoredOn: p.authoredOn,
    requester: mapReference(scope, p.requester?.agent, `${at}.requester.agent`, ['Practitioner', 'PractitionerRole', 'Organization', 'Patient', 'RelatedPerson', 'Device']),
    performer: performer ? [performer] : undefined,
    reasonCode: r4CodeableConcepts(p.reasonCode),
    reasonReference: mapReferences(scope, p.reasonReference, `${at}.reasonReference`, ['Condition', 'Observation', 'DiagnosticReport', 'DocumentReference']),
    supportingInfo: mapReferences(scope, p.supportingInfo, `${at}.supportingInfo`),
    note: p.note,
  });
}
