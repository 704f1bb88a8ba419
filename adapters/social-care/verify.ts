import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { scanTable } from './csv-rows';
import type { ExtractFiles } from './extract-files';
import { parseManifest, type ExtractManifest } from './manifest';
import { TABLE_BY_FILE, TABLES, type SocialCareTable } from './tables';

/**
 * The manifest check that comes before anything is written (specs/social-care-extract.md): every
 * listed file present, its sha256 and data-row count as stated, persons.csv present, no CSV in the
 * folder the manifest does not list. Streams each file once; holds no file in memory.
 */
export interface VerifiedExtract {
  readonly manifest: ExtractManifest;
  /** Files of the contract to import, in import order. */
  readonly tables: readonly string[];
  /** Files present but not imported (not in the contract), for the report. */
  readonly ignoredFiles: readonly string[];
  /** sha256 of manifest.json: the extract's identity. */
  readonly manifestSha256: string;
  /** Per table, ids on more than one row and the line of the last one (which wins). */
  readonly duplicates: ReadonlyMap<SocialCareTable, ReadonlyMap<string, number>>;
}

export class ExtractRejectedError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The extract is rejected, nothing was written: ${problems.join('; ')}`);
    this.name = 'ExtractRejectedError';
  }
}

async function readAll(files: ExtractFiles, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await files.open(name)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function verifyExtract(files: ExtractFiles): Promise<VerifiedExtract> {
  if (!files.names.includes('manifest.json')) throw new ExtractRejectedError(['manifest.json is missing']);
  const manifestBytes = await readAll(files, 'manifest.json');
  let manifest: ExtractManifest;
  try {
    manifest = parseManifest(manifestBytes);
  } catch (err) {
    throw new ExtractRejectedError(err instanceof Error && 'problems' in err ? (err.problems as string[]) : ['manifest.json is not valid']);
  }
  const problems: string[] = [];
  const duplicates = new Map<SocialCareTable, ReadonlyMap<string, number>>();
  for (const [name, expected] of Object.entries(manifest.files)) {
    if (!files.names.includes(name)) {
      problems.push(`${name} is listed in the manifest but missing`);
      continue;
    }
    const hash = createHash('sha256');
    const stream = await files.open(name);
    const tee = new PassThrough();
    stream.on('data', (chunk: Buffer) => hash.update(chunk));
    stream.on('error', (err) => tee.destroy(err));
    stream.pipe(tee);
    const definition = TABLE_BY_FILE.get(name);
    let rows: number;
    try {
      const scan = await scanTable(tee, manifest.encoding, definition?.idColumn);
      rows = scan.rows;
      if (definition && scan.duplicates.size > 0) duplicates.set(definition.table, scan.duplicates);
    } catch {
      problems.push(`${name} cannot be read`);
      continue;
    }
    const sha = hash.digest('hex');
    if (sha !== expected.sha256) problems.push(`${name}: sha256 is ${sha}, the manifest says ${expected.sha256}`);
    if (TABLE_BY_FILE.has(name) && rows !== expected.rows) problems.push(`${name}: ${rows} data rows, the manifest says ${expected.rows}`);
  }
  const unlisted = files.names.filter((n) => n.toLowerCase().endsWith('.csv') && !(n in manifest.files));
  for (const name of unlisted) problems.push(`${name} is in the extract but not in the manifest`);
  if (problems.length > 0) throw new ExtractRejectedError(problems);
  return {
    manifest,
    tables: TABLES.map((t) => t.file).filter((f) => f in manifest.files),
    ignoredFiles: Object.keys(manifest.files).filter((f) => !TABLE_BY_FILE.has(f)),
    manifestSha256: createHash('sha256').update(manifestBytes).digest('hex'),
    duplicates,
  };
}
