import type { Location, Reference } from '@medplum/fhirtypes';
import { idFor, localSystem, meta, type MapScope } from '../context';
import type { ResourceSet } from '../resource-set';
import { component, type FieldValue } from './field';
import { readHdComponent } from './hd';
import { organisationFromCode } from './xon';

/**
 * PL person location (v2.5.1 §2.A.53): point of care (ward, clinic, department) ^ room ^ bed ^
 * facility (HD) ^ location status ^ person location type ^ building ^ floor ^ description.
 * The ward is one Location; a room or bed within it is another, partOf the ward. The encounter
 * points at the most specific.
 */
const PHYSICAL_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/location-physical-type';

function physicalType(code: 'wa' | 'ro' | 'bd', display: string): Location['physicalType'] {
  return { coding: [{ system: PHYSICAL_TYPE_SYSTEM, code, display }] };
}

export function locationFromPl(scope: MapScope, value: FieldValue, resources: ResourceSet): Reference<Location> | undefined {
  const pointOfCare = component(value, 1);
  const room = component(value, 2);
  const bed = component(value, 3);
  const facility = readHdComponent(value, 4).namespaceId;
  const description = component(value, 9);
  if (!pointOfCare && !room && !bed) return description ? { display: description } : undefined;

  const managingOrganization = facility ? organisationFromCode(scope, facility, '', resources) : undefined;
  const common = { meta: meta(scope), mode: 'instance' as const, ...(managingOrganization ? { managingOrganization } : {}) };
  const wardKey = [facility, pointOfCare].join('|');
  let ward: Reference<Location> | undefined;
  if (pointOfCare) {
    ward = resources.add<Location & { id: string }>({
      resourceType: 'Location',
      id: idFor(scope, 'Location', wardKey),
      ...common,
      identifier: [{ system: localSystem.location(scope.source), value: wardKey }],
      name: room || bed ? pointOfCare : description || pointOfCare,
      physicalType: physicalType('wa', 'Ward'),
    });
    if (!room && !bed) return { reference: ward.reference, display: description || pointOfCare };
  }
  const key = [facility, pointOfCare, room, bed].join('|');
  const name = description || [pointOfCare, room && `room ${room}`, bed && `bed ${bed}`].filter((p) => p).join(', ');
  const place = resources.add<Location & { id: string }>({
    resourceType: 'Location',
    id: idFor(scope, 'Location', key),
    ...common,
    identifier: [{ system: localSystem.location(scope.source), value: key }],
    name,
    physicalType: bed ? physicalType('bd', 'Bed') : physicalType('ro', 'Room'),
    ...(ward ? { partOf: ward } : {}),
  });
  return { reference: place.reference, display: name };
}
