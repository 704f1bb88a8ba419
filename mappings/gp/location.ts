import type { Location } from '@medplum/fhirtypes';
import { compact, mapReference, metaFor, reportUnmappedExtensions, type GpScope } from './context';
import type { Stu3Location } from './stu3';
import { r4CodeableConcept } from './terminology';

const LOCATION_STATUS: Readonly<Record<string, Location['status']>> = { active: 'active', suspended: 'suspended', inactive: 'inactive' };

/** CareConnect-GPC-Location-1 → Location: STU3 type (0..1) becomes R4 type (0..*). */
export function mapLocation(scope: GpScope, l: Stu3Location, at: string, id: string): Location & { id: string } {
  reportUnmappedExtensions(scope, l.extension, [], at);
  const status = l.status ? LOCATION_STATUS[l.status] : undefined;
  if (l.status && !status) scope.issues.warning('code-invalid', `${at}.status`, 'Location status not in the STU3 value set; left out');
  return compact<Location & { id: string }>({
    resourceType: 'Location',
    id,
    meta: metaFor(scope, l, []),
    identifier: l.identifier,
    status,
    name: l.name,
    alias: l.alias,
    description: l.description,
    type: l.type ? [r4CodeableConcept(l.type)] : undefined,
    telecom: l.telecom,
    address: l.address,
    managingOrganization: mapReference(scope, l.managingOrganization, `${at}.managingOrganization`, ['Organization']),
  });
}
