import type { Encounter, Resource } from '@medplum/fhirtypes';
import { encounterIsOpen } from './relationship';

/**
 * "Latest encounters" (specs/access-and-consent.md, data categories): the last `count` by start,
 * and any open one. Planned, cancelled and entered-in-error encounters are not "latest".
 */
const NOT_HAPPENED = new Set(['planned', 'cancelled', 'entered-in-error', 'unknown']);

export function latestEncounterIds(record: readonly Resource[], now: Date, count: number): string[] {
  const encounters = record.filter((r): r is Encounter => r.resourceType === 'Encounter' && r.id !== undefined);
  const start = (e: Encounter): number => {
    const t = Date.parse(e.period?.start ?? '');
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  const happened = encounters.filter((e) => !NOT_HAPPENED.has(e.status)).sort((a, b) => start(b) - start(a) || (a.id ?? '').localeCompare(b.id ?? ''));
  const ids = new Set(happened.slice(0, count).map((e) => e.id ?? ''));
  for (const e of encounters) if (encounterIsOpen(e, now)) ids.add(e.id ?? '');
  return [...ids].sort();
}
