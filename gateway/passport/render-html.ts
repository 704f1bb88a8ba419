/**
 * The red bag passport as a standalone printable HTML page (specs/red-bag-passport.md: "render as
 * a printable page … readable in black and white on A4"). One string, no scripts, no inline style
 * attributes and nothing fetched but an optional stylesheet: the viewer serves it under a nonce CSP,
 * and a saved copy prints the same offline.
 */
import type { PassportRow, PassportSectionView, PassportView } from '../../mappings/passport/view';
import { escapeHtml } from './html-escape';
import { PASSPORT_STYLESHEET } from './print-stylesheet';
import { formatUkDateTime } from '../uk-time';
import { audienceText, SECTION_WITHHELD_MARKER, VERIFY_PROMPT, WITHHELD_NOTICE_HEADING } from './wording';

export interface PassportHtmlOptions {
  /** The verification page for this version (verificationUrl() in qr.ts). */
  readonly verificationUrl: string;
  /** The QR code of that URL as an SVG element (qrSvg() in qr.ts): inserted as markup, not text. */
  readonly qrSvg: string;
  /** An extra stylesheet to link (the viewer's), after nothing else: the inline one still applies. */
  readonly stylesheetHref?: string;
  /** The CSP nonce of the response, put on the <style> element. */
  readonly nonce?: string;
}

/** A complete HTML5 document for the passport. Every value of the view is escaped. */
export function renderPassportHtml(view: PassportView, options: PassportHtmlOptions): string {
  assertInertSvg(options.qrSvg);
  const head = [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    `<title>${escapeHtml(`${view.title}: ${view.personLine}`)}</title>`,
    options.stylesheetHref === undefined ? '' : `<link rel="stylesheet" href="${escapeHtml(options.stylesheetHref)}">`,
    `<style${options.nonce === undefined ? '' : ` nonce="${escapeHtml(options.nonce)}"`}>${PASSPORT_STYLESHEET}</style>`,
  ].filter((line) => line !== '');
  const body = [header(view), ...view.sections.map(section), footer(view, options)];
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    ...head,
    '</head>',
    '<body>',
    '<main class="passport">',
    ...body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function header(view: PassportView): string {
  const meta: [string, string][] = [
    ['Passport', `${view.passportId}, version ${view.version}`],
    ['Issued', formatUkDateTime(view.issuedAt)],
    ['Issued by', view.issuedBy],
  ];
  if (view.audience !== undefined) meta.push(['Issued for', audienceText(view.audience)]);
  const metaHtml = meta
    .map(([term, description]) => {
      const value = term === 'Issued' ? `<time datetime="${escapeHtml(view.issuedAt)}">${escapeHtml(description)}</time>` : escapeHtml(description);
      return `<dt>${escapeHtml(term)}</dt><dd>${value}</dd>`;
    })
    .join('');
  const notice =
    view.withheldNotice === undefined
      ? ''
      : `<div class="withheld-notice" role="note"><p class="notice-heading">${escapeHtml(WITHHELD_NOTICE_HEADING)}</p><p>${escapeHtml(view.withheldNotice)}</p></div>`;
  return [
    '<header class="passport-header">',
    `<h1>${escapeHtml(view.title)}</h1>`,
    `<p class="person">${escapeHtml(view.personLine)}</p>`,
    `<dl class="meta">${metaHtml}</dl>`,
    notice,
    '</header>',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/**
 * A section: the heading, the withheld marker and the first row (or the empty text) are one
 * unbreakable block, so a printed heading is never left alone at the foot of a page.
 */
function section(view: PassportSectionView): string {
  const headingId = `section-${view.code.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
  const marker = view.withheld ? `<p class="withheld-marker">${escapeHtml(SECTION_WITHHELD_MARKER)}</p>` : '';
  const [first, ...rest] = view.rows;
  const start =
    first === undefined
      ? `<p class="empty">${escapeHtml(view.emptyText)}</p>`
      : `<dl class="rows">${row(first)}</dl>`;
  const more = rest.length === 0 ? '' : `<dl class="rows">${rest.map(row).join('')}</dl>`;
  return [
    `<section class="passport-section" aria-labelledby="${escapeHtml(headingId)}">`,
    `<div class="section-start"><h2 id="${escapeHtml(headingId)}">${escapeHtml(view.title)}</h2>${marker}${start}</div>`,
    more,
    '</section>',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

function row(view: PassportRow): string {
  const source = view.source === undefined || view.source === '' ? '' : `<span class="source">Source: ${escapeHtml(view.source)}</span>`;
  const plain = view.label.trim() === '';
  return (
    `<div class="row${plain ? ' plain' : ''}"><dt>${escapeHtml(view.label)}</dt>` +
    `<dd><span class="value">${escapeHtml(view.value)}</span>${source}</dd></div>`
  );
}

function footer(view: PassportView, options: PassportHtmlOptions): string {
  const url = escapeHtml(options.verificationUrl);
  return [
    '<footer class="passport-footer">',
    `<div class="qr">${options.qrSvg}</div>`,
    '<div>',
    `<p>${escapeHtml(VERIFY_PROMPT)}</p>`,
    `<p class="verification-url"><a href="${url}">${url}</a></p>`,
    `<p>Fingerprint: <span class="fingerprint">${escapeHtml(view.fingerprint)}</span></p>`,
    '</div>',
    '</footer>',
  ].join('\n');
}

/** The QR markup is inserted as is: refuse anything but a plain SVG element without script or handlers. */
function assertInertSvg(svg: string): void {
  const trimmed = svg.trim();
  if (!/^<svg[\s>]/.test(trimmed) || !trimmed.endsWith('</svg>') || /<script|<foreignObject|\son[a-z]+\s*=|javascript:|\sstyle\s*=/i.test(trimmed)) {
    throw new TypeError('qrSvg must be the SVG element from qrSvg(): no scripts, handlers or inline styles');
  }
}
