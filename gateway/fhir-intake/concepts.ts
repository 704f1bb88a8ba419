import type { CodeableConcept, Resource } from '@medplum/fhirtypes';

/**
 * Every coded concept in a resource (code, category, reasonCode, valueCodeableConcept, a Coding
 * on its own…), contained resources included: what the sensitive-code lists
 * (mappings/security) are matched against to label a resource. Narrative is not read.
 */
export function resourceConcepts(resource: Resource): CodeableConcept[] {
  const out: CodeableConcept[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const obj = value as Record<string, unknown>;
    if (Array.isArray(obj['coding'])) {
      out.push(obj);
      return;
    }
    // A Coding on its own (Quantity has system and code too, but a value).
    if (typeof obj['system'] === 'string' && typeof obj['code'] === 'string' && !('value' in obj)) {
      out.push({ coding: [{ system: obj['system'], code: obj['code'] }] });
      return;
    }
    for (const [key, child] of Object.entries(obj)) if (key !== 'text' && key !== 'meta') visit(child);
  };
  visit(resource);
  return out;
}
