import type { CarePlan, Resource } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { PLAN_STATUS, PLAN_STATUS_FHIR, PLAN_TYPE } from './codes';
import { councilReference, idFor, meta, patientReference, recordIdentifier, type Retirement, type SocialCareContext } from './context';
import { code, concept, date, text } from './fields';
import { practitioner, workerReference } from './organisations';
import { endedBy, readerFor, retiredStatus, type RowMapping } from './row-result';

/**
 * care_plans.csv → CarePlan: support, contingency, emergency and carer's support plans, with their
 * status, start, review date, summary and author. The kind is in `category` (the contract's code);
 * care packages (services.csv) are CarePlans of category care-package, see care-package.ts.
 */
export const REVIEW_DATE_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/review-date';
export const SOCIAL_CARE_PLAN_CATEGORY = { system: 'http://snomed.info/sct', code: '734163000', display: 'Care plan' } as const;

export function mapCarePlanRow(context: SocialCareContext, row: SourceRow, retirement?: Retirement): RowMapping {
  const r = readerFor(context, row, 'PLAN_ID');
  const id = text(r, 'PLAN_ID') as string;
  const personId = text(r, 'PERSON_ID') as string;
  const type = code(r, 'PLAN_TYPE', PLAN_TYPE);
  const status = code(r, 'STATUS', PLAN_STATUS);
  const start = date(r, 'START_DATE');
  const review = date(r, 'REVIEW_DATE');
  const summary = text(r, 'SUMMARY');
  const author = text(r, 'AUTHOR_WORKER_ID');
  const fhirStatus = status?.known ? PLAN_STATUS_FHIR[status.known] : status ? 'unknown' : 'active';
  const when = endedBy(start ? { start } : undefined, retirement);
  const plan: CarePlan & { id: string } = {
    resourceType: 'CarePlan',
    id: idFor(context, 'CarePlan', `plan|${id}`),
    meta: meta(context, [], 'N', retirement !== undefined),
    ...(review ? { extension: [{ url: REVIEW_DATE_EXTENSION, valueDate: review }] } : {}),
    identifier: [recordIdentifier(context, 'care_plans', id)],
    status: retiredStatus<CarePlan['status']>(fhirStatus, retirement, ['completed'], 'revoked'),
    intent: 'plan',
    category: [{ coding: [{ ...SOCIAL_CARE_PLAN_CATEGORY }] }, ...(type ? [concept(type) as NonNullable<CarePlan['category']>[number]] : [])],
    title: type?.coding.display ?? 'Social care plan',
    ...(summary ? { description: summary } : {}),
    subject: patientReference(context, personId),
    ...(when ? { period: when } : {}),
    author: author ? workerReference(context, author) : councilReference(context),
    ...(status?.known === 'REVIEW_DUE' ? { note: [{ text: 'Review due' }] } : {}),
  };
  const resources: (Resource & { id: string })[] = [plan];
  if (author) resources.push(practitioner(context, author, undefined));
  return { resources, issues: r.issues.items };
}
