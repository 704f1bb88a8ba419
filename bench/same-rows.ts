import type { Store } from '../gateway/store/store';

/**
 * Proof that the ceiling wrote exactly the rows the store wrote: a count and a digest of every
 * row of every table the write path touches, compared between the two stores.
 */
const TABLES = ['resource', 'resource_history', 'sp_token', 'sp_string', 'sp_date', 'sp_reference', 'sp_number'] as const;

export interface TableDigest {
  readonly table: string;
  readonly rows: number;
  readonly digest: string;
}

export async function tableDigests(store: Store): Promise<TableDigest[]> {
  const digests: TableDigest[] = [];
  for (const table of TABLES) {
    const result = await store.engine.query<{ rows: number; digest: string | null }>(
      `SELECT count(*)::int AS rows, md5(string_agg(h, '' ORDER BY h)) AS digest FROM (SELECT md5(t::text) AS h FROM ${table} t) AS d`,
    );
    const row = result.rows[0];
    digests.push({ table, rows: row?.rows ?? 0, digest: row?.digest ?? '' });
  }
  return digests;
}

/** Throws, naming the tables, unless both stores hold the same rows. */
export async function assertSameRows(a: Store, b: Store): Promise<TableDigest[]> {
  const [da, db] = await Promise.all([tableDigests(a), tableDigests(b)]);
  const other = new Map(db.map((d) => [d.table, d]));
  const differing = da.filter((d) => other.get(d.table)?.rows !== d.rows || other.get(d.table)?.digest !== d.digest).map((d) => d.table);
  if (differing.length > 0) throw new Error(`The ceiling and the store wrote different rows in: ${differing.join(', ')}`);
  return da;
}
