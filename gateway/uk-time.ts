import { dateUtc } from '../mappings/utc';

/**
 * UK time for people reading the record, one piece of code for the viewer and the passports:
 * London's offset from UTC at an instant, its wall clock, and instants written as UK readers expect
 * them ("20 November 2026, 14:05", GMT or BST as the date falls, whatever the server's own zone).
 */

/** One formatter for London's wall clock: creating an Intl.DateTimeFormat costs far more than formatting with one. */
const LONDON_WALL_CLOCK = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' });

export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * London's offset from UTC at an instant (ms), asked of ICU once per UTC hour: formatToParts is
 * costly and a record page shows hundreds of instants, most sharing their hours. Exact from 1848 on:
 * since railway time London's offset is whole hours (GMT, BST, double summer time) and every
 * change of it (tzdata's Europe/London) happened on a whole UTC hour. Earlier instants (local
 * mean time, 1 min 15 s behind) are asked each time.
 */
const offsetOfHour = new Map<number, number>();
const HOURS_KEPT = 50_000;
const WHOLE_HOUR_OFFSETS_FROM = Date.UTC(1848, 0, 1);

export function londonOffsetMs(ms: number): number {
  if (ms < WHOLE_HOUR_OFFSETS_FROM) return icuOffsetMs(ms);
  const hour = Math.floor(ms / 3_600_000);
  let offset = offsetOfHour.get(hour);
  if (offset === undefined) {
    offset = icuOffsetMs(hour * 3_600_000);
    if (offsetOfHour.size >= HOURS_KEPT) offsetOfHour.clear();
    offsetOfHour.set(hour, offset);
  }
  return offset;
}

/** London's wall clock at an instant (ICU's tz data), less the instant, to the second. */
function icuOffsetMs(ms: number): number {
  const parts = LONDON_WALL_CLOCK.formatToParts(new Date(ms));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? NaN);
  const year = get('year') * (parts.find((p) => p.type === 'era')?.value === 'BC' ? -1 : 1);
  const wall = dateUtc(year, get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** London's wall-clock fields of an instant, to the second, as the milliseconds of a UTC date with the same fields. */
export function londonWallClockMs(ms: number): number {
  return Math.floor(ms / 1000) * 1000 + londonOffsetMs(ms);
}

/** "20 November 2026" or "20 November 2026, 14:05": an instant (ms) in UK time. */
export function formatUkInstant(ms: number, withTime: boolean): string {
  const wall = new Date(ms + londonOffsetMs(ms));
  const day = `${String(wall.getUTCDate())} ${MONTHS[wall.getUTCMonth()] ?? ''} ${String(wall.getUTCFullYear())}`;
  return withTime ? `${day}, ${String(wall.getUTCHours()).padStart(2, '0')}:${String(wall.getUTCMinutes()).padStart(2, '0')}` : day;
}

/**
 * "20 November 2026, 14:05" for an ISO 8601 instant, in UK time. Text that is not a date is
 * returned as it is: a renderer prints what it was given rather than failing.
 */
export function formatUkDateTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : formatUkInstant(ms, true);
}
