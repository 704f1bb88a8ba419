import { formatDate } from './render';

describe('dates on the viewer pages, in the NHS style and UK time', () => {
  test('a date, a month or a year is shown as given, with no time zone applied', () => {
    expect(formatDate('1938-04-12', false)).toBe('12 April 1938');
    expect(formatDate('1938-04-12', true)).toBe('12 April 1938');
    expect(formatDate('2026-11', false)).toBe('November 2026');
    expect(formatDate('1990', true)).toBe('1990');
  });

  test('an instant is shown in UK time: GMT in winter, BST in summer, one after another with the same formatter', () => {
    expect(formatDate('2026-11-20T02:40:00Z', true)).toBe('20 November 2026, 02:40');
    expect(formatDate('2026-07-01T08:05:00Z', true)).toBe('1 July 2026, 09:05');
    expect(formatDate('2026-07-01T23:30:00+00:00', false)).toBe('2 July 2026');
    expect(formatDate('2026-10-25T00:30:00Z', true)).toBe('25 October 2026, 01:30');
    expect(formatDate('2026-10-25T01:30:00Z', true)).toBe('25 October 2026, 01:30');
  });

  test('instants in the same minute show the same, asked again or seconds apart; before railway time London was not a whole minute off UTC', () => {
    expect(formatDate('2026-03-29T00:59:59.999Z', true)).toBe('29 March 2026, 00:59');
    expect(formatDate('2026-03-29T01:00:00Z', true)).toBe('29 March 2026, 02:00');
    expect(formatDate('2026-03-29T01:00:59Z', true)).toBe('29 March 2026, 02:00');
    expect(formatDate('2026-03-29T02:00:30+01:00', false)).toBe('29 March 2026');
    expect(formatDate('2026-03-29T00:59:01Z', true)).toBe('29 March 2026, 00:59');
    // Local mean time, 1 min 15 s behind GMT, until December 1847.
    expect(formatDate('1840-01-01T12:00:00Z', true)).toBe('1 January 1840, 11:58');
    expect(formatDate('1840-01-01T12:00:45Z', true)).toBe('1 January 1840, 11:59');
  });

  test('instants from 1848 to 2100, the clock changes among them, show as ICU shows them in Europe/London', () => {
    const icu = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
    const expected = (ms: number): string => {
      const parts = icu.formatToParts(new Date(ms));
      const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
      return `${get('day')} ${get('month')} ${get('year')}, ${get('hour')}:${get('minute')}`;
    };
    const from = Date.UTC(1848, 0, 1);
    const span = Date.UTC(2100, 0, 1) - from;
    let seed = 42;
    const instants: number[] = [];
    for (let i = 0; i < 3000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      instants.push(from + Math.floor((seed / 2 ** 31) * span));
    }
    // Each side of the changes of 1916 (the first BST), 1941 (double summer time), 1968 (BST all year) and 2026.
    for (const change of [Date.UTC(1916, 4, 21, 2), Date.UTC(1941, 4, 4, 1), Date.UTC(1968, 1, 18, 2), Date.UTC(2026, 2, 29, 1), Date.UTC(2026, 9, 25, 1)]) {
      for (const delta of [-3_600_001, -60_000, -1, 0, 1, 59_999, 3_600_000]) instants.push(change + delta);
    }
    const wrong = instants.filter((ms) => formatDate(new Date(ms).toISOString(), true) !== expected(ms));
    expect(wrong.map((ms) => new Date(ms).toISOString())).toEqual([]);
  });

  test('what is not a date is shown as it is, and nothing for no value', () => {
    expect(formatDate('not a date', true)).toBe('not a date');
    expect(formatDate('', true)).toBe('');
    expect(formatDate(undefined, false)).toBe('');
  });
});
