import type { Resource } from '@medplum/fhirtypes';
import { scopeAdmits, scopeInCode, scopePredicates, scopeWithholds, SqlParams, SYSTEM_SCOPE, withheldPredicate, type AccessScope, type ScopeRow } from './access-scope';
import type { SqlClient } from './engine';
import type { IncludeSpec, SearchQuery } from './search-query';
import { buildSearchSql, decodeCursor, encodeCursor, sortCasts, type PageCursor } from './search-sql';

/**
 * Every read of stored resources. Each function takes an AccessScope: there is no way to read
 * without one (the system's own work passes SYSTEM_SCOPE explicitly). The per-resource check,
 * redaction and audit sit one layer up, in gateway/access.
 */

/** jsonb stores keys in its own order; FHIR readers expect resourceType, id and meta first. */
export function parseStoredResource(text: string): Resource {
  const { resourceType, id, meta, ...rest } = JSON.parse(text) as Resource;
  return { resourceType, id, meta, ...rest } as Resource;
}

export type ReadOutcome = { found: true; resource: Resource } | { found: false; withheld: boolean };

function visibility(scope: AccessScope, alias: string, params: SqlParams): string {
  const predicates = scopePredicates(scope, alias, params);
  return predicates.length > 0 ? predicates.join(' AND ') : 'TRUE';
}

/**
 * An old version is visible only when both it and the current version are: a resource that has
 * since become restricted (a new label, a move to another person) takes its history with it, so
 * vread and _history never show what a read of the resource would withhold.
 */
function historyVisibility(scope: AccessScope, params: SqlParams): string {
  const own = visibility(scope, 'r', params);
  const current = visibility(scope, 'c', params);
  if (own === 'TRUE' && current === 'TRUE') return 'TRUE';
  return `(${own}) AND EXISTS (SELECT 1 FROM resource c WHERE c.resource_type = r.resource_type AND c.id = r.id AND ${current})`;
}

export async function readResource(db: SqlClient, scope: AccessScope, resourceType: string, id: string): Promise<ReadOutcome> {
  const params = new SqlParams();
  const sql = `SELECT r.content::text AS content, (${visibility(scope, 'r', params)}) AS visible FROM resource r WHERE r.resource_type = ${params.add(resourceType)} AND r.id = ${params.add(id)}`;
  const result = await db.query<{ content: string; visible: boolean }>(sql, params.values);
  const row = result.rows[0];
  if (!row) return { found: false, withheld: false };
  if (!row.visible) return { found: false, withheld: true };
  return { found: true, resource: parseStoredResource(row.content) };
}

export async function readVersion(db: SqlClient, scope: AccessScope, resourceType: string, id: string, versionId: string): Promise<ReadOutcome> {
  if (!/^[1-9]\d{0,17}$/.test(versionId)) return { found: false, withheld: false };
  const params = new SqlParams();
  const sql = `SELECT r.content::text AS content, (${historyVisibility(scope, params)}) AS visible FROM resource_history r WHERE r.resource_type = ${params.add(resourceType)} AND r.id = ${params.add(id)} AND r.version_id = ${params.add(versionId)}::bigint`;
  const result = await db.query<{ content: string; visible: boolean }>(sql, params.values);
  const row = result.rows[0];
  if (!row) return { found: false, withheld: false };
  if (!row.visible) return { found: false, withheld: true };
  return { found: true, resource: parseStoredResource(row.content) };
}

export interface HistoryPage {
  versions: Resource[];
  /** Versions that exist but the scope withholds (counted, never shown). */
  withheld: number;
  total: number;
  /** versionId to continue below, when there are older versions. */
  nextBefore?: string;
}

/** Instance history, newest first. Each version is checked against the scope on its own labels and the current version's. */
export async function readHistory(
  db: SqlClient,
  scope: AccessScope,
  resourceType: string,
  id: string,
  options: { count: number; before?: string; since?: Date },
): Promise<HistoryPage> {
  const params = new SqlParams();
  const where = [`r.resource_type = ${params.add(resourceType)}`, `r.id = ${params.add(id)}`];
  if (options.since) where.push(`r.last_updated >= ${params.add(options.since.toISOString())}::timestamptz`);
  const visible = historyVisibility(scope, params);
  const counts = await db.query<{ total: number; withheld: number }>(
    `SELECT count(*) FILTER (WHERE ${visible})::int AS total, count(*) FILTER (WHERE NOT (${visible}))::int AS withheld FROM resource_history r WHERE ${where.join(' AND ')}`,
    params.values,
  );
  const pageWhere = [...where, visible];
  if (options.before) pageWhere.push(`r.version_id < ${params.add(options.before)}::bigint`);
  const limit = params.add(options.count + 1);
  const rows = await db.query<{ content: string; version_id: string }>(
    `SELECT r.content::text AS content, r.version_id::text AS version_id FROM resource_history r WHERE ${pageWhere.join(' AND ')} ORDER BY r.version_id DESC LIMIT ${limit}`,
    params.values,
  );
  const page = rows.rows.slice(0, options.count);
  const more = rows.rows.length > options.count;
  return {
    versions: page.map((r) => parseStoredResource(r.content)),
    withheld: counts.rows[0]?.withheld ?? 0,
    total: counts.rows[0]?.total ?? 0,
    nextBefore: more ? page[page.length - 1]?.version_id : undefined,
  };
}

