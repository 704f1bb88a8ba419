import type { Coding, Consent, ConsentProvision, Extension, Organization, Patient, Practitioner, PractitionerRole, Reference, RelatedPerson } from '@medplum/fhirtypes';
import {
  ACT_CODE_SYSTEM,
  ACT_REASON_SYSTEM,
  CONSENT_CATEGORY_LOINC,
  CONSENT_SCOPE_SYSTEM,
  CONSENT_TOPIC_SYSTEM,
  ConsentTopic,
  DATA_SOURCE_EXTENSION,
  DECISION_EXTENSION,
  DECISION_MAKER_DISPLAY,
  DECISION_MAKER_EXTENSION,
  DECISION_MAKER_SYSTEM,
  DECISION_SYSTEM,
  MENTAL_CAPACITY_EXTENSION,
  RECIPIENT_CLASS_SYSTEM,
  RECORDED_BY_EXTENSION,
  RESOURCE_TYPE_SYSTEM,
  provisionTypeOf,
  type DecisionMaker,
  type SharingDecision,
} from './consent-shape';
import type { PurposeOfUse, RecipientClass } from './types';

/**
 * Builders for the person's decisions as FHIR Consent (consent/README.md). The recording API and
 * the social care mapping call these, so what they write is what consents.ts reads. Pure: the
 * caller gives the id, the date and the references (with `identifier`, per mappings/identifiers.ts).
 */

interface CommonFields {
  /** Resource id (from mappings/ids.ts resourceId for imports, or the recording API's own). */
  readonly id?: string;
  /** e.g. { reference: 'Patient/…' } */
  readonly patient: Reference<Patient>;
  /** When the decision was made (ISO date or date-time); an import may not know. */
  readonly dateTime?: string;
  readonly decisionMaker: DecisionMaker;
  /** Whether the person had capacity for this decision, if assessed. */
  readonly hasCapacity?: boolean;
  /** Who decided (the Patient, the attorney's RelatedPerson, …), if known as a reference. */
  readonly performer?: Reference<Patient | RelatedPerson | Practitioner | PractitionerRole | Organization>;
  /** The organisation holding the data and managing the decision, with its identifier. */
  readonly custodian?: Reference<Organization>;
  /** Who recorded it (a worker or practitioner reference). */
  readonly recordedBy?: Reference;
  /** meta.source for imports. */
  readonly source?: string;
}

function extensions(fields: CommonFields, decision: SharingDecision): Extension[] {
  return [
    { url: DECISION_EXTENSION, valueCoding: { system: DECISION_SYSTEM, code: decision } },
    { url: DECISION_MAKER_EXTENSION, valueCoding: { system: DECISION_MAKER_SYSTEM, code: fields.decisionMaker, display: DECISION_MAKER_DISPLAY[fields.decisionMaker] } },
    ...(fields.hasCapacity === undefined ? [] : [{ url: MENTAL_CAPACITY_EXTENSION, valueBoolean: fields.hasCapacity }]),
    ...(fields.recordedBy ? [{ url: RECORDED_BY_EXTENSION, valueReference: fields.recordedBy }] : []),
  ];
}

function base(fields: CommonFields, topic: ConsentTopic | undefined, decision: SharingDecision, provision: ConsentProvision): Consent {
  const type = provision.type ?? 'deny';
  return {
    resourceType: 'Consent',
    ...(fields.id ? { id: fields.id } : {}),
    ...(fields.source ? { meta: { source: fields.source } } : {}),
    extension: extensions(fields, decision),
    status: 'active',
    scope: { coding: [{ system: CONSENT_SCOPE_SYSTEM, code: 'patient-privacy' }] },
    category: [{ coding: [{ ...CONSENT_CATEGORY_LOINC }] }, ...(topic ? [{ coding: [{ system: CONSENT_TOPIC_SYSTEM, code: topic }] }] : [])],
    patient: fields.patient,
    ...(fields.dateTime ? { dateTime: fields.dateTime } : {}),
    ...(fields.performer ? { performer: [fields.performer] } : {}),
    ...(fields.custodian ? { organization: [fields.custodian] } : {}),
    policyRule: { coding: [{ system: ACT_CODE_SYSTEM, code: type === 'permit' ? 'OPTIN' : 'OPTOUT' }] },
    provision,
  };
}

