import type { Resource, RiskAssessment, Task, TaskOutput } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { ASSESSMENT_STATUS, ASSESSMENT_TASK_STATUS, ASSESSMENT_TYPE, RISK_QUALITATIVE, RISK_RAG } from './codes';
import { contractCodeSystem, councilReference, IssueCode, idFor, meta, patientReference, recordIdentifier, reference, type Retirement, type SocialCareContext } from './context';
import { code, concept, date, flag, text } from './fields';
import { practitioner, workerReference } from './organisations';
import { readerFor, retiredStatus, type RowMapping } from './row-result';

/**
 * assessments.csv → a Task for the assessment or review (type, status, when, who, eligibility,
 * outcome and summary) and, when it has a red/amber/green rating, a RiskAssessment with the
 * rating and its date. Each assessment keeps its own RiskAssessment, so the ratings over time are
 * the person's risk history; the Task is its basis.
 */
export const ELIGIBILITY_OUTPUT = { system: contractCodeSystem('ASSESSMENT_OUTPUT'), code: 'eligible', display: 'Eligible for care and support (Care Act 2014)' } as const;
export const OUTCOME_OUTPUT = { system: contractCodeSystem('ASSESSMENT_OUTPUT'), code: 'outcome', display: 'Assessment outcome' } as const;

export function mapAssessmentRow(context: SocialCareContext, row: SourceRow, retirement?: Retirement): RowMapping {
  const r = readerFor(context, row, 'ASSESSMENT_ID');
  const id = text(r, 'ASSESSMENT_ID') as string;
  const personId = text(r, 'PERSON_ID') as string;
  const type = code(r, 'ASSESSMENT_TYPE', ASSESSMENT_TYPE);
  const status = code(r, 'STATUS', ASSESSMENT_STATUS);
  const start = date(r, 'START_DATE');
  let completed = date(r, 'COMPLETED_DATE');
  if (start && completed && completed < start) {
    r.issues.warning(IssueCode.DATES_OUT_OF_ORDER, 'COMPLETED_DATE', 'COMPLETED_DATE is before START_DATE; left empty');
    completed = undefined;
  }
  const eligible = flag(r, 'ELIGIBLE');
  const rag = code(r, 'RISK_RAG', RISK_RAG);
  const outcome = text(r, 'OUTCOME');
  const summary = text(r, 'SUMMARY');
  const worker = text(r, 'WORKER_ID');
  if (status?.known === 'COMPLETED' && !completed) r.issues.information(IssueCode.INCONSISTENT, 'COMPLETED_DATE', 'STATUS is COMPLETED without a COMPLETED_DATE');
  // Without a known status: completed when it has a completion date, otherwise in progress.
  const taskStatus = status?.known ? ASSESSMENT_TASK_STATUS[status.known] : completed ? 'completed' : 'in-progress';
  const output: TaskOutput[] = [];
  if (eligible !== undefined) output.push({ type: { coding: [{ ...ELIGIBILITY_OUTPUT }] }, valueBoolean: eligible });
  if (outcome) output.push({ type: { coding: [{ ...OUTCOME_OUTPUT }] }, valueString: outcome });
  const taskId = idFor(context, 'Task', `assessment|${id}`);
  const performer = worker ? workerReference(context, worker) : councilReference(context);
  const task: Task & { id: string } = {
    resourceType: 'Task',
    id: taskId,
    meta: meta(context, [], 'N', retirement !== undefined),
    identifier: [recordIdentifier(context, 'assessments', id)],
    status: retiredStatus<Task['status']>(taskStatus, retirement, ['completed', 'cancelled'], 'cancelled'),
    ...(status && !status.known ? { businessStatus: concept(status) } : {}),
    intent: 'order',
    ...(type ? { code: concept(type) } : {}),
    description: type?.coding.display ?? 'Social care assessment',
    for: patientReference(context, personId),
    ...(start || completed ? { executionPeriod: { ...(start ? { start } : {}), ...(completed ? { end: completed } : {}) } } : {}),
    ...(start ? { authoredOn: start } : {}),
    owner: performer,
    ...(output.length ? { output } : {}),
    ...(summary ? { note: [{ text: summary }] } : {}),
  };
  const resources: (Resource & { id: string })[] = [task];
  if (worker) resources.push(practitioner(context, worker, undefined));
  if (rag) {
    const when = completed ?? start;
    const risk: RiskAssessment & { id: string } = {
      resourceType: 'RiskAssessment',
      id: idFor(context, 'RiskAssessment', `assessment|${id}`),
      meta: meta(context, [], 'N', retirement !== undefined),
      identifier: [recordIdentifier(context, 'assessments', id)],
      status: retirement && taskStatus !== 'completed' ? 'cancelled' : taskStatus === 'completed' ? 'final' : taskStatus === 'cancelled' ? 'cancelled' : 'preliminary',
      code: { coding: [{ system: contractCodeSystem('RISK_RAG'), code: 'social-care-risk', display: 'Social care risk rating (red/amber/green)' }] },
      subject: patientReference(context, personId),
      ...(when ? { occurrenceDateTime: when } : {}),
      ...(worker ? { performer: workerReference(context, worker) } : {}),
      basis: [reference<Task>('Task', taskId)],
      prediction: [{ outcome: { text: 'Risk to the person\'s independence or safety' }, qualitativeRisk: { coding: [...(rag.known ? [RISK_QUALITATIVE[rag.known]] : []), rag.coding], text: rag.coding.display ?? rag.code } }],
      ...(outcome ? { note: [{ text: outcome }] } : {}),
    };
    resources.push(risk);
  }
  return { resources, issues: r.issues.items };
}