export interface SearchPage {
  resources: Resource[];
  /** The first page only: whether the scope withheld a match of the reader's own people (1) or not (0). */
  withheld?: number;
  total?: number;
  next?: string;
  previous?: string;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('The paging cursor is not valid for this search; start again from the first page.');
    this.name = 'InvalidCursorError';
  }
}

export async function searchResources(db: SqlClient, scope: AccessScope, query: SearchQuery): Promise<SearchPage> {
  let cursor: PageCursor | undefined;
  if (query.cursor !== undefined) {
    cursor = decodeCursor(query.cursor, sortCasts(query.sort));
    if (!cursor) throw new InvalidCursorError();
  }
  const built = buildSearchSql(query, scope, cursor);
  const count = async (): Promise<number> => (await db.query<{ total: number }>(built.countSql, built.countParams)).rows[0]?.total ?? 0;
  if (query.summaryCount) return { resources: [], total: await count() };
  const result = await db.query<Record<string, string | null> & { content: string; id: string }>(built.sql, built.params);
  const withheld = built.withheldSql && !cursor ? await anyWithheld(db, built.withheldSql, built.withheldParams ?? []) : 0;
  const more = result.rows.length > query.count;
  // A first page that holds every match is its own total: no second query (the common NHS-number lookup).
  let total: number | undefined;
  if (query.total === 'accurate' && !cursor) total = more ? await count() : result.rows.length;
  let rows = result.rows.slice(0, query.count);
  if (built.reversed) rows = rows.reverse();
  const keyOf = (row: (typeof rows)[number], direction: PageCursor['direction']): string =>
    encodeCursor({ direction, id: row.id, sortValues: query.sort.map((_, i) => row[`s${i}`] ?? null) });
  const first = rows[0];
  const last = rows[rows.length - 1];
  // Forward: a next page exists when we fetched one row more; a previous page whenever we came from a cursor.
  // Backward: the mirror image.
  const hasNext = built.reversed ? true : more;
  const hasPrevious = built.reversed ? more : cursor !== undefined;
  return {
    resources: rows.map((r) => parseStoredResource(r.content)),
    withheld,
    total,
    next: hasNext && last ? keyOf(last, 'next') : undefined,
    previous: hasPrevious && first ? keyOf(first, 'previous') : undefined,
  };
}

/** A match of a search read with the system's rights, with the columns a scope reads, to be scoped afterwards. */
export interface ScopedMatch {
  readonly resource: Resource;
  readonly row: ScopeRow;
}

/**
 * Whether searchAmong answers this query under this scope as searchResources would: only a first
 * page in the default order (by id), the order the matches are read in, and only a scope whose
 * every part scopeAdmits applies (scopeInCode; any other is left to the SQL). _include and
 * _revinclude are read after the page, from it, so they do not matter here.
 */
export const answerableAmong = (query: SearchQuery, scope: AccessScope): boolean => query.sort.length === 0 && query.cursor === undefined && scopeInCode(scope);

/**
 * Every match of the query's filters, unscoped, in id order, at most `limit` of them: what a
 * search is about before anyone decides what of it the reader may see (the people a Patient
 * search finds). Not a page: the query's count, cursor, sort, total and includes play no part.
 */
export async function readMatches(db: SqlClient, query: SearchQuery, limit: number): Promise<ScopedMatch[]> {
  const unpaged: SearchQuery = { ...query, count: limit - 1, cursor: undefined, total: 'none', summaryCount: false, include: [], revInclude: [], sort: [] };
  const built = buildSearchSql(unpaged, SYSTEM_SCOPE, undefined, { scopeColumns: true });
  const result = await db.query<{ content: string; id: string; resource_type: string; patient_ids: string[]; security: string[]; source: string | null }>(built.sql, built.params);
  return result.rows.map((r) => ({
    resource: parseStoredResource(r.content),
    row: { resourceType: r.resource_type, id: r.id, patientIds: r.patient_ids, security: r.security, source: r.source },
  }));
}

