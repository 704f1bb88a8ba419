import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../../gateway/cli';
import { progressPrinter } from '../../gateway/cli/social-care-command';
import { zipFolder } from './zip';

/**
 * `carebridge generate social-care` and `carebridge import social-care` through the real command
 * line (commander), on a file-backed embedded store in a temporary DATA_DIR.
 */
jest.setTimeout(180_000);

let work: string;
const savedEnv = { ...process.env };
let out: string[] = [];

async function run(...args: string[]): Promise<string> {
  out = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    await buildCli().exitOverride().parseAsync(['node', 'carebridge', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out.join('');
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cb-social-care-cli-'));
  process.env['DATA_DIR'] = join(work, 'data');
  delete process.env['DATABASE_URL'];
  process.env['LOG_LEVEL'] = 'silent';
});

afterAll(() => {
  process.env = savedEnv;
  process.exitCode = undefined;
  rmSync(work, { recursive: true, force: true });
});

test('generate writes a valid messy extract and says what it wrote', async () => {
  const text = await run('generate', 'social-care', '--persons', '25', '--mess', '--out', join(work, 'extract'));
  expect(text).toMatch(/^Wrote [\d,]+ rows to /);
  expect(text).toContain('persons.csv');
  expect(text).toMatch(/Mess: \{"nhsNumberFormatted":\d+/);
  const manifest = JSON.parse(readFileSync(join(work, 'extract', 'manifest.json'), 'utf8')) as { files: Record<string, { rows: number }> };
  expect(manifest.files['persons.csv']?.rows).toBe(25);
});

test('import prints a summary and writes the JSON report; the same extract zipped imports again with no new versions', async () => {
  const report = join(work, 'report.json');
  const text = await run('import', 'social-care', join(work, 'extract'), '--report', report, '--no-progress');
  expect(text).toMatch(/^Import \d+ of https:\/\/social-care\.example-borough\.gov\.uk\/carefirst \(full extract of 2026-11-20T02:00:00Z\): done in/);
  expect(text).toMatch(/persons\.csv\s+25\s+25\s+0\s+0\s+0/);
  expect(text).toMatch(/rows rejected/);
  expect(text).toContain(`Report: ${report}`);
  const json = JSON.parse(readFileSync(report, 'utf8')) as { status: string; report: { file: string; line: number; reason: string; severity: string }[]; issues: { error: number; warning: number; information: number } };
  expect(json.status).toBe('done');
  expect(json.report.length).toBe(json.issues.error + json.issues.warning + json.issues.information);
  expect(json.report.filter((i) => i.severity === 'error').every((i) => i.file === 'alerts.csv' && i.reason.includes('PERSON_ID'))).toBe(true);

  const zipPath = join(work, 'extract.zip');
  writeFileSync(zipPath, await zipFolder(join(work, 'extract')));
  const again = await run('import', 'social-care', zipPath, '--report', join(work, 'report2.json'), '--no-progress');
  expect(again).toMatch(/Resources: [\d,]+ written, 0 new versions; 0 rows retired/);
});

test('a rejected extract exits with code 2 and says why', async () => {
  const manifestPath = join(work, 'extract', 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: Record<string, { rows: number }> };
  (manifest.files['persons.csv'] as { rows: number }).rows = 26;
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const text = await run('import', 'social-care', join(work, 'extract'), '--report', join(work, 'report3.json'), '--no-progress');
  expect(text).toContain('the extract is REJECTED and nothing was written');
  expect(text).toContain('persons.csv: 25 data rows, the manifest says 26');
  expect(process.exitCode).toBe(2);
  expect(existsSync(join(work, 'report3.json'))).toBe(true);
});

test('the progress printer shows rows, rows/s and an ETA', () => {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  const print = progressPrinter(stream);
  print({ phase: 'rows', file: 'persons.csv', rowsDone: 0, rowsTotal: 2000, elapsedMs: 0 });
  print({ phase: 'rows', file: 'services.csv', rowsDone: 1000, rowsTotal: 2000, elapsedMs: 10_000 });
  print({ phase: 'done', rowsDone: 2000, rowsTotal: 2000, elapsedMs: 20_000 });
  expect(lines[1]).toBe(`services.csv       [${'#'.repeat(15)}${'.'.repeat(15)}] 1,000/2,000 rows  100 rows/s  ETA 10s\n`);
  expect(lines[2]).toContain('2,000/2,000 rows  100 rows/s');
});
