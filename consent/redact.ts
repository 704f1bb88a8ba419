import type { Coding, Resource } from '@medplum/fhirtypes';
import type { RedactionRule } from './roles';

/**
 * Minimum necessary (Caldicott principle 3): a role sees only the elements it needs. A rule keeps
 * the listed elements (and always resourceType, id, meta, language); anything else is removed and
 * the resource is marked REDACTED, so the viewer can say that something was withheld, never what.
 * The narrative (`text`) goes whenever anything does: it may repeat what was removed.
 */

export const REDACTED_CODING: Readonly<Coding> = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'REDACTED',
  display: 'redacted',
};

const ALWAYS_KEPT = new Set(['resourceType', 'id', 'meta', 'language', 'implicitRules']);

export function isRedacted(resource: Resource): boolean {
  return resource.meta?.security?.some((c) => c.system === REDACTED_CODING.system && c.code === REDACTED_CODING.code) ?? false;
}

/** The resource with only what the rule keeps; `redacted` says whether anything was removed. A new object: the input is not changed. */
export function redact<T extends Resource>(resource: T, rule: Exclude<RedactionRule, 'withhold'>): { resource: T; redacted: boolean } {
  const keep = new Set([...ALWAYS_KEPT, ...rule.keep]);
  const kept: Record<string, unknown> = {};
  let removed = false;
  for (const [key, value] of Object.entries(resource)) {
    if (keep.has(key)) kept[key] = value;
    else removed = true;
  }
  if (!removed) return { resource, redacted: false };
  delete kept.text;
  const security = [...(resource.meta?.security ?? []).filter((c) => !(c.system === REDACTED_CODING.system && c.code === REDACTED_CODING.code)), { ...REDACTED_CODING }];
  kept.meta = { ...resource.meta, security };
  return { resource: kept as T, redacted: true };
}
