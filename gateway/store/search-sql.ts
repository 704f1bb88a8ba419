import { scopePredicates, SqlParams, withheldPredicate, type AccessScope } from './access-scope';
import { Prefix, type IndexTable, type SearchFilter, type SearchQuery, type SortKey } from './search-query';

/**
 * FHIR search → one parameterised SQL statement over `resource r`. Every filter is a semi-join on
 * an index table; the access scope is part of the same WHERE, so paging and totals only ever see
 * what the reader may see. Paging is keyset (the sort values of the last row, then the id), so a
 * `next` link stays correct while resources are added or changed.
 */

const ID = `r.id COLLATE "C"`;

function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * A filter as a semi-join on an index table. The type is the searched type's own parameter, not
 * r.resource_type: PostgreSQL before 17 cannot turn a subquery that refers to the outer row into a
 * join, and would run it once per resource of the type.
 */
function indexSubquery(table: IndexTable, typeParam: string, code: string, params: SqlParams, condition: string): string {
  return `r.id IN (SELECT x.resource_id FROM ${table} x WHERE x.resource_type = ${typeParam} AND x.code = ${params.add(code)} AND (${condition}))`;
}

/**
 * Range comparison of search value [sl, sh) against target [low, high) (FHIR R4 §3.1.1.5.5).
 * The bounds are added as parameters only when the prefix uses them: PostgreSQL refuses a
 * statement with a parameter it never sees.
 */
function rangePredicate(prefix: Prefix, low: string, high: string, bounds: { sl: () => string; sh: () => string }): string {
  const sl = (): string => bounds.sl();
  const sh = (): string => bounds.sh();
  const eqOf = (): string => {
    const s = sl();
    return `(${low} >= ${s} AND ${high} <= ${sh()})`;
  };
  switch (prefix) {
    case Prefix.EQ:
      return eqOf();
    case Prefix.NE:
      return `NOT ${eqOf()}`;
    case Prefix.GT:
      return `${high} > ${sh()}`;
    case Prefix.LT:
      return `${low} < ${sl()}`;
    case Prefix.GE: {
      const s = sh();
      return `(${high} > ${s} OR ${eqOf()})`;
    }
    case Prefix.LE: {
      const s = sl();
      return `(${low} < ${s} OR ${eqOf()})`;
    }
    case Prefix.SA:
      return `${low} >= ${sh()}`;
    case Prefix.EB:
      return `${high} <= ${sl()}`;
    case Prefix.AP: {
      const s = sh();
      return `(${low} < ${s} AND ${high} > ${sl()})`;
    }
  }
}

function rangeBounds(range: { low: Date; high: Date }, params: SqlParams): { sl: () => string; sh: () => string } {
  let sl: string | undefined;
  let sh: string | undefined;
  return {
    sl: () => (sl ??= `${params.add(range.low.toISOString())}::timestamptz`),
    sh: () => (sh ??= `${params.add(range.high.toISOString())}::timestamptz`),
  };
}

function numberPredicate(prefix: Prefix, column: string, v: { value: number; low: number; high: number }, params: SqlParams): string {
  const value = (): string => `${params.add(v.value)}::numeric`;
  switch (prefix) {
    case Prefix.EQ:
    case Prefix.AP:
      return `(${column} >= ${params.add(v.low)}::numeric AND ${column} < ${params.add(v.high)}::numeric)`;
    case Prefix.NE:
      return `NOT (${column} >= ${params.add(v.low)}::numeric AND ${column} < ${params.add(v.high)}::numeric)`;
    case Prefix.GT:
    case Prefix.SA:
      return `${column} > ${value()}`;
    case Prefix.LT:
    case Prefix.EB:
      return `${column} < ${value()}`;
    case Prefix.GE:
      return `${column} >= ${value()}`;
    case Prefix.LE:
      return `${column} <= ${value()}`;
  }
}

