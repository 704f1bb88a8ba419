/**
 * The red bag passport as a PDF (specs/red-bag-passport.md: "render as a printable page and a PDF,
 * readable in black and white on A4"). pdfkit with its standard Helvetica: no font files, nothing
 * fetched. The first page opens with the title, the person, the issue details and the QR code of
 * the verification page (top right), then the withheld notice; every page carries the person and
 * passport in a header and "Page X of Y" and the fingerprint in a footer.
 *
 * Deterministic: the same view renders to the same bytes (the PDF's dates are the issue time, and
 * its file id is derived from them), so a stored passport can be re-rendered and compared.
 */
import PDFDocument from 'pdfkit';
import type { PassportView } from '../../mappings/passport/view';
import {
  blockHeight,
  CONTENT_LEFT,
  CONTENT_RIGHT,
  CONTENT_WIDTH,
  drawBlock,
  drawLine,
  FONT,
  type Font,
  lineWidth,
  PAGE,
  rule,
  type TextBlock,
} from './pdf-layout';
import { drawSections } from './pdf-sections';
import { formatUkDateTime } from '../uk-time';
import { audienceText, VERIFY_PROMPT, WITHHELD_NOTICE_HEADING } from './wording';

export interface PassportPdfOptions {
  /** The verification page for this version (verificationUrl() in qr.ts). */
  readonly verificationUrl: string;
  /** The QR code of that URL as a PNG (qrPng() in qr.ts). */
  readonly qrPng: Buffer;
  /** When this copy is printed: when given, every footer says so. Leave out for a reproducible file. */
  readonly now?: Date;
}

type Doc = PDFKit.PDFDocument;

const QR = { size: 96, columnWidth: 150, urlSize: 6.5 } as const;
const RUNNING = { size: 8, gap: 10 } as const;

/** The passport as an A4 PDF. */
export async function renderPassportPdf(view: PassportView, options: PassportPdfOptions): Promise<Buffer> {
  const issued = issuedDate(view.issuedAt);
  const doc = new PDFDocument({
    size: 'A4',
    margins: PAGE.margins,
    bufferPages: true,
    lang: 'en-GB',
    displayTitle: true,
    info: {
      Title: view.title,
      Author: 'CareBridge',
      Creator: 'CareBridge',
      Producer: 'CareBridge',
      Subject: `Passport ${view.passportId}, version ${view.version}`,
      CreationDate: issued,
      ModDate: issued,
    },
  });
  const done = collect(doc);

  drawFirstPageHeader(doc, view, options);
  drawSections(doc, view.sections);
  drawRunningHeadersAndFooters(doc, view, options.now);

  doc.end();
  return done;
}

function collect(doc: Doc): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    doc.on('error', reject);
  });
}

/** The issue time as a Date for the PDF's dates; a view with a bad date still renders, dated 1970. */
function issuedDate(iso: string): Date {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? new Date(0) : date;
}

/**
 * Title, person and issue details on the left; the QR code and its URL in the top right (drawn
 * second, so text extraction and screen readers meet the title first).
 */
function drawFirstPageHeader(doc: Doc, view: PassportView, options: PassportPdfOptions): void {
  const top: number = PAGE.margins.top;
  const width = CONTENT_WIDTH - QR.columnWidth - 12;
  let y = top;
  y += drawBlock(doc, { text: view.title, font: FONT.bold, size: 20, width }, CONTENT_LEFT, y) + 4;
  y += drawBlock(doc, { text: view.personLine, font: FONT.bold, size: 12, width, lineGap: 1 }, CONTENT_LEFT, y) + 6;
  const details: [string, string][] = [
    ['Passport', `${view.passportId}, version ${view.version}`],
    ['Issued', formatUkDateTime(view.issuedAt)],
    ['Issued by', view.issuedBy],
  ];
  if (view.audience !== undefined) details.push(['Issued for', audienceText(view.audience)]);
  for (const [label, value] of details) {
    drawBlock(doc, { text: label, font: FONT.bold, size: 9.5, width: 62 }, CONTENT_LEFT, y);
    y += drawBlock(doc, { text: value, font: FONT.regular, size: 9.5, width: width - 66, lineGap: 1 }, CONTENT_LEFT + 66, y) + 2;
  }

  const qrLeft = CONTENT_RIGHT - QR.columnWidth;
  doc.image(options.qrPng, CONTENT_RIGHT - QR.size, top - 6, { width: QR.size, height: QR.size });
  let qrY = top - 6 + QR.size + 2;
  const qrText = (text: string, font: Font, link?: string): void => {
    qrY += drawBlock(doc, { text, font, size: QR.urlSize, width: QR.columnWidth }, qrLeft, qrY, { align: 'right', ...(link === undefined ? {} : { link }) });
  };
  qrText(VERIFY_PROMPT, FONT.regular);
  qrText(options.verificationUrl, FONT.bold, options.verificationUrl);

  y = Math.max(y, qrY) + 8;
  if (view.withheldNotice !== undefined) y = drawWithheldNotice(doc, view.withheldNotice, y);
  doc.y = y;
}

