import { dateUtc } from './utc';

describe('dateUtc: Date.UTC with the year as written', () => {
  it('keeps years 1 to 99 (Date.UTC would read them as 1901 to 1999)', () => {
    expect(new Date(dateUtc(87, 0, 1)).toISOString()).toBe('0087-01-01T00:00:00.000Z');
    expect(new Date(dateUtc(1, 11, 31, 23, 59, 59)).toISOString()).toBe('0001-12-31T23:59:59.000Z');
    expect(new Date(dateUtc(4, 1, 29)).toISOString()).toBe('0004-02-29T00:00:00.000Z');
    expect(Date.UTC(87, 0, 1)).not.toBe(dateUtc(87, 0, 1));
  });

  it('is Date.UTC for every other year, rolling over the same way', () => {
    for (const [y, m, d] of [[1987, 0, 1], [2026, 1, 29], [1900, 1, 29], [2000, 1, 29], [100, 0, 1], [9999, 11, 31]] as const) {
      expect(dateUtc(y, m, d, 12, 30, 15, 7)).toBe(Date.UTC(y, m, d, 12, 30, 15, 7));
    }
    // 31 February rolls into March, as Date.UTC does, in a small year too.
    expect(new Date(dateUtc(5, 1, 31)).toISOString()).toBe('0005-03-03T00:00:00.000Z');
  });
});
