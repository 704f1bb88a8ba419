/**
 * The passport's sections in the PDF: a bold heading, the withheld marker, then label/value rows.
 * A heading is never left alone at the foot of a page: it moves to the next page with the first
 * row (or the empty text); a row is kept whole when it fits on a page, and a section that runs on
 * repeats its heading as "(continued)".
 */
import type { PassportRow, PassportSectionView } from '../../mappings/passport/view';
import {
  blockHeight,
  bottomLimit,
  CONTENT_LEFT,
  CONTENT_WIDTH,
  drawBlock,
  FONT,
  PAGE,
  ROW,
  rule,
  type TextBlock,
  VALUE_LEFT,
  VALUE_WIDTH,
} from './pdf-layout';
import { SECTION_WITHHELD_MARKER } from './wording';

type Doc = PDFKit.PDFDocument;

const HEADING = { size: 13, before: 14, after: 6 } as const;
const CONTINUED = { size: 10.5, after: 4 } as const;
const MARKER = { size: 9.5, bar: 3, indent: 8, after: 5 } as const;

/** Draw the sections from doc.y on; returns nothing, leaves doc.y below the last one. */
export function drawSections(doc: Doc, sections: readonly PassportSectionView[]): void {
  for (const section of sections) drawSection(doc, section);
}

function drawSection(doc: Doc, section: PassportSectionView): void {
  const heading: TextBlock = { text: section.title, font: FONT.bold, size: HEADING.size, width: CONTENT_WIDTH };
  const marker: TextBlock = { text: SECTION_WITHHELD_MARKER, font: FONT.boldItalic, size: MARKER.size, width: CONTENT_WIDTH - MARKER.indent };
  const [first, ...rest] = section.rows;
  const start =
    blockHeight(doc, heading) +
    HEADING.after +
    (section.withheld ? blockHeight(doc, marker) + MARKER.after : 0) +
    (first === undefined ? blockHeight(doc, emptyBlock(section)) : Math.min(rowHeight(doc, first), pageSpace(doc)));

  let y = doc.y + HEADING.before;
  if (y + start > bottomLimit(doc)) y = newPage(doc);
  y += drawBlock(doc, heading, CONTENT_LEFT, y);
  rule(doc, y + 1.5, 1.2);
  y += HEADING.after;
  if (section.withheld) y = drawMarker(doc, marker, y);
  if (first === undefined) {
    y += drawBlock(doc, emptyBlock(section), CONTENT_LEFT, y + ROW.padding) + ROW.padding;
    doc.y = y;
    return;
  }
  y = drawRow(doc, first, y);
  for (const row of rest) {
    if (y + rowHeight(doc, row) > bottomLimit(doc) && rowHeight(doc, row) <= pageSpace(doc)) {
      y = newPage(doc);
      y += drawBlock(doc, { text: `${section.title} (continued)`, font: FONT.bold, size: CONTINUED.size, width: CONTENT_WIDTH }, CONTENT_LEFT, y);
      rule(doc, y + 1, 0.6);
      y += CONTINUED.after;
    }
    y = drawRow(doc, row, y);
  }
  doc.y = y;
}

function drawMarker(doc: Doc, marker: TextBlock, y: number): number {
  const height = blockHeight(doc, marker);
  doc.save().rect(CONTENT_LEFT, y + 1, MARKER.bar, height + 2).fill('black').restore();
  drawBlock(doc, marker, CONTENT_LEFT + MARKER.indent, y + 2);
  return y + height + 2 + MARKER.after;
}

function emptyBlock(section: PassportSectionView): TextBlock {
  return { text: section.emptyText, font: FONT.italic, size: ROW.size, width: CONTENT_WIDTH };
}

function labelBlock(row: PassportRow): TextBlock {
  return { text: row.label, font: FONT.bold, size: ROW.size, width: ROW.labelWidth, lineGap: ROW.lineGap };
}

function valueBlock(row: PassportRow): TextBlock {
  const plain = row.label.trim() === '';
  return { text: row.value, font: FONT.regular, size: ROW.size, width: plain ? CONTENT_WIDTH : VALUE_WIDTH, lineGap: ROW.lineGap };
}

function sourceBlock(row: PassportRow): TextBlock | undefined {
  if (row.source === undefined || row.source === '') return undefined;
  return { text: `Source: ${row.source}`, font: FONT.italic, size: ROW.sourceSize, width: row.label.trim() === '' ? CONTENT_WIDTH : VALUE_WIDTH };
}

function rowHeight(doc: Doc, row: PassportRow): number {
  const source = sourceBlock(row);
  const value = blockHeight(doc, valueBlock(row)) + (source === undefined ? 0 : 1 + blockHeight(doc, source));
  const label = row.label.trim() === '' ? 0 : blockHeight(doc, labelBlock(row));
  return Math.max(label, value) + 2 * ROW.padding;
}

/**
 * One row from y; returns the y below it. A row taller than a whole page (long free text) flows:
 * its value runs on to the next pages in the value column.
 */
function drawRow(doc: Doc, row: PassportRow, y: number): number {
  const plain = row.label.trim() === '';
  const top = y + ROW.padding;
  const labelHeight = plain ? 0 : drawBlock(doc, labelBlock(row), CONTENT_LEFT, top);
  const valueX = plain ? CONTENT_LEFT : VALUE_LEFT;
  const pageBefore = pageCount(doc);
  drawBlock(doc, valueBlock(row), valueX, top);
  const source = sourceBlock(row);
  if (source !== undefined) drawBlock(doc, source, valueX, doc.y + 1);
  const flowed = pageCount(doc) !== pageBefore;
  const bottom = (flowed ? doc.y : Math.max(doc.y, top + labelHeight)) + ROW.padding;
  rule(doc, bottom, 0.4, '#808080');
  return bottom;
}

function pageCount(doc: Doc): number {
  const range = doc.bufferedPageRange();
  return range.start + range.count;
}

function pageSpace(doc: Doc): number {
  return bottomLimit(doc) - doc.page.margins.top;
}

function newPage(doc: Doc): number {
  doc.addPage();
  return PAGE.margins.top;
}
