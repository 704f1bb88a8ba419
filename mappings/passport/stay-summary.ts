import type { Composition, Encounter, Resource } from '@medplum/fhirtypes';
import { isDischargeSummaryType } from './codes';

/**
 * Which of the hospital's discharge summary Compositions (FHIR eDischarge documents through the
 * intake) is the one for a stay, when the stay itself came from the HL7 feed. A FHIR sender does
 * not know our Encounter ids, so, best evidence first:
 *   1. the Composition's encounter is the stay;
 *   2. its encounter is an Encounter of the sender that carries one of the stay's identifiers
 *      (the visit number, PV1-19, which both the PAS and the eDischarge system carry);
 *   3. it names no encounter, is a discharge summary, and is dated from the stay's start to two
 *      days after its end (a summary written after the person left).
 * The latest by date wins among several of the same rank. Pure.
 */

const AFTER_END_MS = 2 * 24 * 3600 * 1000;

const identifierKeys = (e: Encounter): Set<string> => new Set((e.identifier ?? []).filter((i) => i.system && i.value).map((i) => `${i.system ?? ''}|${i.value ?? ''}`));

export function stayComposition(record: readonly Resource[], stay: Encounter, exclude: (c: Composition) => boolean = () => false): Composition | undefined {
  const stayRef = `Encounter/${stay.id ?? ''}`;
  const stayKeys = identifierKeys(stay);
  const encounters = new Map(record.filter((r): r is Encounter => r.resourceType === 'Encounter').map((e) => [`Encounter/${e.id ?? ''}`, e]));
  const start = Date.parse(stay.period?.start ?? '');
  const end = Date.parse(stay.period?.end ?? stay.period?.start ?? '');
  const rank = (c: Composition): number | undefined => {
    const ref = c.encounter?.reference;
    if (ref === stayRef) return 1;
    if (ref) {
      const theirs = encounters.get(ref);
      return theirs && [...identifierKeys(theirs)].some((k) => stayKeys.has(k)) ? 2 : undefined;
    }
    const isSummary = isDischargeSummaryType(c.type);
    const at = Date.parse(c.date);
    return isSummary && !Number.isNaN(start) && at >= start && at <= (Number.isNaN(end) ? start : end) + AFTER_END_MS ? 3 : undefined;
  };
  let best: { c: Composition; rank: number } | undefined;
  for (const r of record) {
    if (r.resourceType !== 'Composition' || exclude(r)) continue;
    const k = rank(r);
    if (k === undefined) continue;
    if (!best || k < best.rank || (k === best.rank && r.date > best.c.date)) best = { c: r, rank: k };
  }
  return best?.c;
}
