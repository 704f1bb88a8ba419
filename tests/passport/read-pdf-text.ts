/**
 * The text of a PDF, page by page, as pdfjs-dist reads it: what a reader (or a screen reader, or
 * a search) gets out of the passport. Runs tests/passport/pdf-text.mjs in a child Node process.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface PdfText {
  /** Each page's text; lines end in "\n". */
  readonly pages: string[];
  /** The document information dictionary as pdfjs reads it (Title, Author, CreationDate, …). */
  readonly info: Record<string, unknown>;
}

export function readPdfText(pdf: Buffer): PdfText {
  const output = execFileSync(process.execPath, [join(__dirname, 'pdf-text.mjs')], {
    input: pdf,
    maxBuffer: 64 * 1024 * 1024,
    // The child needs none of Jest's options (NODE_OPTIONS carries --experimental-vm-modules).
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(output.toString('utf8')) as PdfText;
}
