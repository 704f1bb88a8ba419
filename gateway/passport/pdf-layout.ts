/**
 * The passport PDF's page geometry, type and the measuring and drawing of one block of text. A4
 * in points; Helvetica only (pdfkit's built-in standard fonts: no font files); black on white.
 * Every string drawn goes through toWinAnsi, because the standard fonts are WinAnsi-encoded.
 */
import { toWinAnsi } from './winansi';

type Doc = PDFKit.PDFDocument;

export const FONT = {
  regular: 'Helvetica',
  bold: 'Helvetica-Bold',
  italic: 'Helvetica-Oblique',
  boldItalic: 'Helvetica-BoldOblique',
} as const;
export type Font = (typeof FONT)[keyof typeof FONT];

/** A4 is 595.28 × 841.89 pt. The margins leave room for the running header and footer. */
export const PAGE = {
  width: 595.28,
  height: 841.89,
  margins: { top: 64, bottom: 58, left: 48, right: 48 },
  headerY: 26,
  footerY: 841.89 - 44,
} as const;
export const CONTENT_LEFT = PAGE.margins.left;
export const CONTENT_WIDTH = PAGE.width - PAGE.margins.left - PAGE.margins.right;
export const CONTENT_RIGHT = CONTENT_LEFT + CONTENT_WIDTH;

/** Rows: a label column and a value column that wraps. */
export const ROW = {
  labelWidth: 150,
  gap: 12,
  padding: 3.5,
  size: 9.5,
  sourceSize: 7.5,
  lineGap: 1.5,
} as const;
export const VALUE_LEFT = CONTENT_LEFT + ROW.labelWidth + ROW.gap;
export const VALUE_WIDTH = CONTENT_RIGHT - VALUE_LEFT;

/** One run of text in one font: what is measured is what is drawn. */
export interface TextBlock {
  readonly text: string;
  readonly font: Font;
  readonly size: number;
  readonly width: number;
  readonly lineGap?: number;
}

export function blockHeight(doc: Doc, block: TextBlock): number {
  const text = toWinAnsi(block.text);
  doc.font(block.font).fontSize(block.size);
  // An empty value still takes a line, so rows keep their rhythm.
  return doc.heightOfString(text === '' ? ' ' : text, { width: block.width, lineGap: block.lineGap ?? 0 });
}

/** Draw at (x, y) and return the height used. With `flow`, text may run on to the next pages. */
export function drawBlock(doc: Doc, block: TextBlock, x: number, y: number, extra: PDFKit.Mixins.TextOptions = {}): number {
  const text = toWinAnsi(block.text);
  doc.font(block.font).fontSize(block.size).fillColor('black');
  doc.text(text, x, y, { width: block.width, lineGap: block.lineGap ?? 0, ...extra });
  return doc.y - y;
}

/** Draw one line of text that must not wrap or start a page (running header and footer). */
export function drawLine(doc: Doc, text: string, font: Font, size: number, x: number, y: number, options: PDFKit.Mixins.TextOptions = {}): void {
  doc.font(font).fontSize(size).fillColor('black');
  doc.text(toWinAnsi(text), x, y, { lineBreak: false, ...options });
}

export function lineWidth(doc: Doc, text: string, font: Font, size: number): number {
  return doc.font(font).fontSize(size).widthOfString(toWinAnsi(text));
}

export function rule(doc: Doc, y: number, weight: number, colour = 'black'): void {
  doc.save().lineWidth(weight).strokeColor(colour).moveTo(CONTENT_LEFT, y).lineTo(CONTENT_RIGHT, y).stroke().restore();
}

/** The lowest y content may reach on a page. */
export function bottomLimit(doc: Doc): number {
  return doc.page.height - doc.page.margins.bottom;
}
