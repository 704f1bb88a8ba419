/**
 * Date-times typed into the viewer's forms: an HTML `datetime-local` value ("2026-11-20T02:30") is
 * a wall-clock time with no zone. The people filling in the forms are in the UK, so it is read as
 * Europe/London time and turned into an ISO 8601 instant with its offset ("2026-11-20T02:30:00+00:00",
 * "2026-07-01T09:00:00+01:00"). Pure.
 *
 * Around the clock changes: a time in the hour the clocks skip (last Sunday of March, 01:00–01:59)
 * never happened, so it is refused; a time in the hour that happens twice (last Sunday of October,
 * 01:00–01:59) is read as the first of the two (still British Summer Time, +01:00).
 */

import { dateUtc } from '../../mappings/utc';
import { londonWallClockMs as londonWallClock } from '../uk-time';

export type LondonTime = { readonly instant: string } | { readonly problem: 'format' | 'nonexistent' };

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A `datetime-local` value as an instant in Europe/London; `format` when it is not one, `nonexistent` when the clocks skipped it. */
export function londonLocalToInstant(value: string): LondonTime {
  const match = LOCAL.exec(value.trim());
  if (!match) return { problem: 'format' };
  const [y, mo, d, h, mi, s] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const seconds = Number.isNaN(s) ? 0 : s;
  const wall = dateUtc(y, mo - 1, d, h, mi, seconds);
  const check = new Date(wall);
  // utcMs rolls over (31 February → 3 March): refuse fields that are not a real date and time.
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || check.getUTCHours() !== h || check.getUTCMinutes() !== mi || h > 23 || mi > 59 || seconds > 59) return { problem: 'format' };
  // London is UTC+0 or UTC+1: try summer time first, so the repeated autumn hour reads as its first occurrence.
  for (const offsetMinutes of [60, 0]) {
    const instant = wall - offsetMinutes * 60_000;
    if (londonWallClock(instant) === wall) {
      const [date, time] = [value.slice(0, 10), `${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${String(seconds).padStart(2, '0')}`];
      return { instant: `${date}T${time}${offsetText(offsetMinutes)}` };
    }
  }
  return { problem: 'nonexistent' };
}

/** An instant as a `datetime-local` value in London time, for putting a stored value back in a form. */
export function instantToLondonLocal(instant: string): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) return '';
  return new Date(londonWallClock(ms)).toISOString().slice(0, 16);
}
