/**
 * The one seam between CareBridge's SQL and the two engines that run it.
 * PostgreSQL and PGlite differ only in how a connection is made; every statement above this
 * interface is plain PostgreSQL SQL with $n parameters, never string-built values.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface SqlClient {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface SqlEngine extends SqlClient {
  /** 'pglite' or 'postgres', for logs, metrics and /readyz. */
  readonly kind: EngineKind;
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export const EngineKind = {
  PGLITE: 'pglite',
  POSTGRES: 'postgres',
} as const;
export type EngineKind = (typeof EngineKind)[keyof typeof EngineKind];

/** A failure worth retrying (connection lost, serialization failure, deadlock), as opposed to bad input. */
export class TransientStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientStoreError';
  }
}

const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '08000', '08003', '08006', '53300']);

export function isTransientSqlError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_SQLSTATES.has(code);
}
