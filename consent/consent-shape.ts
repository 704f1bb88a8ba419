/**
 * The FHIR Consent shape CareBridge writes and reads for a person's decisions about sharing
 * (consent/README.md, "The Consent shape"). The recording API and the social care mapping write it
 * through consent-builders.ts; consents.ts reads it. These systems and codes are a contract.
 */

export const CONSENT_SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope';
export const CONSENT_CATEGORY_LOINC = { system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' } as const;
/** FHIR R4 Consent needs a policy or policyRule (ppc-1): OPTIN for a permit, OPTOUT for a deny. */
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const ACT_REASON_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const RESOURCE_TYPE_SYSTEM = 'http://hl7.org/fhir/resource-types';

/** Consent.category: which decision this is (the latest one of a topic replaces earlier ones). */
export const CONSENT_TOPIC_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/consent-topic';
/** provision.actor.role: who receives the data, by class (RecipientClass). */
export const RECIPIENT_CLASS_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/recipient-class';
/** Extension on Consent: who made the decision (the person, an attorney, a deputy, a best-interest meeting). */
export const DECISION_MAKER_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-decision-maker';
export const DECISION_MAKER_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/consent-decision-maker';
/** Extension on Consent: whether the person had capacity for this decision (valueBoolean). */
export const MENTAL_CAPACITY_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-mental-capacity';
/** Extension on Consent: the decision as the source recorded it (given, refused, withdrawn, best-interest). */
export const DECISION_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-decision';
export const DECISION_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/consent-decision';
/** Extension on Consent: who recorded the decision (valueReference to the worker or practitioner, with identifier). */
export const RECORDED_BY_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-recorded-by';
/** Extension on Consent.provision: the data it covers, by source system URI (meta.source); repeatable. */
export const DATA_SOURCE_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-data-source';

export const ConsentTopic = {
  /** The right to object: shared with no one outside the organisation that holds the data, unless break-glass. */
  OBJECTION: 'objection',
  SHARE_WITH_HEALTH: 'share-with-health',
  SHARE_WITH_SOCIAL_CARE: 'share-with-social-care',
  SHARE_WITH_CARE_PROVIDER: 'share-with-care-provider',
  SHARE_WITH_VOLUNTARY_SECTOR: 'share-with-voluntary-sector',
  SHARE_WITH_CARER: 'share-with-carer',
} as const;
export type ConsentTopic = (typeof ConsentTopic)[keyof typeof ConsentTopic];

export const DecisionMaker = {
  PERSON: 'person',
  LPA_HEALTH_WELFARE: 'lpa-health-welfare',
  COURT_DEPUTY: 'court-deputy',
  BEST_INTEREST: 'best-interest',
} as const;
export type DecisionMaker = (typeof DecisionMaker)[keyof typeof DecisionMaker];

export const DECISION_MAKER_DISPLAY: Readonly<Record<DecisionMaker, string>> = {
  person: 'the person',
  'lpa-health-welfare': 'an attorney (lasting power of attorney, health and welfare)',
  'court-deputy': 'a court-appointed deputy',
  'best-interest': 'a best-interest decision',
};

export const SharingDecision = { GIVEN: 'given', REFUSED: 'refused', WITHDRAWN: 'withdrawn', BEST_INTEREST: 'best-interest' } as const;
export type SharingDecision = (typeof SharingDecision)[keyof typeof SharingDecision];

/** GIVEN and a best-interest decision to share permit; REFUSED and WITHDRAWN deny. */
export function provisionTypeOf(decision: SharingDecision): 'permit' | 'deny' {
  switch (decision) {
    case 'given':
    case 'best-interest':
      return 'permit';
    case 'refused':
    case 'withdrawn':
      return 'deny';
  }
}
