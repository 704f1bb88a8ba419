import type { Organization, Practitioner, Reference } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { clearedBy, repetitionsOf } from '../datatypes/field';
import { practitionerFromXcn } from '../datatypes/xcn';
import { organisationFromXon } from '../datatypes/xon';
import type { ResourceSet } from '../resource-set';
import { reportUnmappedFields } from './coverage';

/**
 * PD1 patient additional demographic (v2.5.1 §3.4.10): the registered GP practice (PD1-3, an ODS
 * code) and the registered GP (PD1-4, national GP code) → Patient.generalPractitioner.
 */
const HANDLED = new Set([3, 4]);

export interface RegisteredGp {
  readonly generalPractitioner: Reference<Organization | Practitioner>[];
  readonly cleared: string[];
}

export function mapPd1(scope: MapScope, segment: Hl7Segment, resources: ResourceSet): RegisteredGp {
  reportUnmappedFields(scope, segment, HANDLED);
  const practices = repetitionsOf(segment, 3)
    .map((v) => organisationFromXon(scope, v, resources))
    .filter((r): r is Reference<Organization> => r !== undefined);
  const gps = repetitionsOf(segment, 4)
    .map((v) => practitionerFromXcn(scope, v, resources))
    .filter((r): r is Reference<Practitioner> => r !== undefined);
  return { generalPractitioner: [...practices, ...gps], cleared: clearedBy(segment, 3, 4) ? ['Patient.generalPractitioner'] : [] };
}
