import type { Resource } from '@medplum/fhirtypes';
import { resourceLabelKeys } from './labels';
import type { AccessDecision, DataCategory, WithheldReason } from './types';

/**
 * May a recipient be told of a hospital event or a red bag step (gateway/notify)? A notification
 * is `id-only`: it tells that the person's stay moved (admitted, transferred, discharge expected,
 * discharged, the bag sent or back) and where to read, never the resources themselves. So the
 * recipient must be permitted the person (the ordinary decision: role, legitimate relationship,
 * the person's objection and consent by recipient), their role must see where a stay stands
 * (encounters; or the person's passport: a care home follows its resident's bag through the
 * hospital's messages, specs/red-bag-passport.md), and none of the event's resources may be
 * withheld from them: not for a label the role is not granted, not for the person's decisions
 * about sources. Permission to view is the reader's question when they open the record, not the
 * notification's. Pure.
 */

/** What a notification tells, as data categories: a role with either may be told. */
export const NOTIFICATION_CATEGORIES: readonly DataCategory[] = ['encounters', 'passport'];

const NOT_CARE_DATA = new Set(['Patient', 'Organization', 'Practitioner', 'PractitionerRole', 'Location', 'HealthcareService']);

export type NotificationWithheld = Extract<WithheldReason, 'denied' | 'category' | 'label' | 'source'>;

/** Why this notification is withheld from the decision's requester, or undefined when they may be told. */
export function notificationWithheld(decision: AccessDecision, resources: readonly Resource[]): NotificationWithheld | undefined {
  if (decision.effect !== 'permit') return 'denied';
  if (!decision.categories.some((c) => NOTIFICATION_CATEGORIES.includes(c))) return 'category';
  // A role that reads encounters reads this one as any other: a refusal of the type for its class removes it.
  if (decision.categories.includes('encounters') && resources.some((r) => r.resourceType === 'Encounter') && !decision.resourceTypes.includes('Encounter')) return 'category';
  const withheldLabels = new Set(decision.withheldLabels);
  for (const resource of resources) {
    if (resourceLabelKeys(resource).some((k) => withheldLabels.has(k))) return 'label';
  }
  for (const resource of resources) {
    // The person named and the directory hold nothing of their care: sources govern care data only.
    if (NOT_CARE_DATA.has(resource.resourceType)) continue;
    const source = resource.meta?.source;
    if (decision.allowedSources && (source === undefined || !decision.allowedSources.includes(source))) return 'source';
    if (source !== undefined && decision.withheldSources.includes(source)) return 'source';
  }
  return undefined;
}