/**
 * The page searchResources(db, scope, query) returns, from `matches` instead of the database:
 * `matches` must be every match of the query's filters (readMatches, not cut short by its limit)
 * and the query and scope answerableAmong. The scope is applied to the rows as the SQL would
 * apply it (scopeAdmits, scopeWithholds), and the page, total, withheld probe and next link
 * follow searchResources step by step.
 */
export function searchAmong(matches: readonly ScopedMatch[], scope: AccessScope, query: SearchQuery): SearchPage {
  if (!answerableAmong(query, scope)) throw new Error('searchAmong answers only a first page in id order, under a scope it applies in full');
  const visible = matches.filter((m) => scopeAdmits(scope, m.row));
  if (query.summaryCount) return { resources: [], total: visible.length };
  const withholds = scopeWithholds(scope);
  const withheld = matches.some((m) => withholds(m.row)) ? 1 : 0;
  const fetched = visible.slice(0, query.count + 1);
  const more = fetched.length > query.count;
  // Every match is in hand, so the accurate total is simply how many are visible.
  const total = query.total === 'accurate' ? visible.length : undefined;
  const rows = fetched.slice(0, query.count);
  const last = rows[rows.length - 1];
  return {
    resources: rows.map((m) => m.resource),
    withheld,
    total,
    next: more && last ? encodeCursor({ direction: 'next', id: last.row.id, sortValues: [] }) : undefined,
    previous: undefined,
  };
}

/** Upper bound on resources added by _include/_revinclude to one page. */
export const MAX_INCLUDED = 1000;

/** _include: the resources that the page's resources point to through the given parameters. */
export async function readIncluded(db: SqlClient, scope: AccessScope, page: readonly Resource[], specs: readonly IncludeSpec[]): Promise<Resource[]> {
  const found = new Map<string, Resource>();
  for (const spec of specs) {
    const ids = page.filter((r) => r.resourceType === spec.sourceType).map((r) => r.id as string);
    if (ids.length === 0) continue;
    const params = new SqlParams();
    const where = [
      `x.resource_type = ${params.add(spec.sourceType)}`,
      `x.resource_id = ANY(${params.add(ids)}::text[])`,
      `x.code = ${params.add(spec.param)}`,
      ...scopePredicates(scope, 'r', params),
    ];
    if (spec.targetType) where.push(`x.target_type = ${params.add(spec.targetType)}`);
    const rows = await db.query<{ content: string; key: string }>(
      `SELECT DISTINCT r.content::text AS content, r.resource_type || '/' || r.id AS key FROM sp_reference x JOIN resource r ON r.resource_type = x.target_type AND r.id = x.target_id WHERE ${where.join(' AND ')} LIMIT ${params.add(MAX_INCLUDED)}`,
      params.values,
    );
    for (const row of rows.rows) found.set(row.key, parseStoredResource(row.content));
  }
  return [...found.values()].slice(0, MAX_INCLUDED);
}

/** _revinclude: resources of spec.sourceType whose spec.param points at a resource on the page. */
export async function readRevIncluded(db: SqlClient, scope: AccessScope, page: readonly Resource[], specs: readonly IncludeSpec[]): Promise<Resource[]> {
  const found = new Map<string, Resource>();
  for (const spec of specs) {
    const targets = page.filter((r) => !spec.targetType || r.resourceType === spec.targetType);
    if (targets.length === 0) continue;
    const params = new SqlParams();
    const sourceType = params.add(spec.sourceType);
    const where = [
      `r.resource_type = ${sourceType}`,
      `r.id IN (SELECT x.resource_id FROM sp_reference x JOIN unnest(${params.add(targets.map((t) => t.resourceType))}::text[], ${params.add(targets.map((t) => t.id as string))}::text[]) AS t(tt, ti) ON x.target_type = t.tt AND x.target_id = t.ti WHERE x.resource_type = ${sourceType} AND x.code = ${params.add(spec.param)})`,
      ...scopePredicates(scope, 'r', params),
    ];
    const rows = await db.query<{ content: string; key: string }>(
      `SELECT r.content::text AS content, r.resource_type || '/' || r.id AS key FROM resource r WHERE ${where.join(' AND ')} ORDER BY r.id COLLATE "C" LIMIT ${params.add(MAX_INCLUDED)}`,
      params.values,
    );
    for (const row of rows.rows) found.set(row.key, parseStoredResource(row.content));
  }
  return [...found.values()].slice(0, MAX_INCLUDED);
}

