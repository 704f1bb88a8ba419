/**
 * FHIR date, dateTime and instant values as half-open instant ranges [low, high): a value stands
 * for the whole span its precision implies ('1940' is all of 1940). Search compares ranges
 * (FHIR R4 §3.1.1.5.5). Values without a zone are taken as UTC here; intake mappings put local UK
 * times into explicit offsets before they reach the store.
 */

import { dateUtc } from '../../mappings/utc';
export interface InstantRange {
  low: Date;
  high: Date;
}

const DATE_PATTERN =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function parseFhirDateRange(input: string): InstantRange | undefined {
  const m = DATE_PATTERN.exec(input.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : undefined;
  const day = d ? Number(d) : undefined;
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined && month !== undefined) {
    const daysInMonth = new Date(dateUtc(year, month, 0)).getUTCDate();
    if (day < 1 || day > daysInMonth) return undefined;
  }
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59))) return undefined;
  const offsetMinutes = zoneOffsetMinutes(zone);
  if (offsetMinutes === null) return undefined;
  const start = (y2: number, mo2: number, d2: number, h2: number, mi2: number, s2: number, ms: number): Date =>
    new Date(dateUtc(y2, mo2, d2, h2, mi2, s2, ms) - offsetMinutes * 60_000);
  if (month === undefined) return { low: start(year, 0, 1, 0, 0, 0, 0), high: start(year + 1, 0, 1, 0, 0, 0, 0) };
  if (day === undefined) return { low: start(year, month - 1, 1, 0, 0, 0, 0), high: start(year, month, 1, 0, 0, 0, 0) };
  if (h === undefined) return { low: start(year, month - 1, day, 0, 0, 0, 0), high: start(year, month - 1, day + 1, 0, 0, 0, 0) };
  const hour = Number(h);
  const minute = Number(mi);
  if (s === undefined) {
    return { low: start(year, month - 1, day, hour, minute, 0, 0), high: start(year, month - 1, day, hour, minute + 1, 0, 0) };
  }
  const second = Number(s);
  if (frac === undefined) {
    return { low: start(year, month - 1, day, hour, minute, second, 0), high: start(year, month - 1, day, hour, minute, second + 1, 0) };
  }
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  return { low: start(year, month - 1, day, hour, minute, second, ms), high: start(year, month - 1, day, hour, minute, second, ms + 1) };
}

function zoneOffsetMinutes(zone: string | undefined): number | null {
  if (!zone || zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 14 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}
