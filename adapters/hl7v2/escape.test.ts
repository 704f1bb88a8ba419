import { DEFAULT_DELIMITERS, Hl7Charset, type Hl7Delimiters } from './encoding';
import { escapeHl7, unescapeHl7 } from './escape';

const d = DEFAULT_DELIMITERS;
const unescape = (value: string, charset: Hl7Charset = Hl7Charset.Utf8, delimiters: Hl7Delimiters = d): string =>
  unescapeHl7(value, delimiters, charset);

describe('unescapeHl7', () => {
  it.each([
    ['delimiter escapes', String.raw`a\F\b\S\c\T\d\R\e\E\f`, 'a|b^c&d~e\\f'],
    ['a value with no escapes is returned as is', 'Zoë Müller', 'Zoë Müller'],
    ['\\.br\\ is a line break', String.raw`line one\.br\line two`, 'line one\nline two'],
    ['\\.sp\\ ends the line', String.raw`a\.sp\b`, 'a\nb'],
    ['\\.sp n\\ skips n lines', String.raw`a\.sp 3\b`, 'a\n\n\nb'],
    ['\\.sp n\\ is capped at 20 lines', String.raw`a\.sp 999999999\b`, `a${'\n'.repeat(20)}b`],
    ['\\.ce\\ ends the line', String.raw`a\.ce\b`, 'a\nb'],
    ['\\.fi\\ \\.nf\\ \\.in\\ \\.ti\\ \\.sk\\ are dropped', String.raw`\.fi\a\.nf\b\.in +4\c\.ti -2\d\.sk 3\e`, 'abcde'],
    ['highlighting \\H\\ \\N\\ is dropped', String.raw`Allergy: \H\PENICILLIN\N\ (severe)`, 'Allergy: PENICILLIN (severe)'],
    ['\\Z..\\ locally defined escapes are dropped', String.raw`a\ZLOCAL1\b`, 'ab'],
    ['charset switches \\Cxxyy\\ \\Mxxyyzz\\ are dropped', String.raw`a\C2842\b\M2842D8\c`, 'abc'],
    ['\\X..\\ is hexadecimal data', '\\X41\\\\X4243\\', 'ABC'],
    ['\\X0D0A\\ is CR LF', String.raw`a\X0D0A\b`, 'a\r\nb'],
    ['\\X\\ with no digits is empty', String.raw`a\X\b`, 'ab'],
    ['an unknown escape is kept as sent', String.raw`a\Q\b`, String.raw`a\Q\b`],
    ['an unterminated escape is kept as sent', String.raw`C:\temp`, String.raw`C:\temp`],
    ['\\X\\ with an odd number of digits is kept as sent', String.raw`\X414\z`, String.raw`\X414\z`],
    ['\\X\\ with non-hex digits is kept as sent', String.raw`\XZZ\z`, String.raw`\XZZ\z`],
    ['\\P\\ is kept when there is no truncation character', String.raw`a\P\b`, String.raw`a\P\b`],
  ])('%s', (_name, value, expected) => {
    expect(unescape(value)).toBe(expected);
  });

  it('decodes \\X..\\ as UTF-8 in a UTF-8 message, joining adjacent sequences into one character', () => {
    expect(unescape('Zo\\XC3AB\\')).toBe('Zoë');
    expect(unescape(String.raw`Zo\XC3\\XAB\ (Ms)`)).toBe('Zoë (Ms)');
    expect(unescape(String.raw`O\XE28099\Brien`)).toBe('O\u2019Brien');
  });

  it('decodes \\X..\\ byte for byte in a latin1 message', () => {
    expect(unescape(String.raw`M\XFC\ller`, Hl7Charset.Latin1)).toBe('Müller');
    expect(unescape(String.raw`Zo\XC3AB\.`, Hl7Charset.Latin1)).toBe('ZoÃ«.');
  });

  it('turns invalid UTF-8 in \\X..\\ into U+FFFD rather than failing', () => {
    expect(unescape(String.raw`M\XFC\ller`)).toBe('M\uFFFDller');
  });

  it('uses the message escape character and delimiters, not the defaults', () => {
    const custom: Hl7Delimiters = { field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '@' };
    expect(unescape('a!F!b!S!c!T!d!R!e!E!f!.br!g', Hl7Charset.Utf8, custom)).toBe('a#b$c@d*e!f\ng');
    expect(unescape(String.raw`back\slash`, Hl7Charset.Utf8, custom)).toBe(String.raw`back\slash`);
  });

  it('turns \\P\\ into the truncation character when MSH-2 has one', () => {
    expect(unescape(String.raw`a\P\b`, Hl7Charset.Utf8, { ...d, truncation: '#' })).toBe('a#b');
  });
});

describe('escapeHl7', () => {
  it('escapes every delimiter, the escape character and line breaks', () => {
    expect(escapeHl7('a|b^c&d~e\\f\rg\nh', d)).toBe(String.raw`a\F\b\S\c\T\d\R\e\E\f\X0D\g\X0A\h`);
  });

  it('escapes with the message delimiters', () => {
    const custom: Hl7Delimiters = { field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '@', truncation: '%' };
    expect(escapeHl7('a#b$c|d!e%f', custom)).toBe('a!F!b!S!c|d!E!e!P!f');
  });

  it('round-trips through unescapeHl7', () => {
    const text = 'Müller ^ O\u2019Brien | \\ & ~ \r\n end';
    expect(unescape(escapeHl7(text, d))).toBe(text);
  });
});
