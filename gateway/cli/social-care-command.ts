import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { ExtractReadError, openExtract } from '../../adapters/social-care/extract-files';
import type { SocialCareIssue } from '../../mappings/social-care/context';
import { generateSocialCareExtract } from '../social-care/generator';
import { importExtract, type ImportProgress, type ImportSummary } from '../social-care/importer';
import { createImport, finishImport, ImportOrigin, ImportStatus, listIssues, runningImport } from '../social-care/imports';
import type { Store } from '../store/store';
import { withStore } from './open-store';

/**
 * `carebridge import social-care <folder|zip>`: the import in this process, with a progress bar on
 * stderr (rows, rows/s, ETA), a readable summary on stdout and the full JSON report (every rejected
 * or altered row: file, line, column, reason) in a file. Exit code 2 when the manifest check
 * rejects the extract.
 * `carebridge generate social-care --persons N [--mess] --out DIR`: a synthetic extract.
 */
const positiveInt =
  (name: string, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };

/** A parent command shared with other intakes (`import gp-connect`, …): found if already registered. */
function parent(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

const n = (x: number): string => x.toLocaleString('en-GB');

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Progress to stderr: a redrawn bar on a terminal, a line every few seconds otherwise. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: ImportProgress) => void {
  let lastLine = Number.NEGATIVE_INFINITY;
  return (p) => {
    const rate = p.elapsedMs > 0 ? (p.rowsDone / p.elapsedMs) * 1000 : 0;
    const fraction = p.rowsTotal > 0 ? Math.min(1, p.rowsDone / p.rowsTotal) : 0;
    const eta = rate > 0 && p.phase === 'rows' ? duration(((p.rowsTotal - p.rowsDone) / rate) * 1000) : '-';
    const width = 30;
    const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
    const label = p.phase === 'rows' ? (p.file ?? '') : p.phase;
    const text = `${label.padEnd(18)} [${bar}] ${n(p.rowsDone)}/${n(p.rowsTotal)} rows  ${n(Math.round(rate))} rows/s  ETA ${eta}`;
    if (stream.isTTY) {
      stream.write(`\r${text}\u001b[K${p.phase === 'done' ? '\n' : ''}`);
    } else if (p.phase === 'done' || p.elapsedMs - lastLine >= 5000 || p.phase !== 'rows') {
      lastLine = p.elapsedMs;
      stream.write(`${text}\n`);
    }
  };
}

export function readableSummary(summary: ImportSummary, reportPath: string | undefined, firstIssues: readonly SocialCareIssue[]): string {
  const lines: string[] = [];
  if (summary.status === 'rejected') {
    lines.push(`Import ${summary.importId}: the extract is REJECTED and nothing was written:`);
    for (const p of summary.problems ?? []) lines.push(`  - ${p}`);
  } else {
    lines.push(
      `Import ${summary.importId} of ${summary.source ?? ''} (${summary.type ?? ''} extract of ${summary.extractedAt ?? ''}): done in ${(summary.durationMs / 1000).toFixed(1)} s, ${n(summary.rows)} rows (${n(summary.rowsPerSecond)} rows/s)`,
    );
    lines.push(`  ${'file'.padEnd(20)}${'rows'.padStart(10)}${'accepted'.padStart(10)}${'rejected'.padStart(10)}${'duplicate'.padStart(10)}${'deleted'.padStart(10)}`);
    for (const [file, c] of Object.entries(summary.tables)) {
      lines.push(`  ${file.padEnd(20)}${n(c.rows).padStart(10)}${n(c.accepted).padStart(10)}${n(c.rejected).padStart(10)}${n(c.duplicates).padStart(10)}${n(c.deleted).padStart(10)}`);
    }
    const byType = Object.entries(summary.resources.changedByType)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([t, k]) => `${t} ${n(k)}`)
      .join(', ');
    lines.push(`Resources: ${n(summary.resources.written)} written, ${n(summary.resources.changed)} new versions${byType ? ` (${byType})` : ''}; ${n(summary.retiredRows)} rows retired`);
    lines.push(`Issues: ${n(summary.issues.error)} rows rejected, ${n(summary.issues.warning)} values altered or left out, ${n(summary.issues.information)} notes`);
    for (const i of firstIssues) lines.push(`  ${i.file}:${i.line}${i.column ? ` ${i.column}` : ''} ${i.severity}: ${i.reason}`);
    if (summary.issues.error + summary.issues.warning > firstIssues.length) lines.push('  …');
  }
  if (reportPath) lines.push(`Report: ${reportPath}`);
  return `${lines.join('\n')}\n`;
}

