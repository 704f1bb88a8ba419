import type { Organization } from '@medplum/fhirtypes';
import { compact, mapReference, metaFor, reportUnmappedExtensions, type GpScope } from './context';
import type { Stu3Organization } from './stu3';
import { r4CodeableConcepts } from './terminology';

/** CareConnect-GPC-Organization-1 → Organization (no element changed between STU3 and R4). */
export function mapOrganization(scope: GpScope, o: Stu3Organization, at: string, id: string): Organization & { id: string } {
  reportUnmappedExtensions(scope, o.extension, [], at);
  return compact<Organization & { id: string }>({
    resourceType: 'Organization',
    id,
    meta: metaFor(scope, o, []),
    identifier: o.identifier,
    active: o.active,
    type: r4CodeableConcepts(o.type),
    name: o.name,
    telecom: o.telecom,
    address: o.address,
    partOf: mapReference(scope, o.partOf, `${at}.partOf`, ['Organization']),
  });
}
