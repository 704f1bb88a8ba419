import { TABLE_BY_FILE } from './tables';

/**
 * manifest.json of a social care extract (specs/social-care-extract.md, "manifest.json"): which
 * source and council it is from, full or delta, the text encoding, and each file's row count and
 * sha256. A manifest that does not validate rejects the whole extract before anything is read.
 */
export const ExtractType = { FULL: 'full', DELTA: 'delta' } as const;
export type ExtractType = (typeof ExtractType)[keyof typeof ExtractType];

export const ExtractEncoding = { UTF8: 'utf-8', WINDOWS_1252: 'windows-1252' } as const;
export type ExtractEncoding = (typeof ExtractEncoding)[keyof typeof ExtractEncoding];

export interface ManifestFile {
  readonly rows: number;
  readonly sha256: string;
}

export interface ExtractManifest {
  readonly source: string;
  readonly sourceSystemUri: string;
  readonly organisation: { readonly code: string; readonly name: string };
  readonly extractedAt: string;
  readonly type: ExtractType;
  readonly encoding: ExtractEncoding;
  readonly files: Readonly<Record<string, ManifestFile>>;
}

export class ManifestError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`manifest.json is not valid: ${problems.join('; ')}`);
    this.name = 'ManifestError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** ONS local authority codes: a letter and eight digits (E09000004, W06000015). */
const ONS_CODE = /^[EWSN]\d{8}$/;

/** Parses and checks manifest.json; every problem is listed at once. */
export function parseManifest(bytes: Buffer): ExtractManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    throw new ManifestError(['it is not JSON']);
  }
  if (!isRecord(json)) throw new ManifestError(['it is not a JSON object']);
  const problems: string[] = [];
  const source = text(json['source']) ?? '';
  if (!source) problems.push('source is required');
  const uri = text(json['sourceSystemUri']) ?? '';
  if (!/^(https?:\/\/[^\s/]+\S*|urn:[a-z0-9][a-z0-9-]*:\S+)$/i.test(uri)) problems.push('sourceSystemUri must be an http(s) URL or a URN');
  const org = isRecord(json['organisation']) ? json['organisation'] : undefined;
  const code = text(org?.['code']) ?? '';
  if (!ONS_CODE.test(code)) problems.push('organisation.code must be the council\'s ONS code (e.g. E09000004)');
  const name = text(org?.['name']) ?? '';
  if (!name) problems.push('organisation.name is required');
  const extractedAt = text(json['extractedAt']) ?? '';
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(extractedAt) || Number.isNaN(Date.parse(extractedAt))) {
    problems.push('extractedAt must be an ISO 8601 date-time with a zone');
  }
  const type = json['type'];
  if (type !== 'full' && type !== 'delta') problems.push("type must be 'full' or 'delta'");
  const encodingText = (text(json['encoding']) ?? 'utf-8').toLowerCase();
  const encoding = encodingText === 'utf8' ? 'utf-8' : encodingText === 'cp1252' ? 'windows-1252' : encodingText;
  if (encoding !== 'utf-8' && encoding !== 'windows-1252') problems.push("encoding must be 'utf-8' or 'windows-1252'");
  const files: Record<string, ManifestFile> = {};
  if (!isRecord(json['files'])) problems.push('files is required');
  else {
    for (const [file, entry] of Object.entries(json['files'])) {
      if (!isRecord(entry)) {
        problems.push(`files.${file} must be an object`);
        continue;
      }
      const rows = entry['rows'];
      const sha = text(entry['sha256'])?.toLowerCase();
      if (typeof rows !== 'number' || !Number.isInteger(rows) || rows < 0) problems.push(`files.${file}.rows must be a whole number`);
      if (!sha || !/^[0-9a-f]{64}$/.test(sha)) problems.push(`files.${file}.sha256 must be 64 hex digits`);
      if (file.includes('/') || file.includes('\\')) problems.push(`files.${file}: file names cannot hold a path`);
      if (typeof rows === 'number' && sha) files[file] = { rows, sha256: sha };
    }
    if (!('persons.csv' in files) && !problems.some((p) => p.startsWith('files.persons.csv'))) problems.push('files must list persons.csv');
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return { source, sourceSystemUri: uri.replace(/\/+$/, ''), organisation: { code, name }, extractedAt, type: type as ExtractType, encoding: encoding as ExtractEncoding, files };
}

/** Files the manifest lists that the contract does not know (kept out of the import, reported). */
export function unknownManifestFiles(manifest: ExtractManifest): string[] {
  return Object.keys(manifest.files).filter((f) => !TABLE_BY_FILE.has(f));
}
