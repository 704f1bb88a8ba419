import type { PassportView } from '../../mappings/passport/view';
import { loadPassportView } from '../../tests/passport/fixtures';
import { qrSvg, verificationUrl } from './qr';
import { renderPassportHtml } from './render-html';

const BASE = 'https://carebridge.example.nhs.uk';

async function render(view: PassportView, extra: { nonce?: string; stylesheetHref?: string } = {}): Promise<string> {
  const url = verificationUrl(BASE, view);
  return renderPassportHtml(view, { verificationUrl: url, qrSvg: await qrSvg(url), ...extra });
}

function headings(html: string, level: 'h1' | 'h2'): string[] {
  return [...html.matchAll(new RegExp(`<${level}[^>]*>([^<]*)</${level}>`, 'g'))].map((match) => match[1] ?? '');
}

describe('renderPassportHtml', () => {
  const transfer = loadPassportView('transfer');
  const discharge = loadPassportView('discharge');

  test('is a standalone HTML5 document in English with a title naming the passport and the person', async () => {
    const html = await render(transfer);
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')).toBe(true);
    expect(html).toContain('<title>Hospital transfer passport: ELLIS, Margaret · born 12 April 1938 · NHS 999 000 0018</title>');
    expect(html.trimEnd().endsWith('</body>\n</html>')).toBe(true);
  });

  test('every section of the transfer passport is an h2, in the order of the view', async () => {
    const html = await render(transfer);
    expect(headings(html, 'h1')).toEqual(['Hospital transfer passport']);
    expect(headings(html, 'h2')).toEqual([
      'Person',
      'Reason for transfer (SBAR)',
      'About me',
      'Baseline',
      'Medications and allergies',
      'Advance care planning',
      'Contacts',
      'Current care and support',
      'Items sent',
      'Alerts',
    ]);
  });

  test('every section of the discharge passport is an h2, in the order of the view', async () => {
    const html = await render(discharge);
    expect(headings(html, 'h2')).toEqual(discharge.sections.map((s) => s.title));
    expect(headings(html, 'h2')).toHaveLength(9);
  });

  test('the header carries the person, the passport id and version, the UK issue time, the issuer and the audience', async () => {
    const html = await render(transfer);
    expect(html).toContain('<p class="person">ELLIS, Margaret · born 12 April 1938 · NHS 999 000 0018</p>');
    expect(html).toContain('<dt>Passport</dt><dd>3f6c2a90-5b1e-5d7a-9c41-0e8d2f7b6a13, version 2</dd>');
    expect(html).toContain('<dt>Issued</dt><dd><time datetime="2026-11-20T14:05:00Z">20 November 2026, 14:05</time></dd>');
    expect(html).toContain('<dt>Issued by</dt><dd>Oakfield House Care Home, via CareBridge</dd>');
    expect(html).toContain('<dt>Issued for</dt><dd>hospital staff</dd>');
  });

  test('a passport without an audience or a withheld notice shows neither', async () => {
    const html = await render(discharge);
    expect(html).not.toContain('Issued for');
    const body = html.slice(html.indexOf('<body>'));
    expect(body).not.toContain('withheld');
  });

  test('the withheld notice is prominent in the header and only the withheld section is marked', async () => {
    const html = await render(transfer);
    const header = html.slice(html.indexOf('<header'), html.indexOf('</header>'));
    expect(header).toContain(
      '<div class="withheld-notice" role="note"><p class="notice-heading">Information withheld</p><p>Some information has been withheld from this copy',
    );
    const markers = [...html.matchAll(/<h2 [^>]*>([^<]*)<\/h2><p class="withheld-marker">Some information in this section has been withheld\.<\/p>/g)];
    expect(markers.map((match) => match[1])).toEqual(['Alerts']);
  });

  test('each row shows its label, its value and its source', async () => {
    const html = await render(transfer);
    expect(html).toContain(
      '<div class="row"><dt>Apixaban 2.5 mg tablets</dt><dd><span class="value">One twice a day. Last dose 08:00 today</span>' +
        '<span class="source">Source: Care home MAR chart, 2026-11-20</span></dd></div>',
    );
    expect(html).toContain('<div class="row"><dt>Preferred name</dt><dd><span class="value">Maggie</span><span class="source">');
    expect(html).toContain('<div class="row"><dt>NHS number</dt><dd><span class="value">999 000 0018</span></dd></div>');
  });

  test('a row without a label spans the row', async () => {
    const view: PassportView = {
      ...discharge,
      sections: [{ code: 'note', title: 'Note', emptyText: '', withheld: false, rows: [{ label: '', value: 'Plain line' }] }],
    };
    expect(await render(view)).toContain('<div class="row plain"><dt></dt><dd><span class="value">Plain line</span></dd></div>');
  });

  test('the heading, the withheld marker and the first row are kept together, the rest follow', async () => {
    const html = await render(transfer);
    expect(html).toContain(
      '<div class="section-start"><h2 id="section-alerts">Alerts</h2><p class="withheld-marker">Some information in this section has been withheld.</p>' +
        '<dl class="rows"><div class="row"><dt>Anticoagulant</dt>',
    );
    expect(html).toMatch(/<\/div><\/dl><\/div>\n<dl class="rows"><div class="row"><dt>Pressure ulcer risk<\/dt>/);
    expect(html).toContain('.section-start { break-inside: avoid; page-break-inside: avoid; }');
    expect(html).toMatch(/h2 \{[^}]*break-after: avoid;/);
  });

  test('a section with no rows shows its empty text, and still says when something was withheld', async () => {
    const view: PassportView = {
      ...transfer,
      sections: [{ code: 'alerts', title: 'Alerts', emptyText: 'No alerts to show', withheld: true, rows: [] }],
    };
    const html = await render(view);
    expect(html).toContain(
      '<div class="section-start"><h2 id="section-alerts">Alerts</h2><p class="withheld-marker">Some information in this section has been withheld.</p>' +
        '<p class="empty">No alerts to show</p></div>',
    );
    expect(html).not.toContain('<dl class="rows">');
  });

  test('the footer has the QR code as inline SVG, the verification URL as text and the fingerprint', async () => {
    const html = await render(transfer);
    const footer = html.slice(html.indexOf('<footer'), html.indexOf('</footer>'));
    expect(footer).toMatch(/^<footer class="passport-footer">\n<div class="qr"><svg role="img" aria-label="QR code for the verification page" xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const url = 'https://carebridge.example.nhs.uk/passport/verify?id=3f6c2a90-5b1e-5d7a-9c41-0e8d2f7b6a13&amp;v=2&amp;h=9c1e4b7a2f08d3e6';
    expect(footer).toContain(`<p class="verification-url"><a href="${url}">${url}</a></p>`);
    expect(footer).toContain('<p>Fingerprint: <span class="fingerprint">9c1e4b7a2f08d3e6</span></p>');
  });

  test('the style element carries the nonce, prints on A4 and nothing is scripted, styled inline or fetched', async () => {
    const html = await render(transfer, { nonce: 'r4nd0m+/=' });
    expect(html).toMatch(/<style nonce="r4nd0m\+\/=">[\s\S]*@page \{ size: A4; margin: 15mm 15mm 18mm 15mm; \}[\s\S]*@media print \{[\s\S]*<\/style>/);
    expect([...html.matchAll(/<style/g)]).toHaveLength(1);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/<img|<link|@import|@font-face|url\(/i);
  });

  test('without a nonce the style element has no attribute, and a stylesheet link is added when asked', async () => {
    const html = await render(transfer, { stylesheetHref: '/assets/viewer.css?v=1&x="2"' });
    expect(html).toContain('<style>');
    expect(html).toContain('<link rel="stylesheet" href="/assets/viewer.css?v=1&amp;x=&quot;2&quot;">');
  });

  test('every text value is escaped, so markup in the record stays text', async () => {
    const evil = '<script>alert("x")</script> & <b>bold</b> \'quoted\'';
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; &#39;quoted&#39;';
    const view: PassportView = {
      ...transfer,
      title: `Title ${evil}`,
      personLine: `Person ${evil}`,
      passportId: `id ${evil}`,
      issuedAt: `when ${evil}`,
      issuedBy: `Issuer ${evil}`,
      audience: `Audience ${evil}`,
      fingerprint: `fp ${evil}`,
      withheldNotice: `Notice ${evil}`,
      sections: [
        {
          code: `code"><script>`,
          title: `Section ${evil}`,
          emptyText: `Empty ${evil}`,
          withheld: true,
          rows: [{ label: `Label ${evil}`, value: `Value ${evil}`, source: `Source ${evil}` }],
        },
        { code: 'empty', title: 'Empty', emptyText: `Empty ${evil}`, withheld: false, rows: [] },
      ],
    };
    const html = renderPassportHtml(view, { verificationUrl: `https://x.example/?a=1&b=${evil}`, qrSvg: await qrSvg('https://x.example/') });
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<b>');
    for (const text of ['Title', 'Person', 'id', 'when', 'Issuer', 'Audience', 'fp', 'Notice', 'Section', 'Label', 'Value', 'Source', 'Empty']) {
      expect(html).toContain(`${text} ${escaped}`);
    }
    expect(html).toContain('<h2 id="section-code-script-">');
    expect(html).toContain(`https://x.example/?a=1&amp;b=${escaped}`);
  });

  test('a QR code that is not a plain SVG element is refused', () => {
    const options = { verificationUrl: 'https://x.example/' };
    expect(() => renderPassportHtml(transfer, { ...options, qrSvg: '<svg><script>alert(1)</script></svg>' })).toThrow(TypeError);
    expect(() => renderPassportHtml(transfer, { ...options, qrSvg: '<svg onload="alert(1)"></svg>' })).toThrow(TypeError);
    expect(() => renderPassportHtml(transfer, { ...options, qrSvg: '<img src="x">' })).toThrow(TypeError);
  });
});
