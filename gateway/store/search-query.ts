import type { InstantRange } from '../fhir/dates';

/** A validated FHIR search, ready to become SQL. Built by gateway/api/search-parser.ts. */

export const Prefix = { EQ: 'eq', NE: 'ne', GT: 'gt', LT: 'lt', GE: 'ge', LE: 'le', SA: 'sa', EB: 'eb', AP: 'ap' } as const;
export type Prefix = (typeof Prefix)[keyof typeof Prefix];

export type SearchFilter =
  | { kind: 'id'; values: string[] }
  | { kind: 'lastUpdated'; values: { prefix: Prefix; range: InstantRange }[] }
  | { kind: 'token'; code: string; negate: boolean; values: { system?: string | null; value?: string }[] }
  | { kind: 'string'; code: string; mode: 'start' | 'exact' | 'contains'; values: string[] }
  | { kind: 'date'; code: string; values: { prefix: Prefix; range: InstantRange }[] }
  | { kind: 'reference'; code: string; values: { type?: string; id: string }[] }
  | { kind: 'number'; code: string; values: { prefix: Prefix; value: number; low: number; high: number; system?: string; unit?: string }[] }
  | { kind: 'missing'; code: string; table: IndexTable; missing: boolean };

export type IndexTable = 'sp_token' | 'sp_string' | 'sp_date' | 'sp_reference' | 'sp_number';

export interface SortKey {
  /** '_id', '_lastUpdated', or an indexed parameter code. */
  code: string;
  table?: IndexTable;
  descending: boolean;
}

export interface IncludeSpec {
  /** The resource type holding the reference parameter. */
  sourceType: string;
  param: string;
  targetType?: string;
}

export interface SearchQuery {
  resourceType: string;
  filters: SearchFilter[];
  sort: SortKey[];
  count: number;
  cursor?: string;
  total: 'none' | 'accurate';
  summaryCount: boolean;
  include: IncludeSpec[];
  revInclude: IncludeSpec[];
}
