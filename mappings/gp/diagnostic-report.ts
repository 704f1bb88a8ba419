import type { DiagnosticReport } from '@medplum/fhirtypes';
import { sensitivitiesOf } from '../security/sensitive-codes';
import { compact, mapReference, mapReferences, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import type { Stu3DiagnosticReport } from './stu3';
import { r4CodeableConcept, r4CodeableConcepts } from './terminology';

/** STU3 and R4 share these codes. */
export const DIAGNOSTIC_REPORT_STATUS = {
  registered: 'registered',
  partial: 'partial',
  preliminary: 'preliminary',
  final: 'final',
  amended: 'amended',
  corrected: 'corrected',
  appended: 'appended',
  cancelled: 'cancelled',
  'entered-in-error': 'entered-in-error',
  unknown: 'unknown',
} as const;

/**
 * CareConnect-GPC-DiagnosticReport-1 (a pathology report) → DiagnosticReport. category 0..1 →
 * 0..*; performer (role, actor) → performer (the actor); context → encounter; codedDiagnosis →
 * conclusionCode.
 */
export function mapDiagnosticReport(scope: GpScope, d: Stu3DiagnosticReport, at: string, id: string): DiagnosticReport & { id: string } {
  reportUnmappedExtensions(scope, d.extension, [], at);
  const status = d.status ? DIAGNOSTIC_REPORT_STATUS[d.status as keyof typeof DIAGNOSTIC_REPORT_STATUS] : undefined;
  if (!status) scope.issues.warning(d.status ? 'code-invalid' : 'required', `${at}.status`, 'status missing or not in the STU3 value set; recorded as unknown');
  return compact<DiagnosticReport & { id: string }>({
    resourceType: 'DiagnosticReport',
    id,
    meta: metaFor(scope, d, sensitivitiesOf([d.code, ...(d.codedDiagnosis ?? [])])),
    identifier: d.identifier,
    basedOn: mapReferences(scope, d.basedOn, `${at}.basedOn`, ['ServiceRequest', 'CarePlan', 'ImmunizationRecommendation', 'MedicationRequest', 'NutritionOrder']),
    status: status ?? 'unknown',
    category: d.category ? [r4CodeableConcept(d.category)] : undefined,
    code: r4CodeableConcept(d.code) ?? { text: 'Laboratory report' },
    subject: subjectOf(scope, d.subject, `${at}.subject`),
    encounter: mapReference(scope, d.context, `${at}.context`, ['Encounter']),
    effectiveDateTime: d.effectiveDateTime,
    effectivePeriod: d.effectivePeriod,
    issued: d.issued,
    performer: d.performer?.map((p, i) => mapReference(scope, p.actor, `${at}.performer[${String(i)}].actor`, ['Practitioner', 'PractitionerRole', 'Organization', 'CareTeam'])).filter((r) => r !== undefined),
    specimen: mapReferences(scope, d.specimen, `${at}.specimen`, ['Specimen']),
    result: mapReferences(scope, d.result, `${at}.result`, ['Observation']),
    conclusion: d.conclusion,
    conclusionCode: r4CodeableConcepts(d.codedDiagnosis),
    presentedForm: d.presentedForm,
  });
}
