import type { Resource } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { RowIssues, type Retirement, type SocialCareContext, type SocialCareIssue } from './context';
import type { RowReader } from './fields';

/** What mapping one row gives: its resources (each with an id) and what was reported about it. */
export interface RowMapping {
  readonly resources: (Resource & { id: string })[];
  readonly issues: SocialCareIssue[];
}

/** A row mapper: the row, and when it is no longer current at the source, since when. */
export type RowMapper = (context: SocialCareContext, row: SourceRow, retirement?: Retirement) => RowMapping;

export function readerFor(context: SocialCareContext, row: SourceRow, idColumn: string): RowReader {
  return { context, row, issues: new RowIssues(row, row.values[idColumn] || undefined) };
}

/** The status a resource takes when retired, unless it had already ended on its own. */
export function retiredStatus<S extends string>(status: S, retirement: Retirement | undefined, finished: readonly S[], retiredAs: S): S {
  return retirement && !finished.includes(status) ? retiredAs : status;
}

/** End a period at the retirement date when it has no earlier end. */
export function endedBy(period: { start?: string; end?: string } | undefined, retirement: Retirement | undefined): { start?: string; end?: string } | undefined {
  if (!retirement) return period;
  if (period?.end && period.end <= retirement.on) return period;
  if (period?.start && period.start > retirement.on) return { start: period.start, end: period.start };
  return { ...(period ?? {}), end: retirement.on };
}
