import type { Consent, Extension, Resource } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { sharingConsent, unplacedRecipientConsent } from '../../consent/consent-builders';
import { DecisionMaker, SharingDecision } from '../../consent/consent-shape';
import type { RecipientClass } from '../../consent/types';
import { CONSENT_DECISION, CONSENT_TYPE, DECISION_MAKER } from './codes';
import { councilReference, IssueCode, idFor, meta, patientReference, recordIdentifier, type Retirement, type SocialCareContext } from './context';
import { code, concept, date, flag, text } from './fields';
import { practitioner, workerReference } from './organisations';
import { readerFor, type RowMapping } from './row-result';

/**
 * consents.csv → Consent (scope patient-privacy), in the shape consent/ reads (consent/README.md,
 * "The Consent shape"), written by consent/'s own builder so that what the council recorded is
 * what the access rules obey: sharing with health (the council's social care data only), the
 * voluntary sector or carers; permit when given or decided in the person's best interest, deny
 * when refused or withdrawn; whether the person had capacity and who decided (the person, an
 * attorney, a deputy, a best-interest meeting); who recorded it. The source's own codes are kept
 * beside ours (Consent.category, the source-decision extension), and its notes in an extension.
 *
 * An unknown decision is read as a refusal (deny), the safe reading, and reported. An unknown
 * consent type is kept with the source's code as the recipient's role: the access rules cannot
 * place that recipient, so they list the Consent as not understood rather than guess at it.
 */
export const CONSENT_NOTES_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-notes';
/** The decision as the extract coded it (consent/ records its reading in consent-decision). */
export const SOURCE_DECISION_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-source-decision';

const RECIPIENT = { SHARE_WITH_HEALTH: 'health', SHARE_WITH_VOLUNTARY_SECTOR: 'voluntary-sector', SHARE_WITH_CARER: 'carer' } as const satisfies Record<keyof typeof CONSENT_TYPE, RecipientClass>;
const DECISION = { GIVEN: SharingDecision.GIVEN, REFUSED: SharingDecision.REFUSED, WITHDRAWN: SharingDecision.WITHDRAWN, BEST_INTEREST: SharingDecision.BEST_INTEREST } as const satisfies Record<keyof typeof CONSENT_DECISION, SharingDecision>;
const MAKER = {
  PERSON: DecisionMaker.PERSON,
  LPA_HEALTH_WELFARE: DecisionMaker.LPA_HEALTH_WELFARE,
  COURT_DEPUTY: DecisionMaker.COURT_DEPUTY,
  BEST_INTEREST_MEETING: DecisionMaker.BEST_INTEREST,
} as const satisfies Record<keyof typeof DECISION_MAKER, DecisionMaker>;

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
  if (decision && !decision.known) r.issues.warning(IssueCode.UNKNOWN_CODE, 'DECISION', 'DECISION is not in the list; recorded as a refusal (deny) until corrected');
  // An unknown or missing decision is not read as a permission: deny is the safe reading.
  const reading: SharingDecision = decision?.known ? DECISION[decision.known] : SharingDecision.REFUSED;
  const decisionMaker: DecisionMaker = maker?.known ? MAKER[maker.known] : decision?.known === 'BEST_INTEREST' ? DecisionMaker.BEST_INTEREST : DecisionMaker.PERSON;
  const performer = maker?.known === 'PERSON' || !maker ? patientReference(context, personId) : maker.known === 'BEST_INTEREST_MEETING' ? councilReference(context) : { display: maker.coding.display ?? maker.code };
  const common = {
    patient: patientReference(context, personId),
    ...(decided ? { dateTime: decided } : {}),
    decisionMaker,
    ...(capacity !== undefined ? { hasCapacity: capacity } : {}),
    performer,
    custodian: councilReference(context),
    ...(recorder ? { recordedBy: workerReference(context, recorder) } : {}),
  };
  const recipient = type?.known ? RECIPIENT[type.known] : undefined;
  const shaped: Consent = recipient
    ? sharingConsent({ ...common, recipient, decision: reading, ...(recipient === 'health' ? { dataSources: [context.source] } : {}) })
    : unplacedRecipientConsent({ ...common, decision: reading }, type?.coding);
  const extension: Extension[] = [...(shaped.extension ?? [])];
  const sourceDecision = concept(decision);
  if (sourceDecision) extension.push({ url: SOURCE_DECISION_EXTENSION, valueCodeableConcept: sourceDecision });
  // Consent has no note element: the recorded notes travel in an extension.
  if (notes) extension.push({ url: CONSENT_NOTES_EXTENSION, valueString: notes });
  const sourceType = concept(type);
  const { resourceType, ...shape } = shaped;
  const consent: Consent & { id: string } = {
    resourceType,
    id: idFor(context, 'Consent', `consent|${id}`),
    meta: meta(context, [], 'N', retirement !== undefined),
    ...shape,
    ...(extension.length ? { extension } : {}),
    identifier: [recordIdentifier(context, 'consents', id)],
    status: retirement ? 'inactive' : 'active',
    category: [...shaped.category, ...(sourceType ? [sourceType] : [])],
  };
  const resources: (Resource & { id: string })[] = [consent];
  if (recorder) resources.push(practitioner(context, recorder, undefined));
  return { resources, issues: r.issues.items };
}
