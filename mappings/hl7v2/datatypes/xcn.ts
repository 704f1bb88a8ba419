import type { HumanName, Identifier, Practitioner, Reference } from '@medplum/fhirtypes';
import { idFor, localSystem, meta, type MapScope } from '../context';
import type { ResourceSet } from '../resource-set';
import { component, type FieldValue } from './field';
import { readHdComponent } from './hd';

/**
 * XCN extended composite id and name for persons (v2.5.1 §2.A.87): id ^ family ^ given ^ further
 * given ^ suffix ^ prefix ^ degree ^ source table ^ assigning authority (HD) ^ name type ^ check
 * digit ^ check scheme ^ identifier type code ^ assigning facility ...
 */

/** Assigning authorities (XCN-9) or identifier types (XCN-13) of UK national staff registers. */
export const STAFF_IDENTIFIER_SYSTEMS: Readonly<Record<string, string>> = {
  GMC: 'https://fhir.hl7.org.uk/Id/gmc-number',
  GMP: 'https://fhir.hl7.org.uk/Id/gmp-number',
  GNC: 'https://fhir.hl7.org.uk/Id/gmp-number',
  NMC: 'https://fhir.hl7.org.uk/Id/nmc-number',
  HCPC: 'https://fhir.hl7.org.uk/Id/hcpc-number',
  GPHC: 'https://fhir.hl7.org.uk/Id/gphc-number',
  SDS: 'https://fhir.nhs.uk/Id/sds-user-id',
};

/** A GP's national code (GMP/GNC: 'G' and seven digits) is recognisable without an authority. */
const GP_NATIONAL_CODE = /^G\d{7}$/;

function staffIdentifier(scope: MapScope, value: FieldValue): Identifier | undefined {
  const id = component(value, 1, 1);
  if (!id) return undefined;
  const authority = readHdComponent(value, 9).namespaceId.toUpperCase();
  const type = component(value, 13).toUpperCase();
  const system = STAFF_IDENTIFIER_SYSTEMS[authority] ?? STAFF_IDENTIFIER_SYSTEMS[type] ?? (GP_NATIONAL_CODE.test(id) ? STAFF_IDENTIFIER_SYSTEMS.GMP : undefined);
  return { system: system ?? localSystem.staff(scope.source), value: id };
}

/**
 * A clinician named in an XCN: a Practitioner (id from its identifier) in the set, and the
 * reference to it. Without an identifier there is no stable id, so only a display is kept.
 */
export function practitionerFromXcn(scope: MapScope, value: FieldValue, resources: ResourceSet): Reference<Practitioner> | undefined {
  const identifier = staffIdentifier(scope, value);
  const family = component(value, 2, 1);
  const given = [component(value, 3), component(value, 4)].filter((g) => g !== '');
  const prefix = component(value, 6);
  const suffix = component(value, 5);
  const hasName = family !== '' || given.length > 0;
  const display = [prefix, ...given, family].filter((p) => p !== '').join(' ');
  if (!identifier) return hasName ? { display } : undefined;
  const practitioner: Practitioner & { id: string } = {
    resourceType: 'Practitioner',
    id: idFor(scope, 'Practitioner', `${identifier.system ?? ''}|${identifier.value ?? ''}`),
    meta: meta(scope),
    identifier: [identifier],
  };
  if (hasName) {
    const name: HumanName = {};
    if (family) name.family = family;
    if (given.length) name.given = given;
    if (prefix) name.prefix = [prefix];
    if (suffix) name.suffix = [suffix];
    practitioner.name = [name];
  }
  const reference = resources.add(practitioner);
  return hasName ? { reference: reference.reference, display } : reference;
}
