import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { localToUtc } from '../hl7v2/datatypes/ts';
import { contractCodeSystem, IssueCode, localSystem, type RowIssues, type SocialCareContext } from './context';
import { dateUtc } from '../utc';

/**
 * Reading one row's values: dates (dd/mm/yyyy, dd/mm/yy, ISO 8601), date-times in UK local time,
 * Y/N flags and coded values. A value that cannot be read is reported on its column and left out;
 * the row carries on.
 */
export interface RowReader {
  readonly context: SocialCareContext;
  readonly row: SourceRow;
  readonly issues: RowIssues;
}

export const UK_TIME_ZONE = 'Europe/London';

export function text(r: RowReader, column: string): string | undefined {
  const v = r.row.values[column];
  return v === undefined || v === '' ? undefined : v;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function realDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || y < 1800) return false;
  const days = new Date(dateUtc(y, m, 0)).getUTCDate();
  return d <= days;
}

/** The extract's own date (yyyy-mm-dd), the "today" of every date rule. */
export const extractDate = (context: SocialCareContext): string => context.extractedAt.slice(0, 10);

export interface DateOptions {
  /** A birth or other date that cannot lie after the extract. */
  readonly notAfterExtract?: boolean;
}

/**
 * A date column as yyyy-mm-dd. Two-digit years are read as the latest year not after the
 * extract's (so '40' is 1940 in 2026) and reported; dates that do not exist are reported and left out.
 */
export function date(r: RowReader, column: string, options: DateOptions = {}): string | undefined {
  const value = text(r, column);
  if (value === undefined) return undefined;
  const parsed = parseDateValue(value, r.context);
  if (!parsed) {
    r.issues.warning(IssueCode.INVALID_DATE, column, `${column} is not a date that exists (expected dd/mm/yyyy); left empty`);
    return undefined;
  }
  if (parsed.twoDigitYear) r.issues.warning(IssueCode.TWO_DIGIT_YEAR, column, `${column} has a two-digit year; read as ${parsed.date.slice(0, 4)}`);
  if (options.notAfterExtract && parsed.date > extractDate(r.context)) {
    r.issues.warning(IssueCode.FUTURE_DATE, column, `${column} is after the extract's date; left empty`);
    return undefined;
  }
  return parsed.date;
}

export function parseDateValue(value: string, context: SocialCareContext): { date: string; twoDigitYear: boolean } | undefined {
  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$/.exec(value);
  if (m) {
    const d = Number(m[1]);
    const mo = Number(m[2]);
    let y = Number(m[3]);
    const twoDigitYear = (m[3] ?? '').length === 2;
    if (twoDigitYear) {
      const extractYear = Number(extractDate(context).slice(0, 4));
      y += Math.floor(extractYear / 100) * 100;
      if (y > extractYear) y -= 100;
    }
    return realDate(y, mo, d) ? { date: `${pad(y, 4)}-${pad(mo)}-${pad(d)}`, twoDigitYear } : undefined;
  }
  m = /^(\d{4})-(\d{2})-(\d{2})(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(value);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return realDate(y, mo, d) ? { date: `${m[1] ?? ''}-${m[2] ?? ''}-${m[3] ?? ''}`, twoDigitYear: false } : undefined;
  }
  return undefined;
}

/** A date-time column as an ISO instant (UTC): dd/mm/yyyy hh:mm[:ss] in UK local time, or ISO 8601. */
export function dateTime(r: RowReader, column: string): string | undefined {
  const value = text(r, column);
  if (value === undefined) return undefined;
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (m) {
    const [d, mo, y, h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
    if (realDate(y, mo, d) && h < 24 && mi < 60 && s < 60) {
      const { utcMs } = localToUtc(dateUtc(y, mo - 1, d, h, mi, s), UK_TIME_ZONE);
      return new Date(utcMs).toISOString().replace('.000Z', 'Z');
    }
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value))) {
    return new Date(Date.parse(value)).toISOString().replace('.000Z', 'Z');
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) {
    const [y, mo, d, h, mi, s] = value.split(/[-T:]/).map(Number) as [number, number, number, number, number, number?];
    if (realDate(y, mo, d) && h < 24 && mi < 60) return new Date(localToUtc(dateUtc(y, mo - 1, d, h, mi, s ?? 0), UK_TIME_ZONE).utcMs).toISOString().replace('.000Z', 'Z');
  }
  r.issues.warning(IssueCode.INVALID_DATE, column, `${column} is not a date-time that exists (expected dd/mm/yyyy hh:mm); left empty`);
  return undefined;
}

