import type { Bundle } from '@medplum/fhirtypes';
import { FlattenedSign, importPKCS8, type KeyLike } from 'jose';
import PDFDocument from 'pdfkit';
import { canonicalJson } from '../gateway/fhir/canonical-json';
import { escapeHtml } from '../gateway/passport/html-escape';
import { qrPng, qrSvg, verificationUrl } from '../gateway/passport/qr';
import { toWinAnsi } from '../gateway/passport/winansi';
import { passportCanonicalForm } from '../gateway/passport/signing';
import type { SqlClient } from '../gateway/store/engine';
import type { PassportView } from '../mappings/passport/view';
import { msSince } from './stats';

/**
 * What each stage of the passport pipeline costs at the least, measured in the same run on the
 * same passport (bench/passport-pipeline.ts):
 *
 *   select     the loader's main query alone (the person's rows by patient_ids) and JSON.parse of
 *              each row: no directory references, no person ids, no transfer passport row;
 *   jose       FlattenedSign RS256 with the same key and protected header over the document's
 *              canonical bytes, computed beforehand: the RSA signature and JWS encoding alone;
 *   jcs        RFC 8785 canonicalisation (canonicalJson) of the same unsigned document, once (the
 *              sign stage canonicalises twice: what is signed, then the fingerprint);
 *   stringify  JSON.stringify of the same document: any serialisation at all, keys unsorted;
 *   html       the view's text lines, escaped, one <p> each: no layout, no QR code;
 *   pdfkit     an A4 pdfkit document with the same text lines, one doc.text() each, in Helvetica,
 *              flowing onto new pages: no measuring, no keep-with-next, no running header and
 *              footer, no QR image.
 *
 * And, not a ceiling but the part of each render the bare renderers leave out: the QR code of the
 * verification URL alone (qrSvg for the page, qrPng for the PDF).
 */

export interface CeilingTiming {
  readonly selectMs: number;
  readonly joseMs: number;
  readonly jcsMs: number;
  readonly stringifyMs: number;
  readonly htmlMs: number;
  readonly pdfMs: number;
  readonly qrSvgMs: number;
  readonly qrPngMs: number;
}

export interface CeilingInput {
  readonly personIds: readonly string[];
  /** The document as the pipeline built it, unsigned and signed. */
  readonly unsigned: Bundle;
  readonly signed: Bundle;
  readonly view: PassportView;
  readonly issuedAt: string;
  readonly publicBaseUrl: string;
}

/** The text the passport puts on paper, line by line: what the bare renderers write. */
export function passportTextLines(view: PassportView): string[] {
  const lines = [view.title, view.personLine, `${view.passportId}, version ${String(view.version)}`, view.issuedAt, view.issuedBy];
  if (view.audience !== undefined) lines.push(view.audience);
  if (view.withheldNotice !== undefined) lines.push(view.withheldNotice);
  for (const section of view.sections) {
    lines.push(section.title);
    if (section.rows.length === 0) lines.push(section.emptyText);
    for (const row of section.rows) {
      lines.push(row.label, row.value);
      if (row.source !== undefined) lines.push(row.source);
    }
  }
  return lines;
}

export function barePdf(lines: readonly string[]): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4' });
  const done = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    doc.on('error', reject);
  });
  doc.font('Helvetica').fontSize(9.5);
  // WinAnsi, as the real renderer writes (the standard fonts are WinAnsi-encoded).
  for (const line of lines) doc.text(toWinAnsi(line));
  doc.end();
  return done;
}

export const bareHtml = (lines: readonly string[]): string => `<!DOCTYPE html>\n<html lang="en"><body>\n${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n')}\n</body></html>\n`;

export interface Ceilings {
  measure(input: CeilingInput): Promise<CeilingTiming>;
}

/** `keyPem`: the passport signer's key, so jose signs with the same RSA key. */
export async function passportCeilings(db: SqlClient, keyPem: string, kid: string): Promise<Ceilings> {
  const key: KeyLike = await importPKCS8(keyPem, 'RS256');
  const encoder = new TextEncoder();
  return {
    async measure(input) {
      let t = process.hrtime.bigint();
      const rows = await db.query<{ content: string }>(`SELECT content::text AS content FROM resource WHERE patient_ids && $1::text[] ORDER BY resource_type, id`, [input.personIds]);
      const parsed = rows.rows.map((r) => JSON.parse(r.content) as unknown);
      const selectMs = msSince(t);
      if (parsed.length === 0) throw new Error('passport bench: the bare select found no rows');

      const bytes = encoder.encode(passportCanonicalForm(input.unsigned));
      t = process.hrtime.bigint();
      const jws = await new FlattenedSign(bytes).setProtectedHeader({ alg: 'RS256', kid, typ: 'carebridge-passport+jws', 'carebridge:when': input.issuedAt }).sign(key);
      const joseMs = msSince(t);
      // RS256 is deterministic: the same bytes, header and key must give the signer's own signature.
      if (`${jws.protected ?? ''}..${jws.signature}` !== Buffer.from(input.signed.signature?.data ?? '', 'base64').toString('utf8')) {
        throw new Error('passport bench: bare jose did not sign the same bytes as the passport signer');
      }

      t = process.hrtime.bigint();
      const canonical = canonicalJson(input.unsigned);
      const jcsMs = msSince(t);
      t = process.hrtime.bigint();
      const plain = JSON.stringify(input.unsigned);
      const stringifyMs = msSince(t);
      if (canonical.length !== plain.length) throw new Error('passport bench: JCS and JSON.stringify of the document differ in length');

      const lines = passportTextLines(input.view);
      t = process.hrtime.bigint();
      const html = bareHtml(lines);
      const htmlMs = msSince(t);
      t = process.hrtime.bigint();
      const pdf = await barePdf(lines);
      const pdfMs = msSince(t);
      if (html.length === 0 || pdf.length === 0) throw new Error('passport bench: a bare render came out empty');

      const url = verificationUrl(input.publicBaseUrl, input.view);
      t = process.hrtime.bigint();
      await qrSvg(url);
      const qrSvgMs = msSince(t);
      t = process.hrtime.bigint();
      await qrPng(url);
      const qrPngMs = msSince(t);
      return { selectMs, joseMs, jcsMs, stringifyMs, htmlMs, pdfMs, qrSvgMs, qrPngMs };
    },
  };
}
