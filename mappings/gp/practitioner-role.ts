import type { PractitionerRole } from '@medplum/fhirtypes';
import { compact, mapReference, mapReferences, metaFor, reportUnmappedExtensions, type GpScope } from './context';
import type { Stu3PractitionerRole } from './stu3';
import { r4CodeableConcepts } from './terminology';

/** CareConnect-GPC-PractitionerRole-1 → PractitionerRole (SDS job role codes kept as sent). */
export function mapPractitionerRole(scope: GpScope, r: Stu3PractitionerRole, at: string, id: string): PractitionerRole & { id: string } {
  reportUnmappedExtensions(scope, r.extension, [], at);
  return compact<PractitionerRole & { id: string }>({
    resourceType: 'PractitionerRole',
    id,
    meta: metaFor(scope, r, []),
    identifier: r.identifier,
    active: r.active,
    period: r.period,
    practitioner: mapReference(scope, r.practitioner, `${at}.practitioner`, ['Practitioner']),
    organization: mapReference(scope, r.organization, `${at}.organization`, ['Organization']),
    code: r4CodeableConcepts(r.code),
    specialty: r4CodeableConcepts(r.specialty),
    location: mapReferences(scope, r.location, `${at}.location`, ['Location']),
    telecom: r.telecom,
  });
}
