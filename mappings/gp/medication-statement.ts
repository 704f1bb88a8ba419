import type { CodeableConcept, Extension, MedicationStatement } from '@medplum/fhirtypes';
import { compact, extensionOf, mapReference, mapReferences, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import { mapDosage } from './dosage';
import { STU3_EXT, UKCORE_EXT, UKCORE_PROFILE } from './extensions';
import type { Stu3MedicationStatement } from './stu3';
import { r4CodeableConcept, r4CodeableConcepts } from './terminology';
import { sensitivitiesOf } from '../security/sensitive-codes';

/** STU3 status → R4 (R4 adds unknown and not-taken; the STU3 codes all exist in R4). */
export const MEDICATION_STATEMENT_STATUS = {
  active: 'active',
  completed: 'completed',
  'entered-in-error': 'entered-in-error',
  intended: 'intended',
  stopped: 'stopped',
  'on-hold': 'on-hold',
} as const;

/**
 * CareConnect-GPC-MedicationStatement-1 → UK Core MedicationStatement. STU3 `taken` has no R4
 * element: `n` becomes status not-taken, the rest (GP Connect fixes it to `unk`) is dropped.
 * reasonNotTaken → statusReason; the last issue date and prescribing agency become their UK Core
 * extensions. The medication's codes decide the sensitivity labels (with the Medication resource's).
 */
export function mapMedicationStatement(scope: GpScope, s: Stu3MedicationStatement, at: string, id: string, medicationConcepts: readonly (CodeableConcept | undefined)[]): MedicationStatement & { id: string } {
  reportUnmappedExtensions(scope, s.extension, [STU3_EXT.LAST_ISSUE_DATE, STU3_EXT.PRESCRIBING_AGENCY], at);
  let status: MedicationStatement['status'] = s.status ? MEDICATION_STATEMENT_STATUS[s.status as keyof typeof MEDICATION_STATEMENT_STATUS] : 'unknown';
  if (!s.status) scope.issues.warning('required', `${at}.status`, 'status missing; recorded as unknown');
  else if (!(s.status in MEDICATION_STATEMENT_STATUS)) {
    status = 'unknown';
    scope.issues.warning('code-invalid', `${at}.status`, 'status not in the STU3 value set; recorded as unknown');
  }
  if (s.taken === 'n') status = 'not-taken';
  const extension: Extension[] = [];
  const lastIssue = extensionOf(s.extension, STU3_EXT.LAST_ISSUE_DATE);
  if (lastIssue?.valueDateTime) extension.push({ url: UKCORE_EXT.LAST_ISSUE_DATE, valueDateTime: lastIssue.valueDateTime });
  const agency = extensionOf(s.extension, STU3_EXT.PRESCRIBING_AGENCY);
  if (agency?.valueCodeableConcept) extension.push({ url: UKCORE_EXT.PRESCRIBING_AGENCY, valueCodeableConcept: r4CodeableConcept(agency.valueCodeableConcept) });
  if (!s.medicationReference && !s.medicationCodeableConcept) scope.issues.error('required', `${at}.medication[x]`, 'MedicationStatement names no medication');
  return compact<MedicationStatement & { id: string }>({
    resourceType: 'MedicationStatement',
    id,
    meta: metaFor(scope, s, sensitivitiesOf([s.medicationCodeableConcept, ...medicationConcepts, ...(s.reasonCode ?? [])]), UKCORE_PROFILE.MEDICATION_STATEMENT),
    extension: extension.length ? extension : undefined,
    identifier: s.identifier,
    basedOn: mapReferences(scope, s.basedOn, `${at}.basedOn`, ['MedicationRequest', 'CarePlan', 'ServiceRequest']),
    partOf: mapReferences(scope, s.partOf, `${at}.partOf`),
    status,
    statusReason: r4CodeableConcepts(s.reasonNotTaken),
    category: r4CodeableConcept(s.category),
    medicationCodeableConcept: r4CodeableConcept(s.medicationCodeableConcept),
    medicationReference: mapReference(scope, s.medicationReference, `${at}.medicationReference`, ['Medication']),
    subject: subjectOf(scope, s.subject, `${at}.subject`),
    context: mapReference(scope, s.context, `${at}.context`, ['Encounter', 'EpisodeOfCare']),
    effectiveDateTime: s.effectiveDateTime,
    effectivePeriod: s.effectivePeriod,
    dateAsserted: s.dateAsserted,
    informationSource: mapReference(scope, s.informationSource, `${at}.informationSource`),
    derivedFrom: mapReferences(scope, s.derivedFrom, `${at}.derivedFrom`),
    reasonCode: r4CodeableConcepts(s.reasonCode),
    reasonReference: mapReferences(scope, s.reasonReference, `${at}.reasonReference`),
    note: s.note,
    dosage: s.dosage?.map((d, i) => mapDosage(scope, d, `${at}.dosage[${String(i)}]`)),
  });
}
