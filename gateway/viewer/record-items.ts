import type { ViewItem } from './record-view';

/**
 * The items of a record page's section as HTML, built in code: a record shows hundreds of items,
 * and Nunjucks' per-item frames, lookups and filters were a fifth of rendering the page. The markup
 * is what record.njk's loop wrote, byte for byte, escaped as Nunjucks' autoescape escapes.
 */
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '"': '&quot;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '\\': '&#92;' };
const ESCAPED = /[&"'<>\\]/g;

export function escapeHtml(value: string | undefined): string {
  return value === undefined ? '' : value.replace(ESCAPED, (ch) => ESCAPES[ch] ?? ch);
}

export function recordItemsHtml(items: readonly ViewItem[], formatDate: (value: string, withTime: boolean) => string): string {
  let html = '';
  for (const i of items) {
    html += `
    <li class="cb-item">
      <p class="cb-item__title"><strong>${escapeHtml(i.title)}</strong>${i.status ? ` <span class="nhsuk-tag nhsuk-tag--grey">${escapeHtml(i.status)}</span>` : ''}</p>
      ${i.detail ? `<p class="cb-item__detail">${escapeHtml(i.detail)}</p>` : ''}
      <p class="cb-item__meta nhsuk-body-s">${i.date ? `${escapeHtml(formatDate(i.date, false))} · ` : ''}From ${escapeHtml(i.source)}${i.updated ? `, updated ${escapeHtml(formatDate(i.updated, true))}` : ''}</p>
    </li>
    `;
  }
  return html;
}
