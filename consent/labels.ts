import type { Resource } from '@medplum/fhirtypes';
import { CONFIDENTIALITY_SYSTEM, labelKey, readLabels, SENSITIVITY_CODING, Sensitivity, type Confidentiality } from '../mappings/security/labels';

/**
 * Security labels against a role's grants (specs/access-and-consent.md, "Sensitive information"):
 * a resource is shown only when the role is cleared for its confidentiality and granted every
 * sensitivity it carries. NOPAT and labels that are not ours restrict nothing.
 */

export interface LabelGrant {
  readonly maxConfidentiality: Confidentiality;
  readonly sensitivities: readonly Sensitivity[];
}

const ABOVE: Readonly<Record<Confidentiality, readonly Confidentiality[]>> = { N: ['R', 'V'], R: ['V'], V: [] };

/** The sensitivities a role is not granted. */
export function withheldSensitivities(grant: LabelGrant): Sensitivity[] {
  return Object.values(Sensitivity).filter((s) => !grant.sensitivities.includes(s));
}

/**
 * The labels (`system|code`, the store's index key) whose resources the role may not see: each
 * ungranted sensitivity and each confidentiality above its clearance. Used as SQL before paging.
 */
export function withheldLabelKeys(grant: LabelGrant): string[] {
  return [
    ...ABOVE[grant.maxConfidentiality].map((level) => labelKey({ system: CONFIDENTIALITY_SYSTEM, code: level })),
    ...withheldSensitivities(grant).map((s) => labelKey(SENSITIVITY_CODING[s])),
  ];
}

/** The resource's own labels as `system|code`. */
export function resourceLabelKeys(resource: Resource): string[] {
  return (resource.meta?.security ?? []).map(labelKey);
}

/** Very restricted (confidentiality V): seeing it alerts the privacy officer. */
export function isVeryRestricted(resource: Resource): boolean {
  return readLabels(resource.meta).confidentiality === 'V';
}
