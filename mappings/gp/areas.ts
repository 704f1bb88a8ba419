import type { List, MedicationRequest, Reference, Resource } from '@medplum/fhirtypes';
import { CONFIDENTIALITY_SYSTEM, readLabels, securityLabels, SENSITIVITY_CODING, stricter, type Confidentiality, type Sensitivity } from '../security/labels';

/*
 * What hangs together in a structured record: the items each clinical area's list speaks for (for
 * re-import), and the labels a consultation's structure lists take from what they hold.
 */

export const refOf = (r: Resource & { id: string }): string => `${r.resourceType}/${r.id}`;

/**
 * A consultation's structure lists (consultation, topic, category: the Lists with an encounter)
 * carry clinicians' free-text titles, which can name what the entries are about; they take the
 * labels of everything under them, so a topic titled after a sensitive problem is withheld with it.
 */
export function labelConsultationLists(resources: (Resource & { id: string })[]): void {
  const byRef = new Map(resources.map((r) => [refOf(r), r]));
  const labelsUnder = (ref: string, seen: Set<string>): { level: Confidentiality; sensitivities: Sensitivity[] } => {
    const r = byRef.get(ref);
    if (!r || seen.has(ref)) return { level: 'N', sensitivities: [] };
    seen.add(ref);
    const own = readLabels(r.meta);
    let level = own.confidentiality;
    const sensitivities = new Set(own.sensitivities);
    if (r.resourceType === 'List') {
      for (const e of r.entry ?? []) {
        const under = labelsUnder(e.item.reference ?? '', seen);
        level = stricter(level, under.level);
        for (const x of under.sensitivities) sensitivities.add(x);
      }
    }
    return { level, sensitivities: [...sensitivities] };
  };
  for (const r of resources) {
    if (r.resourceType !== 'List' || !r.encounter) continue;
    const { level, sensitivities } = labelsUnder(refOf(r), new Set());
    const ours = new Set([CONFIDENTIALITY_SYSTEM, ...Object.values(SENSITIVITY_CODING).map((c) => `${c.system ?? ''}|${c.code ?? ''}`)]);
    const keep = (r.meta?.security ?? []).filter((c) => !ours.has(c.system ?? '') && !ours.has(`${c.system ?? ''}|${c.code ?? ''}`));
    r.meta = { ...r.meta, security: securityLabels(sensitivities, level, keep) };
  }
}

/** The items an area's list speaks for: its entries, and what hangs off them (plans and issues, results, consultation contents). */
export function areaItems(entries: readonly string[], byRef: ReadonlyMap<string, Resource & { id: string }>, all: readonly (Resource & { id: string })[]): string[] {
  const out = new Set<string>();
  const queue = [...entries];
  const basedOnIndex = new Map<string, string[]>();
  for (const r of all) {
    if (r.resourceType !== 'MedicationRequest') continue;
    for (const b of (r as MedicationRequest).basedOn ?? []) if (b.reference) basedOnIndex.set(b.reference, [...(basedOnIndex.get(b.reference) ?? []), refOf(r)]);
  }
  const listsByEncounter = new Map<string, string[]>();
  for (const r of all) {
    const enc = r.resourceType === 'List' ? (r as List).encounter?.reference : undefined;
    if (enc) listsByEncounter.set(enc, [...(listsByEncounter.get(enc) ?? []), refOf(r)]);
  }
  while (queue.length) {
    const ref = queue.pop() as string;
    if (out.has(ref)) continue;
    out.add(ref);
    const r = byRef.get(ref);
    if (!r) continue;
    const next: (Reference | undefined)[] = [];
    switch (r.resourceType) {
      case 'MedicationStatement':
        next.push(...(r.basedOn ?? []));
        break;
      case 'MedicationRequest':
        queue.push(...(basedOnIndex.get(ref) ?? []));
        break;
      case 'DiagnosticReport':
        next.push(...(r.result ?? []), ...(r.specimen ?? []));
        break;
      case 'Observation':
        next.push(...(r.hasMember ?? []));
        break;
      case 'Encounter':
        queue.push(...(listsByEncounter.get(ref) ?? []));
        break;
      case 'List':
        next.push(...(r.entry ?? []).map((e) => e.item));
        break;
      default:
        break;
    }
    for (const n of next) if (n?.reference && byRef.has(n.reference)) queue.push(n.reference);
  }
  return [...out].sort();
}