/** A heavy box across the page, so nobody reads the passport as complete. */
function drawWithheldNotice(doc: Doc, notice: string, y: number): number {
  const padding = 8;
  const heading: TextBlock = { text: WITHHELD_NOTICE_HEADING.toUpperCase(), font: FONT.bold, size: 10.5, width: CONTENT_WIDTH - 2 * padding };
  const body: TextBlock = { text: notice, font: FONT.regular, size: 9.5, width: CONTENT_WIDTH - 2 * padding, lineGap: 1.5 };
  const height = blockHeight(doc, heading) + 3 + blockHeight(doc, body) + 2 * padding;
  doc.save().lineWidth(2).strokeColor('black').rect(CONTENT_LEFT, y, CONTENT_WIDTH, height).stroke().restore();
  let inner = y + padding;
  inner += drawBlock(doc, heading, CONTENT_LEFT + padding, inner) + 3;
  drawBlock(doc, body, CONTENT_LEFT + padding, inner);
  return y + height + 4;
}

/** Header and footer on every page, drawn once all pages exist so "Page X of Y" knows Y. */
function drawRunningHeadersAndFooters(doc: Doc, view: PassportView, now: Date | undefined): void {
  const { start, count } = doc.bufferedPageRange();
  const passport = `Passport ${view.passportId}, version ${view.version}`;
  const printed = now === undefined ? '' : `Printed ${formatUkDateTime(now.toISOString())}`;
  for (let index = 0; index < count; index++) {
    doc.switchToPage(start + index);
    // Drawing in the margins must not start a new page.
    const margins = { ...doc.page.margins };
    doc.page.margins = { top: 0, bottom: 0, left: margins.left, right: margins.right };

    const personWidth = lineWidth(doc, view.personLine, FONT.bold, RUNNING.size);
    const passportWidth = lineWidth(doc, passport, FONT.regular, RUNNING.size);
    drawLine(doc, view.personLine, FONT.bold, RUNNING.size, CONTENT_LEFT, PAGE.headerY);
    // The passport id goes beside the person when both fit, else on a line of its own.
    const sideBySide = personWidth + RUNNING.gap + passportWidth <= CONTENT_WIDTH;
    const headerBottom = PAGE.headerY + (sideBySide ? 10 : 20);
    drawLine(doc, passport, FONT.regular, RUNNING.size, CONTENT_RIGHT - passportWidth, sideBySide ? PAGE.headerY : PAGE.headerY + 10);
    rule(doc, headerBottom + 2, 0.8);

    rule(doc, PAGE.footerY - 5, 0.8);
    drawLine(doc, `Fingerprint ${view.fingerprint}`, FONT.bold, RUNNING.size, CONTENT_LEFT, PAGE.footerY);
    const middle = [view.title, printed].filter((part) => part !== '').join(' · ');
    drawLine(doc, middle, FONT.regular, RUNNING.size, CONTENT_LEFT, PAGE.footerY, { width: CONTENT_WIDTH, align: 'center' });
    const pageText = `Page ${index + 1} of ${count}`;
    drawLine(doc, pageText, FONT.bold, RUNNING.size, CONTENT_RIGHT - lineWidth(doc, pageText, FONT.bold, RUNNING.size), PAGE.footerY);

    doc.page.margins = margins;
  }
}
