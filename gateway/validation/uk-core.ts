import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, CodeSystem, OperationOutcomeIssue, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../fhir/definitions';
import { baseCodeBindingIssues } from './base-bindings';
import { compileProfile, validateAgainstProfile, type CompiledProfile, type ProfileSource } from './profile-validator';
import { Terminology } from './terminology';
import ukCorePackage from './uk-core-r4-2.0.0.json';

/**
 * Validation of incoming FHIR R4: the R4 base definitions (@medplum/core validateResource), then,
 * for every UK Core profile a resource claims in `meta.profile`, that profile (see
 * profile-validator.ts for what is and is not checked). The UK Core definitions come from
 * `uk-core-r4-2.0.0.json`, generated from the published package by `npm run uk-core:package`.
 */

export const UK_CORE_PROFILE_BASE = 'https://fhir.hl7.org.uk/StructureDefinition/';

class UkCorePackage implements ProfileSource {
  readonly terminology: Terminology;
  private readonly definitions = new Map<string, StructureDefinition>();
  private readonly compiled = new Map<string, CompiledProfile>();

  constructor(bundle: Bundle) {
    const valueSets = new Map<string, ValueSet>();
    const codeSystems = new Map<string, CodeSystem>();
    for (const entry of bundle.entry ?? []) {
      const r = entry.resource;
      if (r?.resourceType === 'StructureDefinition') this.definitions.set(r.url, r);
      else if (r?.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
      else if (r?.resourceType === 'CodeSystem' && r.url) codeSystems.set(r.url, r);
    }
    this.terminology = new Terminology(valueSets, codeSystems);
  }

  profile(url: string): CompiledProfile | undefined {
    const key = url.split('|')[0] ?? url;
    let compiled = this.compiled.get(key);
    if (!compiled) {
      const definition = this.definitions.get(key);
      if (!definition) return undefined;
      compiled = compileProfile(definition);
      this.compiled.set(key, compiled);
    }
    return compiled;
  }

  resourceProfiles(): string[] {
    return [...this.definitions.values()]
      .filter((sd) => sd.kind === 'resource' && sd.derivation === 'constraint' && sd.url.startsWith(UK_CORE_PROFILE_BASE))
      .map((sd) => sd.url)
      .sort();
  }
}

let shared: UkCorePackage | undefined;
function ukCore(): UkCorePackage {
  shared ??= new UkCorePackage(ukCorePackage as unknown as Bundle);
  return shared;
}

/** The UK Core resource profiles claims are checked against (every profile of UK Core R4 2.0.0). */
export function supportedUkCoreProfiles(): readonly string[] {
  return ukCore().resourceProfiles();
}

/** A resource checked against one UK Core profile (or extension definition) by url. */
export function validateAgainstUkCoreProfile(resource: Resource, url: string): OperationOutcomeIssue[] {
  const pkg = ukCore();
  if (!pkg.profile(url)) return [{ severity: 'error', code: 'not-supported', details: { text: `${url} is not a UK Core R4 2.0.0 profile` }, expression: [`${resource.resourceType}.meta.profile`] }];
  return validateAgainstProfile(pkg, resource as unknown as Record<string, unknown>, url, resource.resourceType);
}

/**
 * The UK Core profiles `meta.profile` claims, each checked. A claim under the UK Core base URL
 * that names no profile we hold is an error (a typo or another version would otherwise pass
 * unchecked); claims of other profiles (national or local) are not ours to judge and pass.
 */
export function validateUkCore(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  (resource.meta?.profile ?? []).forEach((claimed, i) => {
    if (!claimed.startsWith(UK_CORE_PROFILE_BASE)) return;
    const pkg = ukCore();
    const profile = pkg.profile(claimed);
    if (!profile) {
      issues.push({ severity: 'error', code: 'not-supported', details: { text: `meta.profile names ${claimed}, which is not a UK Core R4 2.0.0 profile` }, expression: [`${resource.resourceType}.meta.profile[${String(i)}]`] });
      return;
    }
    if (profile.definition.type !== resource.resourceType) {
      issues.push({ severity: 'error', code: 'structure', details: { text: `meta.profile names ${claimed}, a profile of ${profile.definition.type}, on a ${resource.resourceType}` }, expression: [`${resource.resourceType}.meta.profile[${String(i)}]`] });
      return;
    }
    issues.push(...validateAgainstProfile(pkg, resource as unknown as Record<string, unknown>, claimed, resource.resourceType));
  });
  return issues;
}

/**
 * The R4 base validation as a list of issues: @medplum/core's validateResource (structure,
 * cardinality, types, invariants; it throws when any issue is an error) and the required bindings
 * of `code` elements, which it does not check (base-bindings.ts).
 */
export function validateR4(resource: Resource): OperationOutcomeIssue[] {
  loadFhirDefinitions();
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    issues = err.outcome.issue;
  }
  return [...issues, ...baseCodeBindingIssues(resource)];
}

/** R4 base, then every claimed UK Core profile. */
export function validateIncoming(resource: Resource): OperationOutcomeIssue[] {
  const base = validateR4(resource);
  // A resource that is not even valid R4 is not walked against profiles (the walk assumes R4 shapes).
  if (base.some((i) => i.severity === 'error' || i.severity === 'fatal')) return base;
  return [...base, ...validateUkCore(resource)];
}

export function isError(issue: OperationOutcomeIssue): boolean {
  return issue.severity === 'error' || issue.severity === 'fatal';
}
