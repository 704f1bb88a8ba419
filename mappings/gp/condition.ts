import type { Condition, Extension } from '@medplum/fhirtypes';
import { sensitivitiesOf } from '../security/sensitive-codes';
import { compact, mapReference, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import { STU3_EXT, UKCORE_EXT, UKCORE_PROFILE } from './extensions';
import type { Stu3Condition } from './stu3';
import { CONDITION_CLINICAL_SYSTEM, CONDITION_VERIFICATION_SYSTEM, r4CodeableConcept, r4CodeableConcepts, statusConcept } from './terminology';

/** STU3 condition-clinical → R4 condition-clinical (R4 adds relapse; every STU3 code exists in R4). */
export const CONDITION_CLINICAL_STATUS = { active: 'active', recurrence: 'recurrence', inactive: 'inactive', remission: 'remission', resolved: 'resolved' } as const;
/** STU3 condition-ver-status → R4 condition-ver-status; STU3 `unknown` has no R4 code and is left out. */
export const CONDITION_VERIFICATION_STATUS = { provisional: 'provisional', differential: 'differential', confirmed: 'confirmed', refuted: 'refuted', 'entered-in-error': 'entered-in-error' } as const;

/** The problem-header extensions, each STU3 URL with its UK Core twin; their references are rewritten. */
function problemExtensions(scope: GpScope, c: Stu3Condition, at: string): Extension[] {
  const out: Extension[] = [];
  (c.extension ?? []).forEach((e, i) => {
    const path = `${at}.extension[${String(i)}]`;
    switch (e.url) {
      case STU3_EXT.PROBLEM_SIGNIFICANCE:
        if (e.valueCode === 'major' || e.valueCode === 'minor') out.push({ url: UKCORE_EXT.PROBLEM_SIGNIFICANCE, valueCode: e.valueCode });
        else scope.issues.warning('code-invalid', `${path}.valueCode`, 'Problem significance must be major or minor; left out');
        break;
      case STU3_EXT.ACTUAL_PROBLEM: {
        const ref = mapReference(scope, e.valueReference, `${path}.valueReference`, ['Condition', 'Observation', 'AllergyIntolerance', 'MedicationRequest', 'MedicationStatement', 'Immunization', 'DiagnosticReport', 'ServiceRequest', 'DocumentReference']);
        if (ref) out.push({ url: UKCORE_EXT.ACTUAL_PROBLEM, valueReference: ref });
        break;
      }
      case STU3_EXT.RELATED_CLINICAL_CONTENT: {
        const ref = mapReference(scope, e.valueReference, `${path}.valueReference`);
        if (ref) out.push({ url: UKCORE_EXT.RELATED_CLINICAL_CONTENT, valueReference: ref });
        break;
      }
      case STU3_EXT.RELATED_PROBLEM_HEADER: {
        const type = e.extension?.find((p) => p.url === 'type')?.valueCode;
        const target = mapReference(scope, e.extension?.find((p) => p.url === 'target')?.valueReference, `${path}.extension`, ['Condition']);
        if (target) out.push({ url: UKCORE_EXT.RELATED_PROBLEM_HEADER, extension: [...(type ? [{ url: 'type', valueCode: type }] : []), { url: 'target', valueReference: target }] });
        break;
      }
      default:
        break;
    }
  });
  return out;
}

/**
 * CareConnect-GPC-ProblemHeader-Condition-1 → UK Core Condition. clinicalStatus and
 * verificationStatus become CodeableConcepts; assertedDate → recordedDate; context → encounter;
 * abatementBoolean (gone in R4) is reported and left out; significance, the actual problem,
 * related problems and related clinical content become their UK Core extensions.
 */
export function mapCondition(scope: GpScope, c: Stu3Condition, at: string, id: string): Condition & { id: string } {
  reportUnmappedExtensions(scope, c.extension, [STU3_EXT.PROBLEM_SIGNIFICANCE, STU3_EXT.ACTUAL_PROBLEM, STU3_EXT.RELATED_CLINICAL_CONTENT, STU3_EXT.RELATED_PROBLEM_HEADER], at);
  const clinical = c.clinicalStatus ? CONDITION_CLINICAL_STATUS[c.clinicalStatus as keyof typeof CONDITION_CLINICAL_STATUS] : undefined;
  if (c.clinicalStatus && !clinical) scope.issues.warning('code-invalid', `${at}.clinicalStatus`, 'clinicalStatus not in the STU3 value set; left out');
  const verification = c.verificationStatus ? CONDITION_VERIFICATION_STATUS[c.verificationStatus as keyof typeof CONDITION_VERIFICATION_STATUS] : undefined;
  if (c.verificationStatus && !verification) scope.issues.information('code-invalid', `${at}.verificationStatus`, 'verificationStatus has no R4 equivalent (STU3 unknown); left out');
  if (c.abatementBoolean !== undefined) scope.issues.information('informational', `${at}.abatementBoolean`, 'abatementBoolean has no R4 element; the clinical status says whether the problem has ended');
  const extension = problemExtensions(scope, c, at);
  // R4 con-4: an abated condition is inactive, resolved or in remission.
  const abated = c.abatementDateTime ?? c.abatementAge ?? c.abatementPeriod ?? c.abatementRange ?? c.abatementString;
  const clinicalStatus = clinical === 'active' && abated !== undefined ? 'inactive' : clinical;
  if (clinicalStatus !== clinical) scope.issues.warning('business-rule', `${at}.clinicalStatus`, 'Active problem with an abatement; recorded as inactive (R4 con-4)');
  return compact<Condition & { id: string }>({
    resourceType: 'Condition',
    id,
    meta: metaFor(scope, c, sensitivitiesOf([c.code, ...(c.bodySite ?? [])]), UKCORE_PROFILE.CONDITION),
    extension: extension.length ? extension : undefined,
    identifier: c.identifier,
    clinicalStatus: clinicalStatus && verification !== 'entered-in-error' ? statusConcept(CONDITION_CLINICAL_SYSTEM, clinicalStatus) : undefined,
    verificationStatus: verification ? statusConcept(CONDITION_VERIFICATION_SYSTEM, verification) : undefined,
    category: r4CodeableConcepts(c.category),
    severity: r4CodeableConcept(c.severity),
    code: r4CodeableConcept(c.code),
    bodySite: r4CodeableConcepts(c.bodySite),
    subject: subjectOf(scope, c.subject, `${at}.subject`),
    encounter: mapReference(scope, c.context, `${at}.context`, ['Encounter']),
    onsetDateTime: c.onsetDateTime,
    onsetAge: c.onsetAge,
    onsetPeriod: c.onsetPeriod,
    onsetRange: c.onsetRange,
    onsetString: c.onsetString,
    abatementDateTime: c.abatementDateTime,
    abatementAge: c.abatementAge,
    abatementPeriod: c.abatementPeriod,
    abatementRange: c.abatementRange,
    abatementString: c.abatementString,
    recordedDate: c.assertedDate,
    asserter: mapReference(scope, c.asserter, `${at}.asserter`, ['Practitioner', 'PractitionerRole', 'Patient', 'RelatedPerson']),
    note: c.note,
  });
}
