import type { Consent, ConsentProvision, Extension, Resource } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { CONSENT_DECISION, CONSENT_TYPE, DECISION_MAKER } from './codes';
import { councilReference, IssueCode, idFor, meta, patientReference, recordIdentifier, type Retirement, type SocialCareContext } from './context';
import { code, concept, date, flag, text } from './fields';
import { practitioner, workerReference } from './organisations';
import { readerFor, type RowMapping } from './row-result';

/**
 * consents.csv → Consent (scope patient-privacy): sharing social care information with health,
 * the voluntary sector or carers; permit when given or decided in the person's best interest,
 * deny when refused or withdrawn; whether the person had capacity and who decided (the person,
 * an attorney, a deputy, a best-interest meeting); who recorded it.
 *
 * The recipient is `provision.actor` with role IRCP (information recipient) and the recipient
 * group as a coded display, so consent decisions can match on CONSENT_TYPE.
 */
export const MENTAL_CAPACITY_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/has-capacity';
export const DECISION_MAKER_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/decision-maker';
export const RECORDED_BY_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/recorded-by';
export const CONSENT_DECISION_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-decision';
export const CONSENT_NOTES_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-notes';
export const CONSENT_RECIPIENT_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/consent-recipient';

const RECIPIENT: Readonly<Record<keyof typeof CONSENT_TYPE, { code: string; display: string }>> = {
  SHARE_WITH_HEALTH: { code: 'health', display: 'Health and care professionals (NHS)' },
  SHARE_WITH_VOLUNTARY_SECTOR: { code: 'voluntary-sector', display: 'Voluntary sector organisations' },
  SHARE_WITH_CARER: { code: 'carer', display: 'Carers' },
};

export function mapConsentRow(context: SocialCareContext, row: SourceRow, retirement?: Retirement): RowMapping {
  const r = readerFor(context, row, 'CONSENT_ID');
  const id = text(r, 'CONSENT_ID') as string;
  const personId = text(r, 'PERSON_ID') as string;
  const type = code(r, 'CONSENT_TYPE', CONSENT_TYPE);
  const decision = code(r, 'DECISION', CONSENT_DECISION);
  const decided = date(r, 'DECISION_DATE', { notAfterExtract: true });
  const capacity = flag(r, 'HAS_CAPACITY');
  const maker = code(r, 'DECISION_MAKER', DECISION_MAKER);
  const recorder = text(r, 'RECORDED_BY_WORKER_ID');
  const notes = text(r, 'NOTES');
  if (maker?.known === 'PERSON' && capacity === false) r.issues.warning(IssueCode.INCONSISTENT, 'DECISION_MAKER', 'DECISION_MAKER is the person but HAS_CAPACITY is N');
  if (decision?.known === 'BEST_INTEREST' && capacity === true) r.issues.warning(IssueCode.INCONSISTENT, 'HAS_CAPACITY', 'A best-interest decision for a person recorded as having capacity');
  // An unknown decision is not read as a permission: deny is the safe reading.
  const permit = decision?.known === 'GIVEN' || decision?.known === 'BEST_INTEREST';
  if (decision && !decision.known) r.issues.warning(IssueCode.UNKNOWN_CODE, 'DECISION', 'DECISION is not in the list; recorded as a refusal (deny) until corrected');
  const extension: Extension[] = [];
  if (capacity !== undefined) extension.push({ url: MENTAL_CAPACITY_EXTENSION, valueBoolean: capacity });
  const makerConcept = concept(maker);
  if (makerConcept) extension.push({ url: DECISION_MAKER_EXTENSION, valueCodeableConcept: makerConcept });
  const decisionConcept = concept(decision);
  if (decisionConcept) extension.push({ url: CONSENT_DECISION_EXTENSION, valueCodeableConcept: decisionConcept });
  // Consent has no note element: the recorded notes travel in an extension.
  if (notes) extension.push({ url: CONSENT_NOTES_EXTENSION, valueString: notes });
  if (recorder) extension.push({ url: RECORDED_BY_EXTENSION, valueReference: workerReference(context, recorder) });
  const performer: NonNullable<Consent['performer']> = maker?.known === 'PERSON' || !maker ? [patientReference(context, personId)] : maker.known === 'BEST_INTEREST_MEETING' ? [councilReference(context)] : [{ display: maker.coding.display ?? maker.code }];
  const recipient = type?.known ? RECIPIENT[type.known] : undefined;
  const provision: ConsentProvision = {
    type: permit ? 'permit' : 'deny',
    ...(recipient || type
      ? { actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] }, reference: { display: recipient?.display ?? type?.code ?? '' } }] }
      : {}),
    ...(recipient ? { class: [{ system: CONSENT_RECIPIENT_SYSTEM, code: recipient.code, display: recipient.display }] } : {}),
  };
  const consent: Consent & { id: string } = {
    resourceType: 'Consent',
    id: idFor(context, 'Consent', `consent|${id}`),
    meta: meta(context, [], 'N', retirement !== undefined),
    ...(extension.length ? { extension } : {}),
    identifier: [recordIdentifier(context, 'consents', id)],
    status: retirement ? 'inactive' : 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }, ...(type ? [concept(type) as NonNullable<Consent['category']>[number]] : [])],
    patient: patientReference(context, personId),
    ...(decided ? { dateTime: decided } : {}),
    performer,
    organization: [councilReference(context)],
    policyRule: { text: 'UK GDPR and the common law duty of confidentiality (consent to share)' },
    provision,
  };
  const resources: (Resource & { id: string })[] = [consent];
  if (recorder) resources.push(practitioner(context, recorder, undefined));
  return { resources, issues: r.issues.items };
}
