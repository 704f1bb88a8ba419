import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import nunjucks from 'nunjucks';
import { recordItemsHtml } from './record-items';
import type { ViewItem } from './record-view';
import { formatUkInstant, MONTHS } from '../uk-time';

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

/** "12 April 1938", "2 October 2026, 03:10" (UK time): the NHS style for dates. */
export function formatDate(value: unknown, withTime: boolean): string {
  if (typeof value !== 'string' || value === '') return '';
  if (/^\d{4}$/.test(value)) return value;
  if (/^\d{4}-\d{2}$/.test(value)) return `${MONTHS[Number(value.slice(5, 7)) - 1] ?? ''} ${value.slice(0, 4)}`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${Number(value.slice(8, 10))} ${MONTHS[Number(value.slice(5, 7)) - 1] ?? ''} ${value.slice(0, 4)}`;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : formatUkInstant(ms, withTime);
}

