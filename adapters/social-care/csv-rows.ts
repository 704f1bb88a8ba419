import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { parse } from 'csv-parse';
import type { ExtractEncoding } from './manifest';
import type { SocialCareTable, SourceRow, TableDefinition } from './tables';

/**
 * Streams one CSV table of an extract as rows: decoded from the manifest's encoding (UTF-8 with or
 * without a BOM, or windows-1252), parsed by csv-parse (quoted fields with commas, quotes and line
 * breaks; CRLF or LF), with the line each row starts on and its values by upper-case column name.
 * Problems with the file's shape (unknown or missing columns, extra values) go to `onIssue`.
 */
export interface CsvIssue {
  readonly table: SocialCareTable;
  readonly line: number;
  readonly column?: string;
  readonly code: CsvIssueCode;
  readonly text: string;
}

export const CsvIssueCode = {
  UNKNOWN_COLUMN: 'unknown-column',
  DUPLICATE_COLUMN: 'duplicate-column',
  MISSING_ID_COLUMN: 'missing-id-column',
  EXTRA_VALUES: 'extra-values',
  MISSING_VALUES: 'missing-values',
  NOT_VALID_TEXT: 'not-valid-text',
  EMPTY_FILE: 'empty-file',
  MALFORMED_CSV: 'malformed-csv',
} as const;
export type CsvIssueCode = (typeof CsvIssueCode)[keyof typeof CsvIssueCode];

/** Bytes → text in the extract's encoding, chunk by chunk (multi-byte characters split across chunks are kept whole). */
export function decoder(encoding: ExtractEncoding): Transform {
  const text = new TextDecoder(encoding, { ignoreBOM: false });
  return new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _enc, done: TransformCallback): void {
      done(null, text.decode(chunk, { stream: true }));
    },
    flush(done: TransformCallback): void {
      const rest = text.decode();
      done(null, rest.length > 0 ? rest : undefined);
    },
  });
}

function csvParser(): ReturnType<typeof parse> {
  // relax_quotes: a stray quote inside an unquoted field is kept as text rather than failing the file.
  return parse({ relax_column_count: true, relax_quotes: true, skip_empty_lines: false, bom: true, trim: false });
}

/** Line breaks inside a record's fields (CRLF counted once), to know where the next record starts. */
function embeddedBreaks(fields: readonly string[]): number {
  let n = 0;
  for (const f of fields) {
    if (!f.includes('\n') && !f.includes('\r')) continue;
    const m = f.match(/\r\n|\r|\n/g);
    n += m ? m.length : 0;
  }
  return n;
}

const isBlank = (fields: readonly string[]): boolean => fields.every((f) => f.trim() === '');

/**
 * The rows of one table. Blank lines are skipped; a file with no header yields nothing and says so.
 * A parse failure part-way (it cannot happen with the relaxed options, but a broken stream can)
 * is reported at the line reached and ends the file.
 */
