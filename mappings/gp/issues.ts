import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * What a GP Connect mapping could not map, or why a bundle is refused, as OperationOutcome issues:
 * `expression` is a FHIRPath into the STU3 bundle (`Bundle.entry[4].resource.clinicalStatus`), so
 * the sender can find the element; `text` never carries patient data (no names, numbers, dates or
 * clinical text from the bundle), only element names, codes of our own and resource types.
 */
export const GpIssueSeverity = { ERROR: 'error', WARNING: 'warning', INFORMATION: 'information' } as const;
export type GpIssueSeverity = (typeof GpIssueSeverity)[keyof typeof GpIssueSeverity];

export interface GpIssue {
  readonly severity: GpIssueSeverity;
  /** OperationOutcome issue type (`structure`, `required`, `value`, `not-found`, `code-invalid`, `informational`…). */
  readonly code: OperationOutcomeIssue['code'];
  readonly expression: string;
  readonly text: string;
}

export class GpIssueList {
  readonly items: GpIssue[] = [];

  error(code: GpIssue['code'], expression: string, text: string): void {
    this.items.push({ severity: GpIssueSeverity.ERROR, code, expression, text });
  }

  warning(code: GpIssue['code'], expression: string, text: string): void {
    this.items.push({ severity: GpIssueSeverity.WARNING, code, expression, text });
  }

  information(code: GpIssue['code'], expression: string, text: string): void {
    this.items.push({ severity: GpIssueSeverity.INFORMATION, code, expression, text });
  }

  hasErrors(): boolean {
    return this.items.some((i) => i.severity === GpIssueSeverity.ERROR);
  }
}

/** The issues as an OperationOutcome (errors first, in the order found). */
export function toOperationOutcome(issues: readonly GpIssue[]): OperationOutcome {
  const ordered = [...issues.filter((i) => i.severity === 'error'), ...issues.filter((i) => i.severity !== 'error')];
  return {
    resourceType: 'OperationOutcome',
    issue: ordered.length
      ? ordered.map((i) => ({ severity: i.severity, code: i.code, details: { text: i.text }, expression: [i.expression] }))
      : [{ severity: 'information', code: 'informational', details: { text: 'All ok' } }],
  };
}
