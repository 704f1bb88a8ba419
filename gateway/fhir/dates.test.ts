import { parseFhirDateRange } from './dates';

const range = (input: string): [string, string] | undefined => {
  const r = parseFhirDateRange(input);
  return r ? [r.low.toISOString(), r.high.toISOString()] : undefined;
};

describe('FHIR dates as instant ranges', () => {
  test.each([
    ['1940', '1940-01-01T00:00:00.000Z', '1941-01-01T00:00:00.000Z'],
    ['1940-02', '1940-02-01T00:00:00.000Z', '1940-03-01T00:00:00.000Z'],
    ['1940-12', '1940-12-01T00:00:00.000Z', '1941-01-01T00:00:00.000Z'],
    ['1940-02-29', '1940-02-29T00:00:00.000Z', '1940-03-01T00:00:00.000Z'],
    ['2026-11-20T10:30', '2026-11-20T10:30:00.000Z', '2026-11-20T10:31:00.000Z'],
    ['2026-11-20T10:30:15Z', '2026-11-20T10:30:15.000Z', '2026-11-20T10:30:16.000Z'],
    ['2026-07-01T10:30:15+01:00', '2026-07-01T09:30:15.000Z', '2026-07-01T09:30:16.000Z'],
    ['2026-11-20T10:30:15.25Z', '2026-11-20T10:30:15.250Z', '2026-11-20T10:30:15.251Z'],
  ])('%s covers [%s, %s)', (input, low, high) => {
    expect(range(input)).toEqual([low, high]);
  });

  test.each(['1940-02-30', '1941-02-29', '1940-13', '1940-00', '2026-11-20T25:00', '31/02/1940', '40', '1940-1-1', "1940'; drop", '2026-11-20T10:30:15+15:00'])(
    '%s is not a date',
    (input) => {
      expect(parseFhirDateRange(input)).toBeUndefined();
    },
  );
});
