/**
 * The printable page's stylesheet: black on white, A4, no fonts or images fetched. Inline in the
 * page (a <style> element carrying the CSP nonce), so a saved copy prints the same offline.
 */
export const PASSPORT_STYLESHEET = `
@page { size: A4; margin: 15mm 15mm 18mm 15mm; }
*, *::before, *::after { box-sizing: border-box; }
html { color: #000; background: #fff; }
body { margin: 0; font-family: Arial, "Helvetica Neue", Helvetica, sans-serif; font-size: 11pt; line-height: 1.35; }
.passport { max-width: 190mm; margin: 0 auto; padding: 8mm 0; }
h1 { font-size: 20pt; margin: 0 0 2mm; }
h2 { font-size: 13pt; margin: 0 0 2mm; padding-bottom: 1mm; border-bottom: 1.5pt solid #000;
  break-after: avoid; page-break-after: avoid; }
.person { font-size: 13pt; font-weight: bold; margin: 0 0 3mm; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.5mm 4mm; margin: 0 0 4mm; }
.meta dt { font-weight: bold; }
.meta dd { margin: 0; }
.withheld-notice { border: 2pt solid #000; padding: 3mm 4mm; margin: 0 0 5mm; break-inside: avoid; }
.withheld-notice p { margin: 0; }
.withheld-notice .notice-heading { font-weight: bold; text-transform: uppercase; letter-spacing: 0.03em; margin-bottom: 1mm; }
.passport-section { margin: 0 0 5mm; }
.section-start { break-inside: avoid; page-break-inside: avoid; }
.withheld-marker { font-weight: bold; font-style: italic; margin: 0 0 2mm; padding-left: 3mm; border-left: 3pt solid #000; }
.rows { margin: 0; }
.row { display: grid; grid-template-columns: 32% 1fr; gap: 0 4mm; padding: 1.2mm 0; border-bottom: 0.5pt solid #777;
  break-inside: avoid; page-break-inside: avoid; }
.row dt { font-weight: bold; }
.row dd { margin: 0; }
.row.plain dt { display: none; }
.row.plain dd { grid-column: 1 / -1; }
.value { white-space: pre-line; overflow-wrap: anywhere; }
.source { display: block; font-size: 8.5pt; font-style: italic; }
.empty { font-style: italic; margin: 0 0 2mm; }
.passport-footer { display: grid; grid-template-columns: 32mm 1fr; gap: 0 5mm; align-items: center;
  margin-top: 6mm; padding-top: 3mm; border-top: 1.5pt solid #000; break-inside: avoid; page-break-inside: avoid; }
.qr svg { display: block; width: 32mm; height: 32mm; }
.passport-footer p { margin: 0 0 1mm; font-size: 9pt; }
.verification-url { overflow-wrap: anywhere; font-family: "Courier New", Courier, monospace; }
.fingerprint { font-family: "Courier New", Courier, monospace; font-weight: bold; }
a { color: #000; }
@media print {
  body { font-size: 10pt; }
  .passport { max-width: none; padding: 0; }
  a { text-decoration: none; }
}
`;
