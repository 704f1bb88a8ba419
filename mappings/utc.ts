/**
 * Date.UTC with every year as written: Date.UTC reads years 0–99 as 1900–1999, so a birth date of
 * 0087-01-01 (a typing slip a source may send) would become 1987. Months, days and times roll over
 * as Date.UTC's do.
 */
export function dateUtc(year: number, monthIndex: number, day = 1, hour = 0, minute = 0, second = 0, ms = 0): number {
  if (year >= 100 || year < 0) return Date.UTC(year, monthIndex, day, hour, minute, second, ms);
  // Compute in a year of the same leap cycle (400 years on), then step back: exact in the Gregorian calendar.
  return Date.UTC(year + 400, monthIndex, day, hour, minute, second, ms) - FOUR_HUNDRED_YEARS_MS;
}

/** 146,097 days: every 400 Gregorian years, exactly. */
const FOUR_HUNDRED_YEARS_MS = 146_097 * 86_400_000;