function filterPredicate(filter: SearchFilter, typeParam: string, params: SqlParams): string {
  switch (filter.kind) {
    case 'id':
      return `r.id = ANY(${params.add(filter.values)}::text[])`;
    case 'lastUpdated':
      // A stored instant is the range [t, t + 1 ms).
      return filter.values
        .map((v) => rangePredicate(v.prefix, 'r.last_updated', `(r.last_updated + interval '1 millisecond')`, rangeBounds(v.range, params)))
        .join(' AND ');
    case 'token': {
      const alternatives = filter.values.map((v) => {
        const parts: string[] = [];
        if (v.value !== undefined) parts.push(`x.value = ${params.add(v.value)}`);
        if (v.system === null) parts.push('x.system IS NULL');
        else if (v.system !== undefined) parts.push(`x.system = ${params.add(v.system)}`);
        return `(${parts.join(' AND ')})`;
      });
      const sub = indexSubquery('sp_token', typeParam, filter.code, params, alternatives.join(' OR '));
      return filter.negate ? `NOT ${sub}` : sub;
    }
    case 'string': {
      const alternatives = filter.values.map((v) => {
        switch (filter.mode) {
          case 'exact':
            return `x.raw = ${params.add(v)}`;
          case 'contains':
            return `x.value LIKE ${params.add(`%${likeEscape(v)}%`)}`;
          case 'start':
            return `x.value LIKE ${params.add(`${likeEscape(v)}%`)}`;
        }
      });
      return indexSubquery('sp_string', typeParam, filter.code, params, alternatives.join(' OR '));
    }
    case 'date': {
      const alternatives = filter.values.map((v) =>
        rangePredicate(v.prefix, 'x.low', 'x.high', rangeBounds(v.range, params)),
      );
      return indexSubquery('sp_date', typeParam, filter.code, params, alternatives.join(' OR '));
    }
    case 'reference': {
      const alternatives = filter.values.map((v) =>
        v.type ? `(x.target_type = ${params.add(v.type)} AND x.target_id = ${params.add(v.id)})` : `x.target_id = ${params.add(v.id)}`,
      );
      return indexSubquery('sp_reference', typeParam, filter.code, params, alternatives.join(' OR '));
    }
    case 'number': {
      const alternatives = filter.values.map((v) => {
        const parts = [numberPredicate(v.prefix, 'x.value', v, params)];
        if (v.system) parts.push(`x.system = ${params.add(v.system)}`);
        if (v.unit) parts.push(`x.unit = ${params.add(v.unit)}`);
        return `(${parts.join(' AND ')})`;
      });
      return indexSubquery('sp_number', typeParam, filter.code, params, alternatives.join(' OR '));
    }
    case 'missing': {
      const sub = indexSubquery(filter.table, typeParam, filter.code, params, 'TRUE');
      return filter.missing ? `NOT ${sub}` : sub;
    }
  }
}

interface SortColumn {
  expression: string;
  cast: 'text' | 'timestamptz' | 'numeric';
  descending: boolean;
}

const SORT_VALUE: Record<IndexTable, { asc: string; desc: string; cast: SortColumn['cast'] }> = {
  sp_string: { asc: 'min(x.value)', desc: 'max(x.value)', cast: 'text' },
  sp_token: { asc: 'min(x.value)', desc: 'max(x.value)', cast: 'text' },
  sp_reference: { asc: 'min(x.target_id)', desc: 'max(x.target_id)', cast: 'text' },
  sp_date: { asc: 'min(x.low)', desc: 'max(x.high)', cast: 'timestamptz' },
  sp_number: { asc: 'min(x.value)', desc: 'max(x.value)', cast: 'numeric' },
};

/** Missing values sort last in both directions (sentinels beyond every real value). */
const LAST: Record<SortColumn['cast'], { asc: string; desc: string }> = {
  text: { asc: `chr(1114111)`, desc: `''` },
  timestamptz: { asc: `'infinity'::timestamptz`, desc: `'-infinity'::timestamptz` },
  numeric: { asc: `'Infinity'::numeric`, desc: `'-Infinity'::numeric` },
};

function sortColumns(sort: SortKey[], params: SqlParams): SortColumn[] {
  return sort.map((key) => {
    if (key.code === '_id') return { expression: ID, cast: 'text', descending: key.descending };
    if (key.code === '_lastUpdated') return { expression: 'r.last_updated', cast: 'timestamptz', descending: key.descending };
    const table = key.table as IndexTable;
    const spec = SORT_VALUE[table];
    const aggregate = key.descending ? spec.desc : spec.asc;
    const sentinel = key.descending ? LAST[spec.cast].desc : LAST[spec.cast].asc;
    const collate = spec.cast === 'text' ? ' COLLATE "C"' : '';
    return {
      expression: `COALESCE((SELECT ${aggregate} FROM ${table} x WHERE x.resource_type = r.resource_type AND x.resource_id = r.id AND x.code = ${params.add(key.code)}), ${sentinel})${collate}`,
      cast: spec.cast,
      descending: key.descending,
    };
  });
}

export interface PageCursor {
  direction: 'next' | 'previous';
  sortValues: (string | null)[];
  id: string;
}

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.direction === 'next' ? 'n' : 'p', cursor.sortValues, cursor.id])).toString('base64url');
}

