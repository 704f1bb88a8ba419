import type { Address, Extension, RelatedPerson } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { LEGAL_AUTHORITY, RELATIONSHIP_STANDARD, RELATIONSHIP_TYPE } from './codes';
import { idFor, meta, patientReference, recordIdentifier, type Retirement, type SocialCareContext } from './context';
import { code, flag, period, text } from './fields';
import { endedBy, readerFor, type RowMapping } from './row-result';

/**
 * relationships.csv → RelatedPerson: carers (the main carer marked), next of kin, and those with
 * legal authority (attorneys for health and welfare or property and finance, court deputies,
 * appointees) with what that authority covers. The contract's code is kept beside the standard
 * one (HL7 RoleCode, v2 0131, UK Core AdditionalPersonRelationshipRole).
 */
export const LEGAL_AUTHORITY_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/legal-authority';
export const CARER_ASSESSMENT_OFFERED_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/carer-assessment-offered';
/** The related person's own record at the same source, when they are also known to social care. */
export const RELATED_PATIENT_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/related-patient';

export function mapRelationshipRow(context: SocialCareContext, row: SourceRow, retirement?: Retirement, relatedKnown?: boolean): RowMapping {
  const r = readerFor(context, row, 'RELATIONSHIP_ID');
  const id = text(r, 'RELATIONSHIP_ID') as string;
  const personId = text(r, 'PERSON_ID') as string;
  const type = code(r, 'RELATIONSHIP_TYPE', RELATIONSHIP_TYPE);
  const when = endedBy(period(r, 'START_DATE', 'END_DATE'), retirement);
  const extension: Extension[] = [];
  const authority = type?.known ? LEGAL_AUTHORITY[type.known] : undefined;
  if (authority && type) extension.push({ url: LEGAL_AUTHORITY_EXTENSION, valueCodeableConcept: { coding: [type.coding], text: authority } });
  const offered = flag(r, 'CARER_ASSESSMENT_OFFERED');
  if (offered !== undefined) extension.push({ url: CARER_ASSESSMENT_OFFERED_EXTENSION, valueBoolean: offered });
  const related = text(r, 'RELATED_PERSON_ID');
  if (related && relatedKnown !== false) extension.push({ url: RELATED_PATIENT_EXTENSION, valueReference: patientReference(context, related) });
  const forename = text(r, 'FORENAME');
  const surname = text(r, 'SURNAME');
  const phone = text(r, 'TELEPHONE');
  const addressText = text(r, 'ADDRESS');
  const postcode = text(r, 'POSTCODE')?.toUpperCase().replace(/\s+/g, ' ');
  const address: Address | undefined = addressText || postcode ? { ...(addressText ? { text: addressText, line: addressText.split(/\s*[,\n]\s*/).filter(Boolean) } : {}), ...(postcode ? { postalCode: postcode } : {}) } : undefined;
  const ended = when?.end !== undefined && when.end <= r.context.extractedAt.slice(0, 10);
  const relatedPerson: RelatedPerson & { id: string } = {
    resourceType: 'RelatedPerson',
    id: idFor(context, 'RelatedPerson', `relationship|${id}`),
    meta: meta(context, [], 'N', retirement !== undefined),
    ...(extension.length ? { extension } : {}),
    identifier: [recordIdentifier(context, 'relationships', id)],
    active: retirement === undefined && !ended,
    patient: patientReference(context, personId),
    ...(type ? { relationship: [{ coding: [...(type.known ? RELATIONSHIP_STANDARD[type.known] : []), type.coding], text: type.coding.display ?? type.code }] } : {}),
    ...(forename || surname ? { name: [{ ...(surname ? { family: surname } : {}), ...(forename ? { given: [forename] } : {}) }] } : {}),
    ...(phone ? { telecom: [{ system: 'phone', value: phone }] } : {}),
    ...(address ? { address: [address] } : {}),
    ...(when ? { period: when } : {}),
  };
  return { resources: [relatedPerson], issues: r.issues.items };
}
