import { parseHl7Timestamp } from './ts';

describe('HL7 timestamps to FHIR', () => {
  test.each([
    ['20250112231000', '2025-01-12T23:10:00+00:00', '2025-01-12T23:10:00Z'],
    ['20250714102500', '2025-07-14T10:25:00+01:00', '2025-07-14T09:25:00Z'],
    ['20250714102500+0200', '2025-07-14T10:25:00+02:00', '2025-07-14T08:25:00Z'],
    ['20250714102500-0530', '2025-07-14T10:25:00-05:30', '2025-07-14T15:55:00Z'],
    ['2025071410', '2025-07-14T10:00:00+01:00', '2025-07-14T09:00:00Z'],
    ['20250714102500.1234', '2025-07-14T10:25:00.1234+01:00', '2025-07-14T09:25:00.1234Z'],
  ])('%s without an offset is London wall-clock time: %s', (hl7, dateTime, instant) => {
    expect(parseHl7Timestamp(hl7)).toMatchObject({ ok: true, dateTime, instant, precision: 'time', shifted: false });
  });

  test.each([
    ['1940', '1940', 'year'],
    ['194005', '1940-05', 'month'],
    ['19400517', '1940-05-17', 'day'],
  ])('%s keeps its precision (%s)', (hl7, dateTime, precision) => {
    expect(parseHl7Timestamp(hl7)).toMatchObject({ ok: true, dateTime, date: dateTime, precision });
  });

  test('a date alone has its local midnight as instant (BST: the previous day in UTC)', () => {
    expect(parseHl7Timestamp('20250714')).toMatchObject({ instant: '2025-07-13T23:00:00Z' });
  });

  test.each(['20250230', '20251301', '20250229', '20250714250000', '20250714106000', '00000101', '20250714102500+1500'])('%s is impossible', (hl7) => {
    expect(parseHl7Timestamp(hl7)).toEqual({ ok: false, reason: 'impossible' });
  });

  test('29 February exists in leap years', () => {
    expect(parseHl7Timestamp('20240229')).toMatchObject({ ok: true, date: '2024-02-29' });
  });

  test.each(['yesterday', '2025-07-14', '2025071', '20250714 1025', ''])('%j is not a timestamp', (hl7) => {
    expect(parseHl7Timestamp(hl7)).toEqual({ ok: false, reason: 'format' });
  });

  test('the autumn hour that happens twice is the first (BST) one', () => {
    expect(parseHl7Timestamp('20251026013000')).toMatchObject({ dateTime: '2025-10-26T01:30:00+01:00', instant: '2025-10-26T00:30:00Z', shifted: false });
    expect(parseHl7Timestamp('20251026023000')).toMatchObject({ dateTime: '2025-10-26T02:30:00+00:00', instant: '2025-10-26T02:30:00Z' });
  });

  test('a time in the spring gap moves forward by the gap and says so', () => {
    expect(parseHl7Timestamp('20250330013000')).toMatchObject({ dateTime: '2025-03-30T02:30:00+01:00', instant: '2025-03-30T01:30:00Z', shifted: true });
    expect(parseHl7Timestamp('20250330023000')).toMatchObject({ dateTime: '2025-03-30T02:30:00+01:00', shifted: false });
  });

  test('the sender time zone is a parameter', () => {
    expect(parseHl7Timestamp('20250714102500', 'America/New_York')).toMatchObject({ dateTime: '2025-07-14T10:25:00-04:00', instant: '2025-07-14T14:25:00Z' });
    expect(parseHl7Timestamp('20250714102500', 'UTC')).toMatchObject({ dateTime: '2025-07-14T10:25:00+00:00' });
  });
});

test('every hour of a year in London reads back as the instant it was, but for the repeated autumn hour', () => {
  const wall = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const start = Date.parse('2025-01-01T00:00:00Z');
  const earlier: string[] = [];
  for (let hour = 0; hour < 365 * 24; hour++) {
    const utc = start + hour * 3_600_000;
    const parts = wall.formatToParts(new Date(utc));
    const ts = ['year', 'month', 'day', 'hour', 'minute', 'second'].map((type) => parts.find((x) => x.type === type)?.value ?? '').join('');
    const parsed = parseHl7Timestamp(ts);
    if (!parsed.ok || !parsed.instant) throw new Error('unparsed');
    if (Date.parse(parsed.instant) !== utc) earlier.push(new Date(utc).toISOString());
  }
  // 01:00-01:59 on 26 October 2025 happens twice; the second (GMT) reads as the first (BST).
  expect(earlier).toEqual(['2025-10-26T01:00:00.000Z']);
});
