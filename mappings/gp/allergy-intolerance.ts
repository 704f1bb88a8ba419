import type { AllergyIntolerance, Extension } from '@medplum/fhirtypes';
import { sensitivitiesOf } from '../security/sensitive-codes';
import { compact, extensionOf, mapReference, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import { STU3_EXT, UKCORE_EXT, UKCORE_PROFILE } from './extensions';
import type { Stu3AllergyIntolerance } from './stu3';
import { ALLERGY_CLINICAL_SYSTEM, ALLERGY_VERIFICATION_SYSTEM, r4CodeableConcept, statusConcept } from './terminology';

/** STU3 clinicalStatus codes (a code) → R4 allergyintolerance-clinical (a CodeableConcept); the same three codes. */
export const ALLERGY_CLINICAL_STATUS = { active: 'active', inactive: 'inactive', resolved: 'resolved' } as const;
/** STU3 verificationStatus → R4 allergyintolerance-verification; the same four codes. */
export const ALLERGY_VERIFICATION_STATUS = { unconfirmed: 'unconfirmed', confirmed: 'confirmed', refuted: 'refuted', 'entered-in-error': 'entered-in-error' } as const;
const CATEGORIES = ['food', 'medication', 'environment', 'biologic'] as const;
const CRITICALITY = ['low', 'high', 'unable-to-assess'] as const;
const SEVERITY = ['mild', 'moderate', 'severe'] as const;

function pick<T extends string>(allowed: readonly T[], value: string | undefined): T | undefined {
  return (allowed as readonly string[]).includes(value ?? '') ? (value as T) : undefined;
}

/**
 * CareConnect-GPC-AllergyIntolerance-1 → UK Core AllergyIntolerance. Ended allergies keep their end
 * (UK Core AllergyIntoleranceEnd: endDate, reasonEnded); assertedDate becomes recordedDate; the GP
 * Connect encounter extension becomes R4's own `encounter`.
 */
export function mapAllergyIntolerance(scope: GpScope, a: Stu3AllergyIntolerance, at: string, id: string): AllergyIntolerance & { id: string } {
  reportUnmappedExtensions(scope, a.extension, [STU3_EXT.ALLERGY_END, STU3_EXT.ENCOUNTER], at);
  const verification = a.verificationStatus ? ALLERGY_VERIFICATION_STATUS[a.verificationStatus as keyof typeof ALLERGY_VERIFICATION_STATUS] : undefined;
  if (a.verificationStatus && !verification) scope.issues.warning('code-invalid', `${at}.verificationStatus`, 'verificationStatus not in the STU3 value set; left out');
  let clinical = a.clinicalStatus ? ALLERGY_CLINICAL_STATUS[a.clinicalStatus as keyof typeof ALLERGY_CLINICAL_STATUS] : undefined;
  if (a.clinicalStatus && !clinical) scope.issues.warning('code-invalid', `${at}.clinicalStatus`, 'clinicalStatus not in the STU3 value set');
  const end = extensionOf(a.extension, STU3_EXT.ALLERGY_END);
  if (!clinical && verification !== 'entered-in-error') {
    // R4 ait-1 requires a clinical status unless entered in error; GP Connect requires it too.
    clinical = end ? 'resolved' : 'active';
    scope.issues.warning('required', `${at}.clinicalStatus`, `clinicalStatus missing; recorded as ${clinical} (${end ? 'it has an end' : 'no end recorded'})`);
  }
  if (verification === 'entered-in-error') clinical = undefined;
  const endParts = (end?.extension ?? []).flatMap((e): Extension[] =>
    e.url === 'endDate' && e.valueDateTime ? [{ url: 'endDate', valueDateTime: e.valueDateTime }] : e.url === 'reasonEnded' && e.valueString ? [{ url: 'reasonEnded', valueString: e.valueString }] : [],
  );
  // CareConnect and UK Core both require the allergen code.
  if (!a.code) scope.issues.error('required', `${at}.code`, 'AllergyIntolerance without a code (required by CareConnect and UK Core)');
  const encounter = extensionOf(a.extension, STU3_EXT.ENCOUNTER);
  const categories = (a.category ?? []).map((c) => pick(CATEGORIES, c)).filter((c): c is (typeof CATEGORIES)[number] => c !== undefined);
  return compact<AllergyIntolerance & { id: string }>({
    resourceType: 'AllergyIntolerance',
    id,
    meta: metaFor(scope, a, sensitivitiesOf([a.code, ...(a.reaction ?? []).flatMap((r) => [r.substance, ...r.manifestation])]), UKCORE_PROFILE.ALLERGY_INTOLERANCE),
    extension: endParts.length ? [{ url: UKCORE_EXT.ALLERGY_END, extension: endParts }] : undefined,
    identifier: a.identifier,
    clinicalStatus: clinical ? statusConcept(ALLERGY_CLINICAL_SYSTEM, clinical) : undefined,
    verificationStatus: verification ? statusConcept(ALLERGY_VERIFICATION_SYSTEM, verification) : undefined,
    type: a.type === 'allergy' || a.type === 'intolerance' ? a.type : undefined,
    category: categories.length ? categories : undefined,
    criticality: pick(CRITICALITY, a.criticality),
    code: r4CodeableConcept(a.code),
    patient: subjectOf(scope, a.patient, `${at}.patient`),
    encounter: mapReference(scope, encounter?.valueReference, `${at}.extension`, ['Encounter']),
    onsetDateTime: a.onsetDateTime,
    onsetPeriod: a.onsetPeriod,
    onsetString: a.onsetString,
    recordedDate: a.assertedDate,
    recorder: mapReference(scope, a.recorder, `${at}.recorder`, ['Practitioner', 'PractitionerRole', 'Patient']),
    asserter: mapReference(scope, a.asserter, `${at}.asserter`, ['Practitioner', 'PractitionerRole', 'Patient', 'RelatedPerson']),
    lastOccurrence: a.lastOccurrence,
    note: a.note,
    reaction: a.reaction?.map((r) =>
      compact({
        substance: r4CodeableConcept(r.substance),
        manifestation: r.manifestation.map((m) => r4CodeableConcept(m)),
        description: r.description,
        onset: r.onset,
        severity: pick(SEVERITY, r.severity),
        exposureRoute: r4CodeableConcept(r.exposureRoute),
        note: r.note,
      }),
    ),
  });
}