/** Whether a cursor's sort value can be cast to its column's type (a tampered one may not). */
function validSortValue(value: string | null, cast: SortColumn['cast']): boolean {
  if (value === null) return true;
  switch (cast) {
    case 'text':
      return value.length <= 4096;
    case 'timestamptz':
      return value === 'infinity' || value === '-infinity' || (/^\d{4}-\d{2}-\d{2}[ T][\d:.]+([+-]\d{2}(:?\d{2})?|Z)?$/.test(value) && !Number.isNaN(Date.parse(value.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'))));
    case 'numeric':
      return /^(-?\d+(\.\d+)?|-?Infinity)$/.test(value);
  }
}

/** The casts of the sort keys, for checking a cursor before it reaches SQL. */
export function sortCasts(sort: readonly SortKey[]): SortColumn['cast'][] {
  return sort.map((key) => {
    if (key.code === '_id') return 'text';
    if (key.code === '_lastUpdated') return 'timestamptz';
    return SORT_VALUE[key.table as IndexTable].cast;
  });
}

/** Returns undefined for anything that is not a cursor we made for this sort. */
export function decodeCursor(text: string, casts: readonly SortColumn['cast'][]): PageCursor | undefined {
  const sortKeyCount = casts.length;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 3) return undefined;
    const [direction, sortValues, id] = value as unknown[];
    if ((direction !== 'n' && direction !== 'p') || typeof id !== 'string' || !Array.isArray(sortValues)) return undefined;
    if (sortValues.length !== sortKeyCount || !sortValues.every((v) => v === null || typeof v === 'string')) return undefined;
    if (!(sortValues as (string | null)[]).every((v, i) => validSortValue(v, casts[i] ?? 'text'))) return undefined;
    if (id.length === 0 || id.length > 64) return undefined;
    return { direction: direction === 'n' ? 'next' : 'previous', sortValues: sortValues as (string | null)[], id };
  } catch {
    return undefined;
  }
}

/** Rows strictly after (or before) the cursor row in the sort order, the id breaking ties. */
function keysetPredicate(columns: SortColumn[], cursor: PageCursor, params: SqlParams): string {
  const keys = [...columns.map((c, i) => ({ expression: c.expression, descending: c.descending, value: `${params.add(cursor.sortValues[i])}::${c.cast}` })), { expression: ID, descending: false, value: `${params.add(cursor.id)}::text COLLATE "C"` }];
  const alternatives = keys.map((key, i) => {
    const forward = key.descending ? '<' : '>';
    const op = cursor.direction === 'next' ? forward : forward === '>' ? '<' : '>';
    const equalities = keys.slice(0, i).map((k) => `${k.expression} = ${k.value}`);
    return `(${[...equalities, `${key.expression} ${op} ${key.value}`].join(' AND ')})`;
  });
  return `(${alternatives.join(' OR ')})`;
}

export interface BuiltSearch {
  sql: string;
  params: unknown[];
  countSql: string;
  countParams: unknown[];
  /** The page was fetched backwards and must be reversed before use. */
  reversed: boolean;
  /** Whether the scope withheld a match of the reader's own people (EXISTS), when it can withhold any. */
  withheldSql?: string;
  withheldParams?: unknown[];
}

/** The columns of each row an AccessScope reads (ScopeRow), selected when the scope is applied after reading. */
const SCOPE_COLUMNS = [`r.resource_type`, `r.patient_ids`, `r.security`, `(r.content->'meta'->>'source') AS source`];

export function buildSearchSql(query: SearchQuery, scope: AccessScope, cursor: PageCursor | undefined, options: { scopeColumns?: boolean } = {}): BuiltSearch {
  // The count shares the filters and scope but not the sort or cursor (and so none of their parameters).
  const build = (forPage: boolean, withheld = false): { sql: string; params: SqlParams; columns: SortColumn[] } => {
    const params = new SqlParams();
    const typeParam = params.add(query.resourceType);
    const where = [`r.resource_type = ${typeParam}`];
    if (withheld) where.push(withheldPredicate(scope, 'r', params) ?? 'FALSE');
    else where.push(...scopePredicates(scope, 'r', params));
    for (const filter of query.filters) where.push(filterPredicate(filter, typeParam, params));
    const columns = forPage ? sortColumns(query.sort, params) : [];
    if (forPage && cursor) where.push(keysetPredicate(columns, cursor, params));
    return { sql: where.join('\n  AND '), params, columns };
  };
  const page = build(true);
  const reversed = cursor?.direction === 'previous';
  const order = [...page.columns.map((c) => `${c.expression} ${c.descending !== reversed ? 'DESC' : 'ASC'}`), `${ID} ${reversed ? 'DESC' : 'ASC'}`];
  const select = [`r.content::text AS content`, `r.id`, ...(options.scopeColumns ? SCOPE_COLUMNS : []), ...page.columns.map((c, i) => `(${c.expression})::text AS s${i}`)];
  const limit = page.params.add(query.count + 1);
  const sql = `SELECT ${select.join(', ')}\nFROM resource r\nWHERE ${page.sql}\nORDER BY ${order.join(', ')}\nLIMIT ${limit}`;
  const counted = build(false);
  const probe = withheldPredicate(scope, 'r', new SqlParams()) !== undefined ? build(false, true) : undefined;
  return {
    sql,
    params: page.params.values,
    countSql: `SELECT count(*)::int AS total FROM resource r WHERE ${counted.sql}`,
    countParams: counted.params.values,
    reversed,
    ...(probe ? { withheldSql: `SELECT EXISTS (SELECT 1 FROM resource r WHERE ${probe.sql}) AS withheld`, withheldParams: probe.params.values } : {}),
  };
}
