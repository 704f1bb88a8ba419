import type { PassportRow, PassportSectionView, PassportView } from '../../mappings/passport/view';
import { loadPassportView } from '../../tests/passport/fixtures';
import { readPdfText } from '../../tests/passport/read-pdf-text';
import { qrPng, verificationUrl } from './qr';
import { renderPassportPdf } from './render-pdf';

const BASE = 'https://carebridge.example.nhs.uk';
const MARKER = 'Some information in this section has been withheld.';

async function render(view: PassportView, now?: Date): Promise<Buffer> {
  const url = verificationUrl(BASE, view);
  return renderPassportPdf(view, { verificationUrl: url, qrPng: await qrPng(url), ...(now === undefined ? {} : { now }) });
}

/** A page's lines without the running header and footer (drawn last, so the last two lines). */
function contentLines(page: string): string[] {
  return page.split('\n').filter((line) => line !== '').slice(0, -2);
}

function row(label: string, value: string, source?: string): PassportRow {
  return source === undefined ? { label, value } : { label, value, source };
}

describe('renderPassportPdf', () => {
  const transfer = loadPassportView('transfer');
  const discharge = loadPassportView('discharge');

  describe('the transfer passport of Margaret ELLIS', () => {
    let pdf: Buffer;
    let pages: string[];
    let info: Record<string, unknown>;
    beforeAll(async () => {
      pdf = await render(transfer);
      ({ pages, info } = readPdfText(pdf));
    });

    test('is an A4 PDF of three pages, with only the standard Helvetica fonts and one picture, the QR code', () => {
      expect(pdf.subarray(0, 8).toString('latin1')).toBe('%PDF-1.3');
      expect(pages).toHaveLength(3);
      const raw = pdf.toString('latin1');
      expect([...raw.matchAll(/\/MediaBox \[0 0 595\.28 841\.89\]/g)]).toHaveLength(3);
      expect([...new Set([...raw.matchAll(/\/BaseFont \/([\w-]+)/g)].map((match) => match[1]))].sort()).toEqual([
        'Helvetica',
        'Helvetica-Bold',
        'Helvetica-BoldOblique',
        'Helvetica-Oblique',
      ]);
      expect(raw).not.toMatch(/\/FontFile/);
      // The QR code and its alpha channel (pdfkit keeps a PNG's alpha as a soft mask image).
      expect([...raw.matchAll(/\/Subtype \/Image/g)]).toHaveLength(2);
      expect([...raw.matchAll(/\/SMask \d+ 0 R/g)]).toHaveLength(1);
    });

    test('sets the document information, dated when the passport was issued', () => {
      expect(info).toMatchObject({
        Title: 'Hospital transfer passport',
        Author: 'CareBridge',
        Subject: 'Passport 3f6c2a90-5b1e-5d7a-9c41-0e8d2f7b6a13, version 2',
        CreationDate: 'D:20261120140500Z',
        ModDate: 'D:20261120140500Z',
        Language: 'en-GB',
      });
    });

    test('the first page opens with the title, the person, the issue details and the withheld notice', () => {
      const lines = contentLines(pages[0]!);
      expect(lines.slice(0, 5)).toEqual([
        'Hospital transfer passport',
        'ELLIS, Margaret · born 12 April 1938 · NHS 999 000 0018',
        'Passport 3f6c2a90-5b1e-5d7a-9c41-0e8d2f7b6a13, version 2',
        'Issued 20 November 2026, 14:05',
        'Issued by Oakfield House Care Home, via CareBridge',
      ]);
      // The QR code's column (top right) ends level with the last detail, so the reader joins them.
      expect(lines[5]).toBe('Issued for hospital staff Scan the code or open this address to check that');
      const firstPage = pages[0]!.replace(/\n/g, ' ');
      expect(firstPage).toContain(
        'INFORMATION WITHHELD Some information has been withheld from this copy because of who it was issued for. Oakfield House Care Home (01632 960 412) can discuss it with the clinician responsible.',
      );
    });

    test('the first page carries the verification URL as text, and as a link', () => {
      const url = verificationUrl(BASE, transfer);
      expect(pages[0]!.replace(/\n/g, '')).toContain(url);
      expect(pdf.toString('latin1')).toContain(`/URI (${url})`);
    });

    test('every section title appears, in order', () => {
      const text = pages.join('\n');
      const lines = text.split('\n');
      const positions = transfer.sections.map((section) => lines.indexOf(section.title));
      expect(positions.every((position) => position >= 0)).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    });

    test('rows read as label and value, with their source', () => {
      const text = pages.join('\n');
      expect(text).toContain('Apixaban 2.5 mg tablets One twice a day. Last dose 08:00 today\nSource: Care home MAR chart, 2026-11-20\n');
      expect(text).toContain('DNACPR Do not attempt cardiopulmonary resuscitation. Original form in the red bag.\n');
    });

    test('only the withheld section carries the withheld marker, right under its heading', () => {
      const lines = pages.join('\n').split('\n');
      expect(lines.filter((line) => line === MARKER)).toHaveLength(1);
      expect(lines[lines.indexOf(MARKER) - 1]).toBe('Alerts');
    });

    test('every page has the person and passport in its header, and "Page X of Y" and the fingerprint in its footer', () => {
      pages.forEach((page, index) => {
        const lines = page.split('\n').filter((line) => line !== '');
        expect(lines.slice(-2)).toEqual([
          'ELLIS, Margaret · born 12 April 1938 · NHS 999 000 0018 Passport 3f6c2a90-5b1e-5d7a-9c41-0e8d2f7b6a13, version 2',
          `Fingerprint 9c1e4b7a2f08d3e6 Hospital transfer passport Page ${index + 1} of 3`,
        ]);
      });
    });

    test('a section that runs on to the next page repeats its heading there', () => {
      expect(contentLines(pages[1]!)[0]).toBe('About me (continued)');
    });

    test('two renders of the same view are byte for byte the same', async () => {
      expect((await render(transfer)).equals(pdf)).toBe(true);
    });

    test('another version of the passport is a different file', async () => {
      expect((await render({ ...transfer, version: 3 })).equals(pdf)).toBe(false);
    });
  });

  test('the discharge passport has its sections in order, no notice, no marker, and no audience', async () => {
    const { pages } = readPdfText(await render(discharge));
    const lines = pages.join('\n').split('\n');
    const positions = discharge.sections.map((section) => lines.indexOf(section.title));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(lines).not.toContain(MARKER);
    expect(lines).not.toContain('INFORMATION WITHHELD');
    expect(lines.some((line) => line.startsWith('Issued for'))).toBe(false);
    expect(pages[0]).toContain('Page 1 of ');
    // The value wraps in its column; so does the label.
    expect(lines).toContain('Started: Edoxaban 30 mg tablets One each morning, replacing apixaban (easier once-daily dosing agreed with');
  });

  test('a heading is never the last thing on a page, and a long section flows on with "(continued)"', async () => {
    // Sections of one to four rows: many page breaks fall where a heading would be stranded.
    const sections: PassportSectionView[] = Array.from({ length: 70 }, (_, index) => ({
      code: `s${index}`,
      title: `Section ${index + 1}`,
      emptyText: `Nothing in section ${index + 1}`,
      withheld: index % 9 === 4,
      rows: Array.from({ length: index % 7 === 3 ? 0 : (index % 4) + 1 }, (__, r) =>
        row(`Label ${index + 1}.${r + 1}`, r % 2 === 0 ? `Value ${index + 1}.${r + 1}` : `Value ${index + 1}.${r + 1} ${'long text '.repeat(25)}`.trim()),
      ),
    }));
    sections.push({ code: 'long', title: 'Long section', emptyText: '', withheld: false, rows: Array.from({ length: 90 }, (_, r) => row(`Item ${r + 1}`, `Entry ${r + 1}`)) });
    const view: PassportView = { ...discharge, sections };
    const { pages } = readPdfText(await render(view));
    const titles = new Set(sections.map((section) => section.title));

    expect(pages.length).toBeGreaterThan(8);
    let pagesOpeningWithAHeading = 0;
    pages.forEach((page) => {
      const lines = contentLines(page);
      const last = lines[lines.length - 1]!;
      expect(titles.has(last) || last === MARKER || /\(continued\)$/.test(last)).toBe(false);
      if (titles.has(lines[0]!)) pagesOpeningWithAHeading++;
      // A heading is followed on its page by the marker, the first row or the empty text.
      lines.forEach((line, index) => {
        if (!titles.has(line)) return;
        const next = index + 1 < lines.length ? lines[index + 1]! : '';
        expect(next).toMatch(/^(Some information in this section has been withheld\.|Label \d+\.1 Value \d+\.1( long text.*)?|Nothing in section \d+|Item 1 Entry 1)$/);
      });
    });
    expect(pagesOpeningWithAHeading).toBeGreaterThan(0);
    const all = pages.join('\n').split('\n');
    for (const section of sections) expect(all).toContain(section.title);
    expect(all).toContain('Nothing in section 4');
    expect(all).toContain('Item 90 Entry 90');
    expect(all.filter((line) => line === 'Long section (continued)').length).toBeGreaterThan(0);
    expect(pages[pages.length - 1]).toContain(`Page ${pages.length} of ${pages.length}`);
  });

  test('a row longer than a page flows on to the next page without losing text', async () => {
    const words = Array.from({ length: 1200 }, (_, index) => `w${index}`).join(' ');
    const view: PassportView = {
      ...discharge,
      sections: [{ code: 'note', title: 'Free text', emptyText: '', withheld: false, rows: [row('Note', words), row('After', 'the long note')] }],
    };
    const { pages } = readPdfText(await render(view));
    expect(pages.length).toBeGreaterThan(1);
    const text = pages.map((page) => contentLines(page).join(' ')).join(' ');
    expect(text).toContain('w0 w1 w2');
    expect(text).toContain('w1198 w1199');
    expect(text.match(/w\d+/g)).toHaveLength(1200);
    expect(text).toContain('After the long note');
  });

  test('names and free text outside WinAnsi degrade to their closest letters or "?", without breaking the line', async () => {
    const view: PassportView = {
      ...discharge,
      personLine: 'WAŁĘSA, Łucja · born 3 May 1941 · NHS 999 000 0026',
      issuedBy: 'Cartref Ŵyn, via CareBridge',
      sections: [
        {
          code: 'about-me',
          title: 'About me — “Łucja”',
          emptyText: '',
          withheld: false,
          rows: [row('What matters to me', 'Her cat 🐈 and family 👨‍👩‍👧 ❤️; speaks Polish (język polski)', 'Daughter Zoë, 2026-11-20'), row('Contact', 'Ŵyn Gruffydd → 07700 900 456')],
        },
      ],
    };
    const { pages } = readPdfText(await render(view));
    const text = pages.join('\n');
    expect(text).toContain('WALESA, Lucja · born 3 May 1941 · NHS 999 000 0026\n');
    expect(text).toContain('Issued by Cartref Wyn, via CareBridge\n');
    expect(text).toContain('About me — “Lucja”\n');
    expect(text).toContain('What matters to me Her cat ? and family ? ?; speaks Polish (jezyk polski)\nSource: Daughter Zoë, 2026-11-20\n');
    expect(text).toContain('Contact Wyn Gruffydd -> 07700 900 456\n');
    expect(text).toContain('WALESA, Lucja · born 3 May 1941 · NHS 999 000 0026 Passport');
  });

  test('a copy printed at a given time says so in every footer', async () => {
    const { pages } = readPdfText(await render(discharge, new Date('2026-12-04T15:30:00Z')));
    for (const page of pages) expect(page).toContain('Discharge passport · Printed 4 December 2026, 15:30');
  });
});
