import type { Observation, ObservationReferenceRange } from '@medplum/fhirtypes';
import { sensitivitiesOf } from '../security/sensitive-codes';
import { compact, mapReference, mapReferences, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import type { Stu3Observation } from './stu3';
import { r4CodeableConcept, r4CodeableConcepts } from './terminology';

/** STU3 and R4 share these codes. */
export const OBSERVATION_STATUS = {
  registered: 'registered',
  preliminary: 'preliminary',
  final: 'final',
  amended: 'amended',
  corrected: 'corrected',
  cancelled: 'cancelled',
  'entered-in-error': 'entered-in-error',
  unknown: 'unknown',
} as const;

function referenceRange(r: NonNullable<Stu3Observation['referenceRange']>[number]): ObservationReferenceRange {
  return compact({ low: r.low, high: r.high, type: r4CodeableConcept(r.type), appliesTo: r4CodeableConcepts(r.appliesTo), age: r.age, text: r.text });
}

/**
 * CareConnect-GPC-Observation-1 (uncategorised data, test results, test groups, filing comments,
 * blood pressure) → Observation. context → encounter; comment → note; interpretation 0..1 → 0..*;
 * related (type has-member) → hasMember, (derived-from, sequel-to, qualified-by…) → derivedFrom.
 */
export function mapObservation(scope: GpScope, o: Stu3Observation, at: string, id: string): Observation & { id: string } {
  reportUnmappedExtensions(scope, o.extension, [], at);
  const status = o.status ? OBSERVATION_STATUS[o.status as keyof typeof OBSERVATION_STATUS] : undefined;
  if (!status) scope.issues.warning(o.status ? 'code-invalid' : 'required', `${at}.status`, 'status missing or not in the STU3 value set; recorded as unknown');
  if (!o.code) scope.issues.error('required', `${at}.code`, 'Observation without a code');
  const members = (o.related ?? []).map((r, i) => ({ r, i })).filter(({ r }) => r.type === 'has-member');
  const derived = (o.related ?? []).map((r, i) => ({ r, i })).filter(({ r }) => r.type !== 'has-member');
  return compact<Observation & { id: string }>({
    resourceType: 'Observation',
    id,
    meta: metaFor(scope, o, sensitivitiesOf([o.code, o.valueCodeableConcept])),
    identifier: o.identifier,
    basedOn: mapReferences(scope, o.basedOn, `${at}.basedOn`, ['ServiceRequest', 'MedicationRequest', 'CarePlan', 'DeviceRequest', 'ImmunizationRecommendation', 'NutritionOrder']),
    status: status ?? 'unknown',
    category: r4CodeableConcepts(o.category),
    code: r4CodeableConcept(o.code) ?? { text: 'not recorded' },
    subject: subjectOf(scope, o.subject, `${at}.subject`),
    encounter: mapReference(scope, o.context, `${at}.context`, ['Encounter']),
    effectiveDateTime: o.effectiveDateTime,
    effectivePeriod: o.effectivePeriod,
    issued: o.issued,
    performer: mapReferences(scope, o.performer, `${at}.performer`, ['Practitioner', 'PractitionerRole', 'Organization', 'CareTeam', 'Patient', 'RelatedPerson']),
    valueQuantity: o.valueQuantity,
    valueCodeableConcept: r4CodeableConcept(o.valueCodeableConcept),
    valueString: o.valueString,
    valueBoolean: o.valueBoolean,
    valueRange: o.valueRange,
    valueRatio: o.valueRatio,
    valueSampledData: o.valueSampledData,
    valueTime: o.valueTime,
    valueDateTime: o.valueDateTime,
    valuePeriod: o.valuePeriod,
    dataAbsentReason: r4CodeableConcept(o.dataAbsentReason),
    interpretation: o.interpretation ? [r4CodeableConcept(o.interpretation)] : undefined,
    note: o.comment ? [{ text: o.comment }] : undefined,
    bodySite: r4CodeableConcept(o.bodySite),
    method: r4CodeableConcept(o.method),
    specimen: mapReference(scope, o.specimen, `${at}.specimen`, ['Specimen']),
    referenceRange: o.referenceRange?.map(referenceRange),
    hasMember: members.map(({ r, i }) => mapReference(scope, r.target, `${at}.related[${String(i)}].target`, ['Observation', 'QuestionnaireResponse', 'MolecularSequence'])).filter((r) => r !== undefined),
    derivedFrom: derived.map(({ r, i }) => mapReference(scope, r.target, `${at}.related[${String(i)}].target`)).filter((r) => r !== undefined),
    component: o.component?.map((c) =>
      compact({
        code: r4CodeableConcept(c.code),
        valueQuantity: c.valueQuantity,
        valueCodeableConcept: r4CodeableConcept(c.valueCodeableConcept),
        valueString: c.valueString,
        valueRange: c.valueRange,
        valueRatio: c.valueRatio,
        dataAbsentReason: r4CodeableConcept(c.dataAbsentReason),
        interpretation: c.interpretation ? [r4CodeableConcept(c.interpretation)] : undefined,
        referenceRange: c.referenceRange?.map((r) => compact({ low: r.low, high: r.high, text: r.text })),
      }),
    ),
  });
}
