/**
 * HL7 TS/DTM/DT (v2.5.1 §2.A.22, §2.A.74): YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ], to FHIR.
 * A time without an offset is the sender's local wall-clock time (UK senders: Europe/London, GMT
 * in winter and BST in summer); the offset for that instant comes from Intl's time zone data, so
 * no clock is read. FHIR dateTime has no hour-only or minute-only precision, so missing minutes
 * and seconds are written as zero.
 */

import { dateUtc } from '../../utc';
export const DEFAULT_SENDER_TIME_ZONE = 'Europe/London';

const TS_PATTERN = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(\.\d{1,4})?)?)?)?)?)?([+-]\d{4})?$/;

export const TimestampPrecision = {
  YEAR: 'year',
  MONTH: 'month',
  DAY: 'day',
  TIME: 'time',
} as const;
export type TimestampPrecision = (typeof TimestampPrecision)[keyof typeof TimestampPrecision];

export type ParsedTimestamp =
  | {
      readonly ok: true;
      /** FHIR dateTime: '2024', '2024-05', '2024-05-17', or '2024-05-17T10:30:00+01:00'. */
      readonly dateTime: string;
      /** FHIR date (the calendar day as the sender wrote it), e.g. for birth dates. */
      readonly date: string;
      readonly precision: TimestampPrecision;
      /** The instant in UTC ('...Z'), for values with a time; a date alone is local midnight. */
      readonly instant: string | undefined;
      /** The wall-clock time fell in a daylight-saving gap and was moved forward. */
      readonly shifted: boolean;
    }
  | {
      readonly ok: false;
      /** 'format': not a TS at all; 'impossible': well-formed but no such date or time (30 February, 25:00). */
      readonly reason: 'format' | 'impossible';
    };

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** '+01:00' and the like, by offset in minutes: a zone has a handful. */
const offsetTexts = new Map<number, string>();
function offsetText(minutes: number): string {
  let text = offsetTexts.get(minutes);
  if (text === undefined) {
    text = formatOffset(minutes);
    offsetTexts.set(minutes, text);
  }
  return text;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's offset from UTC, in minutes, at a UTC instant (whole seconds). */
export function zoneOffsetMinutes(timeZone: string, utcMs: number): number {
  const wholeSecond = Math.floor(utcMs / 1000) * 1000;
  const parts = formatterFor(timeZone).formatToParts(new Date(wholeSecond));
  const part = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  const wall = dateUtc(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return Math.round((wall - wholeSecond) / 60000);
}

const DAY_MS = 86_400_000;
/** A UTC day's offsets: one for the whole day, or the two either side of the day's one transition. */
type DayOffsets = number | { readonly before: number; readonly after: number; readonly transitionMs: number };
const dayOffsets = new Map<string, Map<number, DayOffsets>>();

/**
 * The first whole second of the day at which the zone has `after` as its offset, by bisection
 * (about 17 questions to Intl, once per transition day and zone).
 */
function transitionSecond(timeZone: string, dayStartMs: number, after: number): number {
  let low = dayStartMs; // offset here is `before`
  let high = dayStartMs + DAY_MS - 1000; // offset here is `after`
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (zoneOffsetMinutes(timeZone, middle) === after) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * The zone's offset at a UTC instant, remembered per UTC day: a day whose first and last second
 * have the same offset has no transition in it (zones change offset at most once a day), so its
 * offset is known for the whole day; for a transition day the second it changes is found once,
 * and instants before it have the first offset, those from it on the second. Bounded: cleared
 * when large, since it only saves work.
 */
function offsetAt(timeZone: string, utcMs: number): number {
  const day = Math.floor(utcMs / DAY_MS);
  let days = dayOffsets.get(timeZone);
  if (!days) {
    days = new Map();
    dayOffsets.set(timeZone, days);
  }
  let known = days.get(day);
  if (known === undefined) {
    if (days.size > 100_000) days.clear();
    const first = zoneOffsetMinutes(timeZone, day * DAY_MS);
    const last = zoneOffsetMinutes(timeZone, (day + 1) * DAY_MS - 1000);
    known = first === last ? first : { before: first, after: last, transitionMs: transitionSecond(timeZone, day * DAY_MS, last) };
    days.set(day, known);
  }
  if (typeof known === 'number') return known;
  // Offsets are looked up for whole seconds (zoneOffsetMinutes): the same here.
  return Math.floor(utcMs / 1000) * 1000 < known.transitionMs ? known.before : known.after;
}

/**
 * The UTC instant of a wall-clock time in a zone, as Temporal's 'compatible' disambiguation does:
 * a time that occurs twice (the autumn hour) is the earlier instant; a time that does not occur
 * (the spring gap) moves forward by the gap.
 */
export function localToUtc(wallMs: number, timeZone: string): { utcMs: number; offsetMinutes: number; shifted: boolean } {
  const before = offsetAt(timeZone, wallMs - DAY_MS);
  const after = offsetAt(timeZone, wallMs + DAY_MS);
  // The same offset a day either side: no transition in between, so that is the offset.
  if (before === after) return { utcMs: wallMs - before * 60000, offsetMinutes: before, shifted: false };
  const candidates = [...new Set([before, after])]
    .map((offset) => ({ offset, utcMs: wallMs - offset * 60000 }))
    .filter((c) => offsetAt(timeZone, c.utcMs) === c.offset)
    .sort((a, b) => a.utcMs - b.utcMs);
  const first = candidates[0];
  if (first) return { utcMs: first.utcMs, offsetMinutes: first.offset, shifted: false };
  const utcMs = wallMs - before * 60000;
  return { utcMs, offsetMinutes: offsetAt(timeZone, utcMs), shifted: true };
}

/** Years Date.prototype.toISOString writes as four digits (outside them it writes ±YYYYYY). */
const ISO_FOUR_DIGIT_YEARS = { from: Date.parse('0000-01-01T00:00:00Z'), to: Date.parse('+010000-01-01T00:00:00Z') };

/** '00'…'59'. */
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => pad(n));
/** 'YYYY-MM-DD' of a UTC day number, for the days asked about lately (bounded: cleared when full). */
const utcDates = new Map<number, string>();

function utcDateText(day: number): string {
  let text = utcDates.get(day);
  if (text === undefined) {
    text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (utcDates.size >= 4096) utcDates.clear();
    utcDates.set(day, text);
  }
  return text;
}

function isoFromUtc(utcMs: number, fraction: string): string {
  // Whole seconds (the fraction is the sender's own digits). Within the four-digit years: the
  // day's date (as toISOString writes it) and the time of day by arithmetic.
  if (utcMs >= ISO_FOUR_DIGIT_YEARS.from && utcMs < ISO_FOUR_DIGIT_YEARS.to) {
    const day = Math.floor(utcMs / DAY_MS);
    const seconds = Math.floor((utcMs - day * DAY_MS) / 1000);
    const hh = TWO_DIGITS[Math.floor(seconds / 3600)] ?? '';
    const mm = TWO_DIGITS[Math.floor(seconds / 60) % 60] ?? '';
    const ss = TWO_DIGITS[seconds % 60] ?? '';
    return `${utcDateText(day)}T${hh}:${mm}:${ss}${fraction}Z`;
  }
  const d = new Date(utcMs);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction}Z`;
}

/** Local wall-clock fields of a UTC instant shifted by an offset. */
function wallFields(utcMs: number, offsetMinutes: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const w = new Date(utcMs + offsetMinutes * 60000);
  return { y: w.getUTCFullYear(), mo: w.getUTCMonth() + 1, d: w.getUTCDate(), h: w.getUTCHours(), mi: w.getUTCMinutes(), s: w.getUTCSeconds() };
}

export function parseHl7Timestamp(value: string, senderTimeZone: string = DEFAULT_SENDER_TIME_ZONE): ParsedTimestamp {
  const m = TS_PATTERN.exec(value.trim());
  if (!m) return { ok: false, reason: 'format' };
  const [, ys, mos, ds, hs, mis, ss, frac, offs] = m;
  const year = Number(ys);
  if (year < 1) return { ok: false, reason: 'impossible' };
  if (mos === undefined) return { ok: true, dateTime: pad(year, 4), date: pad(year, 4), precision: TimestampPrecision.YEAR, instant: undefined, shifted: false };
  const month = Number(mos);
  if (month < 1 || month > 12) return { ok: false, reason: 'impossible' };
  // The digits as sent are already zero-filled (four for the year, two for the month and day).
  const ym = `${ys ?? pad(year, 4)}-${mos}`;
  if (ds === undefined) return { ok: true, dateTime: ym, date: ym, precision: TimestampPrecision.MONTH, instant: undefined, shifted: false };
  const day = Number(ds);
  if (day < 1 || day > daysInMonth(year, month)) return { ok: false, reason: 'impossible' };
  const ymd = `${ym}-${ds}`;
  const hour = hs === undefined ? 0 : Number(hs);
  const minute = mis === undefined ? 0 : Number(mis);
  const second = ss === undefined ? 0 : Number(ss);
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, reason: 'impossible' };
  const fraction = frac ?? '';
  const wallMs = dateUtc(year, month - 1, day, hour, minute, second);

  let utcMs: number;
  let offsetMinutes: number;
  let shifted = false;
  if (offs !== undefined) {
    const offH = Number(offs.slice(1, 3));
    const offM = Number(offs.slice(3, 5));
    if (offH > 14 || offM > 59) return { ok: false, reason: 'impossible' };
    offsetMinutes = (offs.startsWith('-') ? -1 : 1) * (offH * 60 + offM);
    utcMs = wallMs - offsetMinutes * 60000;
  } else {
    ({ utcMs, offsetMinutes, shifted } = localToUtc(wallMs, senderTimeZone));
  }
  const instant = isoFromUtc(utcMs, fraction);
  if (hs === undefined) return { ok: true, dateTime: ymd, date: ymd, precision: TimestampPrecision.DAY, instant, shifted };
  let dateTime: string;
  if (!shifted) {
    // The wall-clock time is the one sent (utcMs + offset = wallMs): its own digits, zero-filled.
    dateTime = `${ymd}T${hs}:${mis ?? '00'}:${ss ?? '00'}${fraction}${offsetText(offsetMinutes)}`;
  } else {
    const w = wallFields(utcMs, offsetMinutes);
    dateTime = `${pad(w.y, 4)}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}:${pad(w.s)}${fraction}${offsetText(offsetMinutes)}`;
  }
  return { ok: true, dateTime, date: ymd, precision: TimestampPrecision.TIME, instant, shifted };
}
