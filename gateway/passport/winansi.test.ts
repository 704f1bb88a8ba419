import { toWinAnsi } from './winansi';

describe('toWinAnsi', () => {
  test('text already in WinAnsi is unchanged, Latin-1 accents and Windows-1252 punctuation included', () => {
    const text = 'ELLIS, Margaret · born 12 April 1938 – “Maggie” café, Zoë, Siân, Seán, 36.9 °C, €5, Œuvre, naïve…\nnext line';
    expect(toWinAnsi(text)).toBe(text);
  });

  test('Polish and Welsh names come out as their closest WinAnsi spelling', () => {
    expect(toWinAnsi('Łucja Wałęsa-Żółkiewska')).toBe('Lucja Walesa-Zólkiewska');
    expect(toWinAnsi('Ŵyn ap Gruffydd, Dŷ Gwyn, ẃ ẁ ẅ ỳ')).toBe('Wyn ap Gruffydd, Dy Gwyn, w w w y');
    expect(toWinAnsi('Đorđe, Ħal, ı')).toBe('Dorde, Hal, i');
  });

  test('characters decomposed into a letter and combining accents are treated as one letter', () => {
    expect(toWinAnsi('Lu\u0301cia W\u0302yn')).toBe('Lúcia Wyn');
  });

  test('signs with a usual ASCII stand-in get it', () => {
    expect(toWinAnsi('NEWS2 ≥ 5 → call; Na⁺ − 2; eGFR ≤ 30; ﬁne; a\u2011b')).toBe('NEWS2 >= 5 -> call; Na+ - 2; eGFR <= 30; fine; a-b');
  });

  test('emoji, whole emoji sequences and scripts with no likeness become one "?" each', () => {
    expect(toWinAnsi('Loves her cat 🐈 and family 👨‍👩‍👧 ❤️ 👍🏽')).toBe('Loves her cat ? and family ? ? ?');
    expect(toWinAnsi('名前 Олег')).toBe('?? ????');
  });

  test('tabs and carriage returns become spaces and newlines; invisible characters are dropped', () => {
    expect(toWinAnsi('a\tb\r\nc\rd\u200be\u200ff\ufeffg\u0007h')).toBe('a b\nc\ndefgh');
  });

  test('the result is always within WinAnsi', () => {
    const wild = 'Łucja 🐈 Ŵyn 名 ∑ ∞ \u{1F600}\u{E000}\u{10FFFF} \uD800 end';
    for (const character of toWinAnsi(wild)) {
      const code = character.codePointAt(0) ?? 0;
      expect(code === 10 || (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ'.includes(character)).toBe(true);
    }
    expect(toWinAnsi(wild)).toBe('Lucja ? Wyn ? ? ? ??? ? end');
  });
});
