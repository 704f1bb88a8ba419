import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/** An OperationOutcome with an explicit HTTP status, for statuses @medplum/core's helpers don't cover (405, 406, 413, 415). */
export class HttpOutcomeError extends OperationOutcomeError {
  constructor(
    readonly status: number,
    code: OperationOutcomeIssue['code'],
    text: string,
    expression?: string,
  ) {
    super(outcome(code, text, expression));
  }
}

export function outcome(code: OperationOutcomeIssue['code'], text: string, expression?: string, severity: OperationOutcomeIssue['severity'] = 'error'): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity, code, details: { text }, ...(expression ? { expression: [expression] } : {}) }],
  };
}

/** What a client sees of an unexpected failure: no message, stack, SQL or data; the request id finds it in the log. */
export function internalErrorOutcome(requestId: string): OperationOutcome {
  return outcome('exception', `An internal error occurred. Quote request id ${requestId} to the service desk.`);
}

export function notFoundOutcome(text: string): HttpOutcomeError {
  return new HttpOutcomeError(404, 'not-found', text);
}
