import { ManifestError, parseManifest } from './manifest';

const valid = {
  source: 'carefirst',
  sourceSystemUri: 'https://social-care.example-borough.gov.uk/carefirst/',
  organisation: { code: 'E09000004', name: 'Example Borough Council Adult Social Care' },
  extractedAt: '2026-11-20T02:00:00Z',
  type: 'full',
  encoding: 'UTF8',
  files: { 'persons.csv': { rows: 3, sha256: 'A'.repeat(64) } },
};

const problemsOf = (json: unknown): readonly string[] => {
  try {
    parseManifest(Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)));
  } catch (err) {
    if (err instanceof ManifestError) return err.problems;
    throw err;
  }
  return [];
};

test('a valid manifest is read with its URI trimmed, encoding and hashes normalised', () => {
  const manifest = parseManifest(Buffer.from(`\uFEFF${JSON.stringify(valid)}`));
  expect(manifest).toEqual({
    source: 'carefirst',
    sourceSystemUri: 'https://social-care.example-borough.gov.uk/carefirst',
    organisation: { code: 'E09000004', name: 'Example Borough Council Adult Social Care' },
    extractedAt: '2026-11-20T02:00:00Z',
    type: 'full',
    encoding: 'utf-8',
    files: { 'persons.csv': { rows: 3, sha256: 'a'.repeat(64) } },
  });
});

test('every problem is listed at once', () => {
  expect(
    problemsOf({ ...valid, sourceSystemUri: 'not a uri', organisation: { code: 'Example', name: '' }, extractedAt: '20/11/2026', type: 'weekly', encoding: 'latin-9', files: { 'persons.csv': { rows: -1, sha256: 'x' }, '../etc.csv': { rows: 1, sha256: 'b'.repeat(64) } } }),
  ).toEqual([
    'sourceSystemUri must be an http(s) URL or a URN',
    "organisation.code must be the council's ONS code (e.g. E09000004)",
    'organisation.name is required',
    'extractedAt must be an ISO 8601 date-time with a zone',
    "type must be 'full' or 'delta'",
    "encoding must be 'utf-8' or 'windows-1252'",
    'files.persons.csv.rows must be a whole number',
    'files.persons.csv.sha256 must be 64 hex digits',
    'files.../etc.csv: file names cannot hold a path',
  ]);
});

test('persons.csv must be listed; text that is not JSON is refused plainly', () => {
  expect(problemsOf({ ...valid, files: {} })).toEqual(['files must list persons.csv']);
  expect(problemsOf('{"source":')).toEqual(['it is not JSON']);
  expect(problemsOf('[]')).toEqual(['it is not a JSON object']);
});
