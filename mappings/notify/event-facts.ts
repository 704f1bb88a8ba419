import type { Encounter, Location, Resource } from '@medplum/fhirtypes';
import { PLANNED_END_EXTENSION } from '../hl7v2/tables/encounter';
import { readLabels } from '../security/labels';
import { partyOf } from './recipients';

/**
 * What the notification service keeps about an event beside its recipients: where it happened
 * (hospital and ward, for the timeliness measure), the expected discharge date (pending discharge),
 * and whether any of its resources is labelled restricted or very restricted, in which case the
 * default access check tells nobody about it. Pure.
 */
export interface EventFacts {
  readonly hospital: string | undefined;
  readonly ward: string | undefined;
  readonly expectedDischarge: string | undefined;
  readonly restricted: boolean;
}

/** Restricted (R) or very restricted (V) confidentiality on any of the event's resources. */
export function anyRestricted(resources: readonly (Resource | undefined)[]): boolean {
  return resources.some((r) => r !== undefined && readLabels(r.meta).confidentiality !== 'N');
}

/** The ward of a location: the location itself when it is a ward, else the ward it is part of. */
function wardName(location: Location | undefined, lookup: (reference: string) => Resource | undefined): string | undefined {
  if (!location) return undefined;
  const isWard = location.physicalType?.coding?.some((c) => c.code === 'wa') ?? false;
  if (isWard || !location.partOf?.reference) return location.name;
  const parent = lookup(location.partOf.reference) as Location | undefined;
  return parent?.name ?? location.name;
}

export function eventFacts(encounter: Encounter | undefined, otherResources: readonly (Resource | undefined)[], lookup: (reference: string) => Resource | undefined, fallbackHospital: string): EventFacts {
  const stays = encounter?.location ?? [];
  const lastStay = stays[stays.length - 1];
  const location = lastStay?.location.reference ? (lookup(lastStay.location.reference) as Location | undefined) : undefined;
  const hospitalParty = partyOf(encounter?.serviceProvider, lookup) ?? partyOf(location?.managingOrganization, lookup);
  const hospital = hospitalParty ? hospitalParty.slice(hospitalParty.indexOf('|') + 1) : fallbackHospital;
  const expected = encounter?.extension?.find((e) => e.url === PLANNED_END_EXTENSION)?.valueDateTime;
  return {
    hospital,
    ward: wardName(location, lookup) ?? lastStay?.location.display,
    expectedDischarge: expected,
    restricted: anyRestricted([encounter, ...otherResources]),
  };
}