const YES = new Set(['Y', 'YES', 'TRUE', '1']);
const NO = new Set(['N', 'NO', 'FALSE', '0']);

/** A Y/N flag; empty is unknown (undefined); anything else is reported and taken as unknown. */
export function flag(r: RowReader, column: string): boolean | undefined {
  const value = text(r, column)?.toUpperCase();
  if (value === undefined) return undefined;
  if (YES.has(value)) return true;
  if (NO.has(value)) return false;
  r.issues.warning(IssueCode.INVALID_FLAG, column, `${column} must be Y or N; taken as unknown`);
  return undefined;
}

/** A contract code list: code → display. */
export type CodeList<K extends string = string> = Readonly<Record<K, string>>;

export interface ReadCode<K extends string> {
  /** The contract's code, when the value is one. */
  readonly known?: K;
  /** The value as sent, normalised to upper case with underscores. */
  readonly code: string;
  /** The coding: the contract's system for a known code, the source's own for any other (kept, reported). */
  readonly coding: Coding;
}

/** Values are matched case-insensitively, with spaces and hyphens as underscores ('Home care' = HOME_CARE). */
export function normaliseCode(value: string): string {
  return value.trim().toUpperCase().replace(/[\s-]+/g, '_');
}

export function code<K extends string>(r: RowReader, column: string, list: CodeList<K>): ReadCode<K> | undefined {
  const value = text(r, column);
  if (value === undefined) return undefined;
  const normal = normaliseCode(value);
  if (Object.hasOwn(list, normal)) {
    const known = normal as K;
    return { known, code: normal, coding: { system: contractCodeSystem(column), code: normal, display: list[known] } };
  }
  r.issues.warning(IssueCode.UNKNOWN_CODE, column, `${column} code '${codeForReport(value)}' is not in the contract's list; kept as the source's own code`);
  return { code: value, coding: { system: localSystem.code(r.context.source, column), code: value, display: value } };
}

/** An unknown code as it may appear in a report: short, printable, no line breaks. */
function codeForReport(value: string): string {
  const clean = value.replace(/[^\x20-\x7E\u00A0-\u024F]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

export function concept(read: ReadCode<string> | undefined, extra: readonly Coding[] = []): CodeableConcept | undefined {
  if (!read) return undefined;
  return { coding: [...extra, read.coding], text: read.coding.display ?? read.code };
}

/** A positive number; anything else reported and left out. */
export function decimal(r: RowReader, column: string): number | undefined {
  const value = text(r, column);
  if (value === undefined) return undefined;
  const n = Number(value.replace(/,/g, ''));
  if (/^\d+(\.\d+)?$/.test(value.replace(/,/g, '')) && Number.isFinite(n)) return n;
  r.issues.warning(IssueCode.INVALID_NUMBER, column, `${column} is not a number; left empty`);
  return undefined;
}

/** A period; an end before its start is reported and the end left out. */
export function period(r: RowReader, startColumn: string, endColumn: string): { start?: string; end?: string } | undefined {
  const start = date(r, startColumn);
  let end = date(r, endColumn);
  if (start && end && end < start) {
    r.issues.warning(IssueCode.DATES_OUT_OF_ORDER, endColumn, `${endColumn} is before ${startColumn}; the end is left empty`);
    end = undefined;
  }
  if (!start && !end) return undefined;
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}
