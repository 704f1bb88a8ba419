import type { SocialCareTable, SourceRow } from '../../adapters/social-care/tables';
import type { KeptRecord } from '../../mappings/social-care/extract-mapper';
import type { SqlClient } from '../store/engine';

/**
 * social_care_record: the rows each source holds, kept so a later full extract can retire what it
 * no longer sends, a delta's D can retire a row from what was last sent, and a person's care team,
 * open cases and care package are built from all their rows. Retired rows stay (retired_on set).
 */
export interface StoredRow {
  readonly table: SocialCareTable;
  readonly recordId: string;
  readonly personId: string;
  readonly row: SourceRow;
  readonly retiredOn: string | null;
}

interface Row {
  tbl: SocialCareTable;
  record_id: string;
  person_id: string;
  line: number;
  data: { values: Record<string, string>; columns: Record<string, number> };
  retired_on: string | Date | null;
}

const dateOnly = (d: string | Date | null): string | null => (d === null ? null : typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10));

function toStored(r: Row): StoredRow {
  return {
    table: r.tbl,
    recordId: r.record_id,
    personId: r.person_id,
    row: { table: r.tbl, line: r.line, values: r.data.values, columnNumbers: r.data.columns },
    retiredOn: dateOnly(r.retired_on),
  };
}

const COLUMNS = 'tbl, record_id, person_id, line, data, retired_on::text AS retired_on';

/** Keeps accepted rows as the source's current rows (this import's), with the hash of what each mapped to. */
export async function keepRecords(db: SqlClient, source: string, importId: string, records: readonly KeptRecord[], hashes?: readonly (string | null)[]): Promise<void> {
  if (records.length === 0) return;
  await db.query(
    `INSERT INTO social_care_record (source, tbl, record_id, person_id, line, data, resources_hash, retired_on, last_import)
     SELECT $1, t, r, p, l, d, h, NULL, $2::bigint
       FROM ROWS FROM (unnest($3::text[]), unnest($4::text[]), unnest($5::text[]), unnest($6::int[]), jsonb_array_elements($7::jsonb), unnest($8::text[])) AS x(t, r, p, l, d, h)
     ON CONFLICT (source, tbl, record_id) DO UPDATE SET person_id = EXCLUDED.person_id, line = EXCLUDED.line, data = EXCLUDED.data,
       resources_hash = EXCLUDED.resources_hash, retired_on = NULL, last_import = EXCLUDED.last_import`,
    [
      source,
      importId,
      records.map((r) => r.table),
      records.map((r) => r.recordId),
      records.map((r) => r.personId),
      records.map((r) => r.row.line),
      // One JSON array rather than a text[] of JSON documents: node-postgres escapes every quote of
      // each element of a text[], and the server parses the array literal before the JSON.
      `[${records.map((r) => JSON.stringify({ values: r.row.values, columns: r.row.columnNumbers })).join(',')}]`,
      records.map((_, i) => hashes?.[i] ?? null),
    ],
  );
}

/** What each current row last mapped to (by hash), for rows of this batch. */
export async function currentResourceHashes(db: SqlClient, source: string, keys: readonly { table: SocialCareTable; recordId: string }[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const result = await db.query<{ tbl: string; record_id: string; resources_hash: string }>(
    `SELECT r.tbl, r.record_id, r.resources_hash FROM social_care_record r JOIN unnest($2::text[], $3::text[]) AS k(t, i) ON r.tbl = k.t AND r.record_id = k.i
      WHERE r.source = $1 AND r.retired_on IS NULL AND r.resources_hash IS NOT NULL`,
    [source, keys.map((k) => k.table), keys.map((k) => k.recordId)],
  );
  return new Map(result.rows.map((r) => [`${r.tbl}|${r.record_id}`, r.resources_hash]));
}

/** The stored rows for these (table, id) pairs (a delta's D rows), current or retired. */
export async function storedRows(db: SqlClient, source: string, keys: readonly { table: SocialCareTable; recordId: string }[]): Promise<StoredRow[]> {
  if (keys.length === 0) return [];
  const result = await db.query<Row>(
    `SELECT ${COLUMNS} FROM social_care_record r JOIN unnest($2::text[], $3::text[]) AS k(t, i) ON r.tbl = k.t AND r.record_id = k.i WHERE r.source = $1`,
    [source, keys.map((k) => k.table), keys.map((k) => k.recordId)],
  );
  return result.rows.map(toStored);
}

/** Marks rows retired (kept, never deleted), and stamps them with this import. */
export async function retireRecords(db: SqlClient, source: string, importId: string, retiredOn: string, keys: readonly { table: SocialCareTable; recordId: string }[]): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    `UPDATE social_care_record r SET retired_on = COALESCE(r.retired_on, $3::date), last_import = $2::bigint
       FROM unnest($4::text[], $5::text[]) AS k(t, i) WHERE r.source = $1 AND r.tbl = k.t AND r.record_id = k.i`,
    [source, importId, retiredOn, keys.map((k) => k.table), keys.map((k) => k.recordId)],
  );
}

/** Rows a full extract no longer holds: current rows not seen by this import, a page at a time. */
export async function unseenCurrentRows(db: SqlClient, source: string, importId: string, after: { table: string; recordId: string } | undefined, limit: number): Promise<StoredRow[]> {
  const result = await db.query<Row>(
    `SELECT ${COLUMNS} FROM social_care_record
      WHERE source = $1 AND last_import <> $2::bigint AND retired_on IS NULL AND (tbl, record_id) > ($3, $4)
      ORDER BY tbl, record_id LIMIT $5`,
    [source, importId, after?.table ?? '', after?.recordId ?? '', limit],
  );
  return result.rows.map(toStored);
}

/** A page of persons' rows of one table (current and retired), for their aggregated resources. */
export async function rowsOfPersons(db: SqlClient, source: string, table: SocialCareTable, personIds: readonly string[]): Promise<StoredRow[]> {
  if (personIds.length === 0) return [];
  const result = await db.query<Row>(
    `SELECT ${COLUMNS} FROM social_care_record WHERE source = $1 AND tbl = $2 AND person_id = ANY($3::text[]) ORDER BY person_id, record_id`,
    [source, table, personIds],
  );
  return result.rows.map(toStored);
}

/** Whether the source holds any kept row, current or retired (false before its first import). */
export async function sourceHoldsRows(db: SqlClient, source: string): Promise<boolean> {
  const result = await db.query<{ one: number }>(`SELECT 1 AS one FROM social_care_record WHERE source = $1 LIMIT 1`, [source]);
  return result.rows.length > 0;
}

/** The people the source currently holds (a delta's rows may refer to them). */
export async function currentPersonIds(db: SqlClient, source: string): Promise<string[]> {
  const result = await db.query<{ record_id: string }>(`SELECT record_id FROM social_care_record WHERE source = $1 AND tbl = 'persons' AND retired_on IS NULL`, [source]);
  return result.rows.map((r) => r.record_id);
}

/** The current rows of other tables for these people (a delta that deletes a person retires what hangs off them). */
export async function currentRowsOfPersons(db: SqlClient, source: string, personIds: readonly string[]): Promise<StoredRow[]> {
  if (personIds.length === 0) return [];
  const result = await db.query<Row>(
    `SELECT ${COLUMNS} FROM social_care_record WHERE source = $1 AND person_id = ANY($2::text[]) AND tbl <> 'persons' AND retired_on IS NULL ORDER BY tbl, record_id`,
    [source, personIds],
  );
  return result.rows.map(toStored);
}
