import type { Resource } from '@medplum/fhirtypes';
import { isVeryRestricted, resourceLabelKeys } from './labels';
import type { AccessAlert, AccessDecision, WithheldReason } from './types';

/**
 * Inside a red bag passport (specs/red-bag-passport.md, "The passport obeys access rules like any
 * read"). Whether a reader may open a passport at all is the ordinary decision: a legitimate
 * relationship and the `passport` category for their role (care home staff for their residents,
 * hospital staff with a relationship). The passport is the content that category grants, so an
 * entry inside it is not withheld for its category (care home staff see the medications and
 * alerts in a passport they may not browse in the record), but it is withheld for everything that
 * protects the person whatever the category: security labels the role is not granted, and the
 * person's own decisions about sources (objection, consent by recipient). Pure.
 */

const NOT_CARE_DATA = new Set(['Patient', 'Organization', 'Practitioner', 'PractitionerRole', 'Location', 'HealthcareService']);

export function mayOpenPassport(decision: AccessDecision): boolean {
  return decision.effect === 'permit' && decision.categories.includes('passport');
}

/** Why an entry of a passport is withheld from this reader, or undefined when it may be shown. */
export function passportEntryWithheld(decision: AccessDecision, resource: Resource): WithheldReason | undefined {
  if (!mayOpenPassport(decision)) return 'denied';
  const withheldLabels = new Set(decision.withheldLabels);
  if (resourceLabelKeys(resource).some((k) => withheldLabels.has(k))) return 'label';
  const source = resource.meta?.source;
  // The person the passport is about, and the directory (organisations, wards, practitioners), hold nothing of their care.
  if (NOT_CARE_DATA.has(resource.resourceType)) return undefined;
  if (decision.allowedSources && (source === undefined || !decision.allowedSources.includes(source))) return 'source';
  if (source !== undefined && decision.withheldSources.includes(source)) return 'source';
  return undefined;
}

/**
 * The privacy officer's alerts a reader's copy raises, as a read of the same data in the record
 * would: the decision's own (an override of a refusal under break-glass) and one for very
 * restricted content the copy shows (a safeguarding alert, a confidentiality V entry).
 */
export function passportAlerts(decision: AccessDecision, shown: readonly Resource[]): AccessAlert[] {
  const veryRestricted = shown.filter((r) => r.resourceType !== 'Composition' && isVeryRestricted(r));
  return [...decision.alerts, ...veryRestricted.map((r) => ({ kind: 'very-restricted' as const, reason: `very restricted ${r.resourceType} shown in a red bag passport` }))];
}
