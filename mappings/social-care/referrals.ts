import type { Extension, ServiceRequest } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { PRIORITY, PRIORITY_FHIR, REFERRAL_OUTCOME, REFERRAL_SOURCE } from './codes';
import { contractCodeSystem, councilReference, idFor, meta, patientReference, recordIdentifier, type Retirement, type SocialCareContext } from './context';
import { code, concept, date, text } from './fields';
import { teamOrganization, teamReference } from './organisations';
import { readerFor, retiredStatus, type RowMapping } from './row-result';

/**
 * referrals.csv → ServiceRequest to adult social care: received date, who referred, why, priority,
 * the team it went to (performer, with the team's identifier for the access rules) and the outcome.
 * Open while the outcome is OPEN or not yet known; completed once decided; revoked if the source
 * no longer holds it.
 */
export const REFERRAL_SOURCE_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/referral-source';
export const REFERRAL_OUTCOME_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/referral-outcome';

export const SOCIAL_CARE_REFERRAL = { system: contractCodeSystem('SERVICE_REQUEST'), code: 'adult-social-care-referral', display: 'Referral to adult social care' } as const;

export function mapReferralRow(context: SocialCareContext, row: SourceRow, retirement?: Retirement): RowMapping {
  const r = readerFor(context, row, 'REFERRAL_ID');
  const id = text(r, 'REFERRAL_ID') as string;
  const personId = text(r, 'PERSON_ID') as string;
  const received = date(r, 'RECEIVED_DATE');
  const source = code(r, 'SOURCE', REFERRAL_SOURCE);
  const priority = code(r, 'PRIORITY', PRIORITY);
  const outcome = code(r, 'OUTCOME', REFERRAL_OUTCOME);
  const outcomeDate = date(r, 'OUTCOME_DATE');
  const team = text(r, 'TEAM_ID');
  const teamName = text(r, 'TEAM_NAME');
  const reason = text(r, 'REASON');
  const decided = outcome !== undefined && outcome.known !== 'OPEN';
  const extension: Extension[] = [];
  const sourceConcept = concept(source);
  if (sourceConcept) extension.push({ url: REFERRAL_SOURCE_EXTENSION, valueCodeableConcept: sourceConcept });
  const outcomeConcept = concept(outcome);
  if (outcomeConcept) {
    extension.push({
      url: REFERRAL_OUTCOME_EXTENSION,
      extension: [{ url: 'outcome', valueCodeableConcept: outcomeConcept }, ...(outcomeDate ? [{ url: 'date', valueDate: outcomeDate }] : [])],
    });
  }
  const status = retiredStatus<ServiceRequest['status']>(decided ? 'completed' : 'active', retirement, ['completed'], 'revoked');
  const request: ServiceRequest & { id: string } = {
    resourceType: 'ServiceRequest',
    id: idFor(context, 'ServiceRequest', `referral|${id}`),
    meta: meta(context, [], 'N', retirement !== undefined),
    ...(extension.length ? { extension } : {}),
    identifier: [recordIdentifier(context, 'referrals', id)],
    status,
    intent: 'order',
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '410606002', display: 'Social service procedure' }] }],
    code: { coding: [{ ...SOCIAL_CARE_REFERRAL }], text: SOCIAL_CARE_REFERRAL.display },
    ...(priority?.known ? { priority: PRIORITY_FHIR[priority.known] } : {}),
    subject: patientReference(context, personId),
    ...(received ? { authoredOn: received } : {}),
    performer: [team ? teamReference(context, team, teamName) : councilReference(context)],
    ...(reason ? { reasonCode: [{ text: reason }] } : {}),
  };
  const resources: (ServiceRequest | ReturnType<typeof teamOrganization>)[] = [request];
  if (team) resources.push(teamOrganization(context, team, teamName));
  if (priority && !priority.known) request.note = [{ text: `Priority as recorded: ${priority.code}` }];
  return { resources: resources as RowMapping['resources'], issues: r.issues.items };
}
