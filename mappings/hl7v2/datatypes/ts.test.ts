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

describe('timestamps around the clock changes (the offset cached per UTC day)', () => {
  const london = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const wallOf = (utc: number): string => {
    const parts = london.formatToParts(new Date(utc));
    return ['year', 'month', 'day', 'hour', 'minute', 'second'].map((type) => parts.find((x) => x.type === type)?.value ?? '').join('');
  };

  test.each([
    ['spring forward, GMT to BST', '2025-03-29T12:00:00Z'],
    ['fall back, BST to GMT', '2025-10-25T12:00:00Z'],
    ['spring forward 2024', '2024-03-30T12:00:00Z'],
    ['fall back 2024', '2024-10-26T12:00:00Z'],
  ])('%s: every quarter hour for two days reads back as its instant, with the offset London had then', (_label, from) => {
    const start = Date.parse(from);
    const readBack: string[] = [];
    for (let quarter = 0; quarter < 2 * 24 * 4; quarter++) {
      const utc = start + quarter * 900_000;
      const parsed = parseHl7Timestamp(wallOf(utc));
      if (!parsed.ok || parsed.instant === undefined) throw new Error('unparsed');
      // dateTime is the wall-clock time sent, with an offset that names the same instant.
      expect(parsed.dateTime.slice(0, 19).replace(/[-T:]/g, '')).toBe(wallOf(utc));
      expect(Date.parse(parsed.dateTime)).toBe(Date.parse(parsed.instant));
      if (Date.parse(parsed.instant) !== utc) readBack.push(new Date(utc).toISOString());
    }
    // Only the repeated autumn hour (its second, GMT, pass) reads as another instant: the first.
    const repeated = readBack.map((iso) => Date.parse(iso));
    for (const utc of repeated) expect(wallOf(utc)).toBe(wallOf(utc - 3_600_000));
    expect(readBack.length === 0 || readBack.length === 4).toBe(true);
  });

  test.each([
    ['Europe/London', '2025-03-29T12:00:00Z'],
    ['Europe/London', '2025-10-25T12:00:00Z'],
    ['America/New_York', '2025-03-08T12:00:00Z'],
    ['America/New_York', '2025-11-01T12:00:00Z'],
    ['Australia/Lord_Howe', '2025-04-05T00:00:00Z'],
    ['Australia/Lord_Howe', '2025-10-04T00:00:00Z'],
    ['America/Sao_Paulo', '2018-11-03T12:00:00Z'],
  ])('%s around %s: each wall-clock time (every 5 minutes) gets the offset the zone has at the instant it names', (zone, from) => {
    const wall = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset' });
    const read = (utc: number): { wall: string; offset: string } => {
      const parts = wall.formatToParts(new Date(utc));
      const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((x) => x.type === type)?.value ?? '';
      const name = get('timeZoneName').replace('GMT', '');
      return { wall: `${get('year')}${get('month')}${get('day')}${get('hour')}${get('minute')}${get('second')}`, offset: name === '' ? '+00:00' : name };
    };
    const start = Date.parse(from);
    let gaps = 0;
    for (let step = 0; step < 2 * 24 * 12; step++) {
      const input = read(start + step * 300_000).wall;
      // The same wall-clock digits, moved by 0-59 minutes, also probe the hour that does not exist.
      for (const sent of [input, `${input.slice(0, 10)}${String((Number(input.slice(10, 12)) + 17) % 60).padStart(2, '0')}00`]) {
        const parsed = parseHl7Timestamp(sent, zone);
        if (!parsed.ok || parsed.instant === undefined) throw new Error('unparsed');
        const at = read(Date.parse(parsed.instant));
        expect(parsed.dateTime.slice(19)).toBe(at.offset);
        if (parsed.shifted) gaps++;
        else expect(at.wall).toBe(sent);
      }
    }
    expect(gaps).toBeLessThan(2 * 24 * 12);
  });

  test('the ambiguous autumn hour is BST both times it is asked (the cached day is not reused wrongly)', () => {
    for (let i = 0; i < 3; i++) {
      expect(parseHl7Timestamp('20241027011500')).toMatchObject({ dateTime: '2024-10-27T01:15:00+01:00', instant: '2024-10-27T00:15:00Z', shifted: false });
      expect(parseHl7Timestamp('20241027005959')).toMatchObject({ dateTime: '2024-10-27T00:59:59+01:00', instant: '2024-10-26T23:59:59Z' });
      expect(parseHl7Timestamp('20241027020000')).toMatchObject({ dateTime: '2024-10-27T02:00:00+00:00', instant: '2024-10-27T02:00:00Z' });
    }
  });

  test('every minute of the missing spring hour moves forward an hour, says so, and its dateTime is the moved time', () => {
    for (let minute = 0; minute < 60; minute++) {
      const mm = String(minute).padStart(2, '0');
      expect(parseHl7Timestamp(`2024033101${mm}00`)).toEqual({
        ok: true,
        dateTime: `2024-03-31T02:${mm}:00+01:00`,
        date: '2024-03-31',
        precision: 'time',
        instant: `2024-03-31T01:${mm}:00Z`,
        shifted: true,
      });
    }
    expect(parseHl7Timestamp('20240331005959')).toMatchObject({ dateTime: '2024-03-31T00:59:59+00:00', shifted: false });
    expect(parseHl7Timestamp('20240331020000')).toMatchObject({ dateTime: '2024-03-31T02:00:00+01:00', instant: '2024-03-31T01:00:00Z', shifted: false });
  });

  test('missing minutes and seconds are written as zero, the fraction as sent', () => {
    expect(parseHl7Timestamp('202503301')).toEqual({ ok: false, reason: 'format' });
    expect(parseHl7Timestamp('2025033002')).toMatchObject({ dateTime: '2025-03-30T02:00:00+01:00', shifted: false });
    expect(parseHl7Timestamp('202503300130')).toMatchObject({ dateTime: '2025-03-30T02:30:00+01:00', shifted: true });
    expect(parseHl7Timestamp('20251026013000.5')).toMatchObject({ dateTime: '2025-10-26T01:30:00.5+01:00', instant: '2025-10-26T00:30:00.5Z' });
  });

  test('instants at the ends of the four-digit years are written as before', () => {
    expect(parseHl7Timestamp('01000101000000+1400')).toMatchObject({ dateTime: '0100-01-01T00:00:00+14:00', instant: '0099-12-31T10:00:00Z' });
    expect(parseHl7Timestamp('99991231235959-1200')).toMatchObject({ dateTime: '9999-12-31T23:59:59-12:00', instant: '10000-01-01T11:59:59Z' });
  });

  test('a year below 100 keeps its century (Date.UTC alone would read 0087 as 1987)', () => {
    expect(parseHl7Timestamp('008701011230+0000')).toMatchObject({ dateTime: '0087-01-01T12:30:00+00:00', instant: '0087-01-01T12:30:00Z' });
    // London kept local mean time then (-0:01:15), which the instant carries to the minute.
    expect(parseHl7Timestamp('00870101')).toMatchObject({ date: '0087-01-01', instant: '0087-01-01T00:01:00Z' });
  });

  test('the same value in two zones gives each zone its own answer, however often it is asked', () => {
    for (let i = 0; i < 3; i++) {
      expect(parseHl7Timestamp('20250714102500', 'Europe/London')).toMatchObject({ instant: '2025-07-14T09:25:00Z' });
      expect(parseHl7Timestamp('20250714102500', 'America/New_York')).toMatchObject({ instant: '2025-07-14T14:25:00Z' });
      expect(parseHl7Timestamp(' 20250714102500 ', 'UTC')).toMatchObject({ instant: '2025-07-14T10:25:00Z' });
    }
  });
});
