import type { Encounter } from '@medplum/fhirtypes';
import { sensitivitiesOf } from '../security/sensitive-codes';
import { compact, mapReference, mapReferences, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import type { Stu3Encounter } from './stu3';
import { r4CodeableConcept, r4CodeableConcepts, r4Coding } from './terminology';

/** STU3 and R4 share these codes. */
export const ENCOUNTER_STATUS = {
  planned: 'planned',
  arrived: 'arrived',
  triaged: 'triaged',
  'in-progress': 'in-progress',
  onleave: 'onleave',
  finished: 'finished',
  cancelled: 'cancelled',
  'entered-in-error': 'entered-in-error',
  unknown: 'unknown',
} as const;

/** R4 Encounter.class is required; GP Connect consultations do not send it. A GP consultation is ambulatory. */
export const GP_CONSULTATION_CLASS = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' } as const;
const LOCATION_STATUS = ['planned', 'active', 'reserved', 'completed'] as const;

/**
 * CareConnect-GPC-Encounter-1 (a consultation) → Encounter. class 0..1 → 1..1 (AMB when absent);
 * reason → reasonCode; the rest keeps its name.
 */
export function mapEncounter(scope: GpScope, e: Stu3Encounter, at: string, id: string): Encounter & { id: string } {
  reportUnmappedExtensions(scope, e.extension, [], at);
  const status = e.status ? ENCOUNTER_STATUS[e.status as keyof typeof ENCOUNTER_STATUS] : undefined;
  if (!status) scope.issues.warning(e.status ? 'code-invalid' : 'required', `${at}.status`, 'status missing or not in the STU3 value set; recorded as unknown');
  return compact<Encounter & { id: string }>({
    resourceType: 'Encounter',
    id,
    meta: metaFor(scope, e, sensitivitiesOf([...(e.type ?? []), ...(e.reason ?? [])])),
    identifier: e.identifier,
    status: status ?? 'unknown',
    class: e.class ? r4Coding(e.class) : { ...GP_CONSULTATION_CLASS },
    type: r4CodeableConcepts(e.type),
    priority: r4CodeableConcept(e.priority),
    subject: subjectOf(scope, e.subject, `${at}.subject`),
    episodeOfCare: mapReferences(scope, e.episodeOfCare, `${at}.episodeOfCare`, ['EpisodeOfCare']),
    participant: e.participant?.map((p, i) =>
      compact({
        type: r4CodeableConcepts(p.type),
        period: p.period,
        individual: mapReference(scope, p.individual, `${at}.participant[${String(i)}].individual`, ['Practitioner', 'PractitionerRole', 'RelatedPerson']),
      }),
    ),
    appointment: mapReferences(scope, e.appointment ? [e.appointment] : undefined, `${at}.appointment`, ['Appointment']),
    period: e.period,
    length: e.length,
    reasonCode: r4CodeableConcepts(e.reason),
    location: e.location
      ?.map((l, i) => ({ l, ref: mapReference(scope, l.location, `${at}.location[${String(i)}].location`, ['Location']) }))
      .filter(({ ref }) => ref !== undefined)
      .map(({ l, ref }) => compact({ location: ref as NonNullable<typeof ref>, status: (LOCATION_STATUS as readonly string[]).includes(l.status ?? '') ? (l.status as (typeof LOCATION_STATUS)[number]) : undefined, period: l.period })),
    serviceProvider: mapReference(scope, e.serviceProvider, `${at}.serviceProvider`, ['Organization']),
  });
}