export async function* readTableRows(input: Readable, encoding: ExtractEncoding, definition: TableDefinition, onIssue: (issue: CsvIssue) => void): AsyncGenerator<SourceRow> {
  const table = definition.table;
  const parser = input.pipe(decoder(encoding)).pipe(csvParser());
  input.on('error', (err) => parser.destroy(err));
  const known = new Set(definition.columns);
  let header: (string | undefined)[] | undefined;
  let columnNumbers: Record<string, number> = {};
  let line = 1;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const start = line;
      line += 1 + embeddedBreaks(record);
      if (!header) {
        if (isBlank(record)) continue;
        header = [];
        columnNumbers = {};
        const reported = new Set<string>();
        record.forEach((raw, i) => {
          const name = raw.trim().toUpperCase();
          if (name === '') {
            header?.push(undefined);
            return;
          }
          if (name in columnNumbers) {
            onIssue({ table, line: start, column: name, code: CsvIssueCode.DUPLICATE_COLUMN, text: `Column ${name} appears twice; the first is used` });
            header?.push(undefined);
            return;
          }
          if (!known.has(name) && !reported.has(name)) {
            reported.add(name);
            onIssue({ table, line: start, column: name, code: CsvIssueCode.UNKNOWN_COLUMN, text: `Column ${name} is not part of the contract; ignored` });
          }
          header?.push(name);
          columnNumbers[name] = i + 1;
        });
        if (!(definition.idColumn in columnNumbers)) {
          onIssue({ table, line: start, column: definition.idColumn, code: CsvIssueCode.MISSING_ID_COLUMN, text: `The header has no ${definition.idColumn} column; no row of this file can be imported` });
          return;
        }
        if (table !== 'persons' && !('PERSON_ID' in columnNumbers)) {
          onIssue({ table, line: start, column: 'PERSON_ID', code: CsvIssueCode.MISSING_ID_COLUMN, text: 'The header has no PERSON_ID column; no row of this file can be imported' });
          return;
        }
        continue;
      }
      if (isBlank(record)) continue;
      const values: Record<string, string> = {};
      let replacement = false;
      for (let i = 0; i < record.length; i++) {
        const raw = record[i] ?? '';
        if (i >= header.length) {
          // Trailing empty columns (a common export quirk) are dropped without comment.
          if (raw.trim() !== '') {
            onIssue({ table, line: start, code: CsvIssueCode.EXTRA_VALUES, text: `The row has ${record.length} values for ${header.length} columns; the values beyond the header are ignored` });
            break;
          }
          continue;
        }
        const name = header[i];
        if (!name) continue;
        if (raw.includes('\uFFFD')) replacement = true;
        values[name] = raw.trim();
      }
      if (record.length < header.length) {
        onIssue({ table, line: start, code: CsvIssueCode.MISSING_VALUES, text: `The row has ${record.length} values for ${header.length} columns; the missing ones are taken as empty` });
      }
      if (replacement) {
        onIssue({ table, line: start, code: CsvIssueCode.NOT_VALID_TEXT, text: `The row holds bytes that are not valid ${encoding}; they were replaced (check the manifest's encoding)` });
      }
      yield { table, line: start, values, columnNumbers };
    }
    if (!header) onIssue({ table, line: 1, code: CsvIssueCode.EMPTY_FILE, text: 'The file has no header row' });
  } catch (err) {
    onIssue({ table, line, code: CsvIssueCode.MALFORMED_CSV, text: `The file could not be read past this line (${csvErrorCode(err)})` });
  }
}

export interface TableScan {
  /** Data rows (header and blank lines excluded), for the manifest check. */
  readonly rows: number;
  /** Ids seen on more than one row, with the line of the last (the one that wins). */
  readonly duplicates: Map<string, number>;
}

/** Counts a table's data rows and finds repeated ids, holding only the set of ids. */
export async function scanTable(input: Readable, encoding: ExtractEncoding, idColumn?: string): Promise<TableScan> {
  const parser = input.pipe(decoder(encoding)).pipe(csvParser());
  input.on('error', (err) => parser.destroy(err));
  let header = false;
  let idIndex = -1;
  let rows = 0;
  let line = 1;
  const seen = new Set<string>();
  const duplicates = new Map<string, number>();
  for await (const record of parser as AsyncIterable<string[]>) {
    const start = line;
    line += 1 + embeddedBreaks(record);
    if (isBlank(record)) continue;
    if (!header) {
      header = true;
      idIndex = idColumn ? record.findIndex((c) => c.trim().toUpperCase() === idColumn) : -1;
      continue;
    }
    rows++;
    const id = idIndex >= 0 ? (record[idIndex] ?? '').trim() : '';
    if (!id) continue;
    if (seen.has(id)) duplicates.set(id, start);
    else seen.add(id);
  }
  return { rows, duplicates };
}

/** csv-parse's error code, never its message (which can quote the data). */
function csvErrorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'read error';
}
