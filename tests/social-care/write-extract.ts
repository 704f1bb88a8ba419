import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small extract folder for a test: CSV tables from rows, and a manifest with the right counts and sha256. */
export function writeExtract(
  files: Record<string, readonly Record<string, string>[]>,
  options: { type?: 'full' | 'delta'; extractedAt?: string; source?: string; dir?: string } = {},
): string {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cb-social-care-test-'));
  mkdirSync(dir, { recursive: true });
  const entries: Record<string, { rows: number; sha256: string }> = {};
  for (const [name, rows] of Object.entries(files)) {
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const quote = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const text = [columns.join(','), ...rows.map((r) => columns.map((c) => quote(r[c] ?? '')).join(','))].join('\n') + '\n';
    writeFileSync(join(dir, name), text);
    entries[name] = { rows: rows.length, sha256: createHash('sha256').update(text).digest('hex') };
  }
  const manifest = {
    source: 'carefirst',
    sourceSystemUri: options.source ?? 'https://social-care.example-borough.gov.uk/carefirst',
    organisation: { code: 'E09000004', name: 'Example Borough Council Adult Social Care' },
    extractedAt: options.extractedAt ?? '2026-11-20T02:00:00Z',
    type: options.type ?? 'full',
    encoding: 'utf-8',
    files: entries,
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}
