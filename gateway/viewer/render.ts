import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import nunjucks from 'nunjucks';
import { recordItemsHtml } from './record-items';
import type { ViewItem } from './record-view';
import { dateUtc } from '../../mappings/utc';

/**
 * Server-side rendering with the NHS.UK design system's own Nunjucks templates and macros
 * (nhsuk-frontend), so components match the service manual without copying their markup.
 * Autoescaping is on: every value from the record is escaped.
 */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the viewer');
    dir = parent;
  }
  return dir;
}

export const ROOT = packageRoot();
export const NHSUK_DIST = join(ROOT, 'node_modules', 'nhsuk-frontend', 'dist');
const TEMPLATES = join(ROOT, 'gateway', 'viewer', 'templates');

export function createRenderer(): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader([TEMPLATES, NHSUK_DIST], { noCache: false }), { autoescape: true, throwOnUndefined: false });
  env.addFilter('date', (value: unknown) => formatDate(value, false));
  env.addFilter('datetime', (value: unknown) => formatDate(value, true));
  // A section's items: the markup is in record-items.ts (record.njk's loop, built in code).
  env.addFilter('recordItems', (items: readonly ViewItem[]) => new nunjucks.runtime.SafeString(recordItemsHtml(items, formatDate)));
  env.addFilter('nhsNumber', (value: unknown) => (typeof value === 'string' && /^\d{10}$/.test(value) ? `${value.slice(0, 3)} ${value.slice(3, 6)} ${value.slice(6)}` : value));
  return env;
}

/** One formatter for London's wall clock: creating an Intl.DateTimeFormat costs far more than formatting with one. */
const LONDON_WALL_CLOCK = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' });

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "12 April 1938", "2 October 2026, 03:10" (UK time): the NHS style for dates. */
export function formatDate(value: unknown, withTime: boolean): string {
  if (typeof value !== 'string' || value === '') return '';
  if (/^\d{4}$/.test(value)) return value;
  if (/^\d{4}-\d{2}$/.test(value)) return `${MONTHS[Number(value.slice(5, 7)) - 1] ?? ''} ${value.slice(0, 4)}`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${Number(value.slice(8, 10))} ${MONTHS[Number(value.slice(5, 7)) - 1] ?? ''} ${value.slice(0, 4)}`;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return value;
  const wall = new Date(ms + londonOffsetMs(ms));
  const day = `${String(wall.getUTCDate())} ${MONTHS[wall.getUTCMonth()] ?? ''} ${String(wall.getUTCFullYear())}`;
  return withTime ? `${day}, ${String(wall.getUTCHours()).padStart(2, '0')}:${String(wall.getUTCMinutes()).padStart(2, '0')}` : day;
}

/**
 * London's offset from UTC at an instant, asked of ICU once per UTC hour: formatToParts is costly
 * and a record page shows hundreds of instants, most sharing their hours. Exact from 1848 on:
 * since railway time London's offset is whole hours (GMT, BST, double summer time) and every
 * change of it (tzdata's Europe/London) happened on a whole UTC hour. Earlier instants (local
 * mean time, 1 min 15 s behind) are asked each time.
 */
const offsetOfHour = new Map<number, number>();
const HOURS_KEPT = 50_000;
const WHOLE_HOUR_OFFSETS_FROM = Date.UTC(1848, 0, 1);

function londonOffsetMs(ms: number): number {
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
