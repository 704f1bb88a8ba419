// Reads a PDF on stdin and prints its text as JSON, one string per page (lines joined by "\n").
// A child process rather than an import in Jest: the repository's @swc/jest transform compiles
// `import()` to `require()`, which cannot load pdfjs-dist's ES module build.
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const data = new Uint8Array(Buffer.concat(chunks));

const pdf = await getDocument({ data, disableFontFace: true, useSystemFonts: false, isEvalSupported: false, verbosity: 0 }).promise;
const pages = [];
for (let number = 1; number <= pdf.numPages; number++) {
  const page = await pdf.getPage(number);
  const content = await page.getTextContent();
  let text = '';
  for (const item of content.items) {
    if (!('str' in item)) continue;
    text += item.str + (item.hasEOL ? '\n' : '');
  }
  pages.push(text);
}
const info = (await pdf.getMetadata()).info;
process.stdout.write(JSON.stringify({ pages, info }));
await pdf.destroy();