/**
 * The right to object: nothing shared outside the organisation holding the data, unless
 * break-glass. `decision` 'refused' records the objection; 'withdrawn' or 'given' lifts it (the
 * latest objection Consent wins).
 */
export function objectionConsent(fields: CommonFields & { readonly decision?: SharingDecision }): Consent {
  const decision = fields.decision ?? 'refused';
  return base(fields, ConsentTopic.OBJECTION, decision, { type: provisionTypeOf(decision) });
}

export interface SharingFields extends CommonFields {
  /** Who may (or may not) receive the data. */
  readonly recipient: RecipientClass;
  readonly decision: SharingDecision;
  /** The data it covers, by source system URI (the social care extract's sourceSystemUri); all data when absent. */
  readonly dataSources?: readonly string[];
  /** Only for these purposes of use; any purpose when absent. */
  readonly purposes?: readonly PurposeOfUse[];
  /** Only these resource types (provision.class); all when absent. Read for deny only. */
  readonly resourceTypes?: readonly string[];
  /** Only resources carrying these labels (provision.securityLabel); all when absent. Read for deny only. */
  readonly securityLabels?: readonly Coding[];
}

const TOPIC_BY_RECIPIENT: Readonly<Record<RecipientClass, ConsentTopic | undefined>> = {
  health: ConsentTopic.SHARE_WITH_HEALTH,
  'social-care': ConsentTopic.SHARE_WITH_SOCIAL_CARE,
  'care-provider': ConsentTopic.SHARE_WITH_CARE_PROVIDER,
  'voluntary-sector': ConsentTopic.SHARE_WITH_VOLUNTARY_SECTOR,
  carer: ConsentTopic.SHARE_WITH_CARER,
  administration: undefined,
  governance: undefined,
};

/** Consent by purpose and recipient (consents.csv SHARE_WITH_HEALTH / _VOLUNTARY_SECTOR / _CARER). */
export function sharingConsent(fields: SharingFields): Consent {
  const topic = TOPIC_BY_RECIPIENT[fields.recipient];
  if (!topic) throw new Error(`no sharing decision is recorded for recipient class ${fields.recipient}`);
  const provision: ConsentProvision = {
    type: provisionTypeOf(fields.decision),
    ...(fields.dataSources?.length ? { extension: fields.dataSources.map((uri) => ({ url: DATA_SOURCE_EXTENSION, valueUri: uri })) } : {}),
    actor: [{ role: { coding: [{ system: RECIPIENT_CLASS_SYSTEM, code: fields.recipient }] }, reference: { display: `recipients: ${fields.recipient}` } }],
    ...(fields.purposes?.length ? { purpose: fields.purposes.map((code) => ({ system: ACT_REASON_SYSTEM, code })) } : {}),
    ...(fields.resourceTypes?.length ? { class: fields.resourceTypes.map((code) => ({ system: RESOURCE_TYPE_SYSTEM, code })) } : {}),
    ...(fields.securityLabels?.length ? { securityLabel: fields.securityLabels.map((c) => ({ ...c })) } : {}),
  };
  return base(fields, topic, fields.decision, provision);
}

/**
 * A decision about a recipient the rules cannot place (a source's consent type we do not know):
 * kept, with the source's coding as the recipient's role and no topic. consents.ts cannot read it
 * as a rule, so it lists it as not understood (in the decision's reasons) instead of guessing.
 */
export function unplacedRecipientConsent(fields: CommonFields & { readonly decision: SharingDecision }, recipient: Coding | undefined): Consent {
  const provision: ConsentProvision = {
    type: provisionTypeOf(fields.decision),
    actor: [{ role: { coding: recipient ? [{ ...recipient }] : [], text: recipient?.display ?? recipient?.code ?? 'unknown recipient' }, reference: { display: `recipients: ${recipient?.code ?? 'unknown'}` } }],
  };
  return base(fields, undefined, fields.decision, provision);
}
