import { formatUkDateTime } from './uk-time';

describe('formatUkDateTime', () => {
  test('a winter instant is shown in GMT', () => {
    expect(formatUkDateTime('2026-11-20T14:05:00Z')).toBe('20 November 2026, 14:05');
  });

  test('a summer instant is shown in BST, an hour ahead of UTC', () => {
    expect(formatUkDateTime('2026-07-03T08:30:00Z')).toBe('3 July 2026, 09:30');
  });

  test('an offset in the input is honoured and midnight is 00, not 24', () => {
    expect(formatUkDateTime('2026-11-21T01:00:00+01:00')).toBe('21 November 2026, 00:00');
  });

  test('text that is not a date is returned unchanged', () => {
    expect(formatUkDateTime('not a date')).toBe('not a date');
  });
});
