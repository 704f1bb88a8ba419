import type { Identifier, Organization, Reference } from '@medplum/fhirtypes';
import { idFor, localSystem, meta, type MapScope } from '../context';
import type { ResourceSet } from '../resource-set';
import { component, type FieldValue } from './field';

/**
 * XON extended composite name and id for organisations (v2.5.1 §2.A.84): name ^ type ^ id number
 * (v2.3) ^ check digit ^ scheme ^ assigning authority ^ id type ^ facility ^ name representation ^
 * organisation identifier (10, v2.5 onwards).
 */
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** ODS organisation codes: 3 to 6 upper-case letters and digits (trusts 'RXX', sites 'RXX01', practices 'A81001'). */
const ODS_CODE = /^[A-Z0-9]{3,6}$/;

/** An organisation code as an identifier: ODS when it looks like one, else the sender's own. */
export function organisationIdentifier(scope: MapScope, code: string): Identifier {
  return ODS_CODE.test(code) ? { system: ODS_SYSTEM, value: code } : { system: localSystem.organization(scope.source), value: code };
}

/** An Organization (id from its code) in the set; name alone gives a display-only reference. */
export function organisationFromCode(scope: MapScope, code: string, name: string, resources: ResourceSet): Reference<Organization> | undefined {
  if (!code) return name ? { display: name } : undefined;
  const identifier = organisationIdentifier(scope, code);
  const organization: Organization & { id: string } = {
    resourceType: 'Organization',
    id: idFor(scope, 'Organization', `${identifier.system ?? ''}|${code}`),
    meta: meta(scope),
    identifier: [identifier],
    ...(name ? { name } : {}),
  };
  // The identifier rides on the reference too: the access rules match organisations by identifier
  // (a hospital's staff have a relationship through the encounters of their own trust).
  const { reference } = resources.add(organization);
  return name ? { reference, identifier, display: name } : { reference, identifier };
}

export function organisationFromXon(scope: MapScope, value: FieldValue, resources: ResourceSet): Reference<Organization> | undefined {
  const code = component(value, 10) || component(value, 3);
  return organisationFromCode(scope, code, component(value, 1), resources);
}
