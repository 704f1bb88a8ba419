/**
 * Text for the PDF's standard fonts. pdfkit's Helvetica is WinAnsi-encoded (Windows-1252): a
 * character outside it is not drawn as a missing glyph but written as a broken hex code that can
 * garble the rest of the line. So every string is brought into WinAnsi first, as close as it can
 * be: "Łucja" → "Lucja", "Ŵyn" → "Wyn", "−" → "-", and what has no likeness (emoji, CJK) → "?".
 */

/** Windows-1252's characters above Latin-1's printable range that it puts at 0x80–0x9F. */
const WINANSI_EXTRA = new Set(
  [0x20ac, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x017d, 0x2018, 0x2019,
    0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x017e, 0x0178],
);

/** Letters and signs that do not decompose into a WinAnsi base, with their usual ASCII stand-ins. */
const LIKENESS: Readonly<Record<string, string>> = {
  Ł: 'L', ł: 'l', Đ: 'D', đ: 'd', Ħ: 'H', ħ: 'h', ı: 'i', Ŀ: 'L', ŀ: 'l', Ŋ: 'N', ŋ: 'n', Ŧ: 'T', ŧ: 't',
  ĸ: 'k', ſ: 's', Ĳ: 'IJ', ĳ: 'ij', ŉ: "'n", Ə: 'E', ə: 'e', ƒ: 'f',
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2015': '-', '\u2212': '-', '\u2043': '-',
  '\u201b': "'", '\u2032': "'", '\u02bc': "'", '\u201f': '"', '\u2033': '"', '\u2044': '/', '\u2215': '/',
  '\u2264': '<=', '\u2265': '>=', '\u2260': '!=', '\u2248': '~', '\u2192': '->', '\u2190': '<-', '\u2194': '<->',
  '\u2191': '^', '\u2193': 'v', '\u2713': 'yes', '\u2714': 'yes', '\u2717': 'x', '\u2718': 'x', '\u2116': 'No.',
  '\u2009': ' ', '\u200a': ' ', '\u2002': ' ', '\u2003': ' ', '\u2007': ' ', '\u2008': ' ', '\u202f': ' ', '\u205f': ' ', '\u3000': ' ',
  '\u2028': '\n', '\u2029': '\n', '\t': ' ', '\r\n': '\n', '\r': '\n',
};

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

function isWinAnsi(codePoint: number): boolean {
  return codePoint === 0x0a || (codePoint >= 0x20 && codePoint <= 0x7e) || (codePoint >= 0xa0 && codePoint <= 0xff) || WINANSI_EXTRA.has(codePoint);
}

function allWinAnsi(text: string): boolean {
  for (const character of text) if (!isWinAnsi(character.codePointAt(0) ?? 0)) return false;
  return true;
}

/** One user-perceived character (a base letter with its accents, a whole emoji sequence) at a time. */
function likeness(grapheme: string): string {
  const composed = grapheme.normalize('NFC');
  if (allWinAnsi(composed)) return composed;
  const direct = LIKENESS[composed];
  if (direct !== undefined) return direct;
  // Control and invisible format characters (zero-width space, direction marks, BOM) are dropped.
  if (/^[\p{Cc}\p{Cf}]+$/u.test(composed)) return '';
  // Strip accents from the compatibility decomposition ("Ŵ" → "W", "ﬁ" → "fi", "½"-like fractions).
  const stripped = composed
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/./gsu, (character) => LIKENESS[character] ?? character);
  if (stripped !== '' && allWinAnsi(stripped)) return stripped;
  return '?';
}

/** The text in Windows-1252, each character as itself, its closest likeness, or "?". */
export function toWinAnsi(text: string): string {
  if (allWinAnsi(text)) return text;
  let result = '';
  for (const { segment } of graphemes.segment(text)) result += likeness(segment);
  return result;
}
