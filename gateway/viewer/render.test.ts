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

  test('what is not a date is shown as it is, and nothing for no value', () => {
    expect(formatDate('not a date', true)).toBe('not a date');
    expect(formatDate('', true)).toBe('');
    expect(formatDate(undefined, false)).toBe('');
  });
});