function decodeCompartmentCursor(text: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string];
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

export interface CompartmentPage {
  resources: Resource[];
  /** The first page only: whether the scope withheld anything of the compartment (1) or not (0). */
  withheld: number;
  next?: string;
}

async function anyWithheld(db: SqlClient, sql: string, params: unknown[]): Promise<number> {
  const rows = await db.query<{ withheld: boolean }>(sql, params);
  return rows.rows[0]?.withheld === true ? 1 : 0;
}

/**
 * Patient/$everything: every resource in the patients' compartments, in (type, id) order, paged by
 * keyset, plus (on each page) the resources outside any compartment that those resources refer to.
 */
export async function readCompartment(
  db: SqlClient,
  scope: AccessScope,
  patientIds: readonly string[],
  options: { count: number; after?: string; types?: readonly string[]; since?: Date },
): Promise<CompartmentPage> {
  // The compartment as asked (the people, and the _type and _since of the request), for the page and the withheld probe alike.
  const asked = (p: SqlParams): string[] => [
    `r.patient_ids && ${p.add(patientIds)}::text[]`,
    ...(options.types ? [`r.resource_type = ANY(${p.add(options.types)}::text[])`] : []),
    ...(options.since ? [`r.last_updated >= ${p.add(options.since.toISOString())}::timestamptz`] : []),
  ];
  const params = new SqlParams();
  const where = [...asked(params), ...scopePredicates(scope, 'r', params)];
  if (options.after) {
    const [type, id] = decodeCompartmentCursor(options.after);
    where.push(`(r.resource_type COLLATE "C", r.id COLLATE "C") > (${params.add(type)}::text COLLATE "C", ${params.add(id)}::text COLLATE "C")`);
  }
  const rows = await db.query<{ content: string; resource_type: string; id: string }>(
    `SELECT r.content::text AS content, r.resource_type, r.id FROM resource r WHERE ${where.join(' AND ')} ORDER BY r.resource_type COLLATE "C", r.id COLLATE "C" LIMIT ${params.add(options.count + 1)}`,
    params.values,
  );
  const page = rows.rows.slice(0, options.count);
  const last = page[page.length - 1];
  // Whether anything of the compartment (as asked: types, since) was withheld by the scope, asked once, on the first page.
  let withheld = 0;
  if (!options.after) {
    const probeParams = new SqlParams();
    const probe = withheldPredicate(scope, 'r', probeParams);
    if (probe) {
      const probeWhere = [...asked(probeParams), probe];
      withheld = await anyWithheld(db, `SELECT EXISTS (SELECT 1 FROM resource r WHERE ${probeWhere.join(' AND ')}) AS withheld`, probeParams.values);
    }
  }
  // Referenced resources outside any patient compartment (Practitioner, Organization, Location, Medication…).
  // The page's own references first (sp_reference by source), materialised so the planner cannot
  // start from the targets instead: a practice or a hospital is the target of every record it
  // holds, so from there it would read the references of all its patients to find this page's.
  const refParams = new SqlParams();
  const targets = `SELECT DISTINCT x.target_type, x.target_id FROM unnest(${refParams.add(page.map((r) => r.resource_type))}::text[], ${refParams.add(page.map((r) => r.id))}::text[]) AS k(t, i) JOIN sp_reference x ON x.resource_type = k.t AND x.resource_id = k.i`;
  const refWhere = [`r.patient_ids = '{}'`, ...scopePredicates(scope, 'r', refParams)];
  if (options.types) refWhere.push(`r.resource_type = ANY(${refParams.add(options.types)}::text[])`);
  const referenced =
    page.length > 0
      ? // The targets are distinct, so each resource comes once.
        (
          await db.query<{ content: string }>(
            `WITH targets AS MATERIALIZED (${targets}) SELECT r.content::text AS content FROM targets t JOIN resource r ON r.resource_type = t.target_type AND r.id = t.target_id WHERE ${refWhere.join(' AND ')} LIMIT ${refParams.add(MAX_INCLUDED)}`,
            refParams.values,
          )
        ).rows
      : [];
  // Parsed once every query is answered: a text per row waits across them, not its object graph.
  const resources = page.map((r) => parseStoredResource(r.content));
  for (const r of referenced) resources.push(parseStoredResource(r.content));
  return {
    resources,
    withheld,
    next: rows.rows.length > options.count && last ? Buffer.from(JSON.stringify([last.resource_type, last.id])).toString('base64url') : undefined,
  };
}