/** Runs one import from a folder or zip in this process; returns the summary and the report's path. */
export async function runCliImport(store: Store, path: string, options: { report?: string; batch?: number; onProgress?: (p: ImportProgress) => void }): Promise<{ summary: ImportSummary; reportPath: string; text: string }> {
  const other = await runningImport(store.engine);
  if (other) throw new Error(`Import ${other} is running; one import at a time (try again when it has finished)`);
  const owner = `cli:${process.pid}`;
  const importId = await createImport(store.engine, { origin: ImportOrigin.CLI, status: ImportStatus.RUNNING, fileName: basename(path), leaseOwner: owner });
  let summary: ImportSummary;
  try {
    const files = await openExtract(path);
    try {
      summary = await importExtract(store, files, { importId, leaseOwner: owner, batchSize: options.batch, onProgress: options.onProgress });
    } finally {
      await files.close();
    }
  } catch (err) {
    await finishImport(store.engine, importId, ImportStatus.FAILED, { importId, status: 'failed' }, err instanceof Error ? err.message.slice(0, 500) : 'import failed');
    throw err;
  }
  const issues: SocialCareIssue[] = [];
  for (let offset = 0; ; offset += 10_000) {
    const page = await listIssues(store.engine, importId, offset, 10_000);
    issues.push(...page);
    if (page.length < 10_000) break;
  }
  const reportPath = resolve(options.report ?? `social-care-import-${importId}.json`);
  writeFileSync(reportPath, `${JSON.stringify({ ...summary, report: issues }, null, 2)}\n`);
  const first = issues.filter((i) => i.severity === 'error').concat(issues.filter((i) => i.severity === 'warning')).slice(0, 20);
  return { summary, reportPath, text: readableSummary(summary, reportPath, first) };
}

export function registerSocialCareCommand(program: Command): void {
  parent(program, 'import', 'import data from a source system')
    .command('social-care <path>')
    .description('import a social care extract (a folder or a .zip of it: manifest.json and the CSV tables)')
    .option('--report <file>', 'where to write the JSON report (default social-care-import-<id>.json)')
    .option('--batch <n>', 'resources per transaction', positiveInt('batch', 10_000), 1000)
    .option('--no-progress', 'no progress bar')
    .action(async (path: string, options: { report?: string; batch: number; progress: boolean }) => {
      await withStore(async (store) => {
        try {
          const result = await runCliImport(store, path, { report: options.report, batch: options.batch, onProgress: options.progress ? progressPrinter() : undefined });
          process.stdout.write(result.text);
          if (result.summary.status === 'rejected') process.exitCode = 2;
        } catch (err) {
          if (err instanceof ExtractReadError) throw new Error(err.message);
          throw err;
        }
      });
    });

  parent(program, 'generate', 'generate synthetic test data')
    .command('social-care')
    .description('write a synthetic social care extract (invented people, 999-range NHS numbers)')
    .requiredOption('--persons <n>', 'how many people', positiveInt('persons', 10_000_000))
    .requiredOption('--out <dir>', 'the folder to write')
    .option('--mess', 'add every item of the contract\'s "real-world mess" list')
    .option('--encoding <encoding>', 'utf-8 or windows-1252', (v: string) => {
      if (v !== 'utf-8' && v !== 'windows-1252') throw new InvalidArgumentError('encoding must be utf-8 or windows-1252');
      return v;
    }, 'utf-8')
    .option('--type <type>', 'full or delta', (v: string) => {
      if (v !== 'full' && v !== 'delta') throw new InvalidArgumentError('type must be full or delta');
      return v;
    }, 'full')
    .option('--seed <n>', 'random seed (the same seed gives the same people)', positiveInt('seed', 2 ** 31), 1)
    .action((options: { persons: number; out: string; mess?: boolean; encoding: 'utf-8' | 'windows-1252'; type: 'full' | 'delta'; seed: number }) => {
      const result = generateSocialCareExtract({ persons: options.persons, out: resolve(options.out), mess: options.mess, encoding: options.encoding, type: options.type, seed: options.seed });
      process.stdout.write(`Wrote ${n(result.totalRows)} rows to ${result.dir}\n${Object.entries(result.rows).map(([f, k]) => `  ${f.padEnd(20)}${n(k).padStart(10)}`).join('\n')}\n`);
      if (options.mess) process.stdout.write(`Mess: ${JSON.stringify(result.mess)}\n`);
    });
}
