import type { SocialCareIssue } from '../../mappings/social-care/context';
import type { SqlClient } from '../store/engine';

/**
 * The social_care_import table: one row per extract received, its status and summary, and its
 * issues (every rejected or altered row). Statuses: uploading (HTTP body still arriving, not yet
 * acknowledged) → received (durable, acknowledged 202) → running (a worker holds the lease) →
 * done | rejected (manifest check failed, nothing written) | failed (unreadable, not retried).
 */
export const ImportStatus = {
  UPLOADING: 'uploading',
  RECEIVED: 'received',
  RUNNING: 'running',
  DONE: 'done',
  REJECTED: 'rejected',
  FAILED: 'failed',
} as const;
export type ImportStatus = (typeof ImportStatus)[keyof typeof ImportStatus];

export const ImportOrigin = { HTTP: 'http', CLI: 'cli' } as const;
export type ImportOrigin = (typeof ImportOrigin)[keyof typeof ImportOrigin];

export interface ImportRecord {
  readonly id: string;
  readonly origin: ImportOrigin;
  readonly status: ImportStatus;
  readonly fileName: string | null;
  readonly sizeBytes: number;
  readonly source: string | null;
  readonly extractType: string | null;
  readonly receivedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly attempts: number;
  readonly progress: unknown;
  readonly summary: unknown;
  readonly lastError: string | null;
}

interface Row {
  id: string;
  origin: ImportOrigin;
  status: ImportStatus;
  file_name: string | null;
  size_bytes: string | number;
  source: string | null;
  extract_type: string | null;
  received_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  attempts: number;
  progress: unknown;
  summary: unknown;
  last_error: string | null;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());
const COLUMNS = 'id::text AS id, origin, status, file_name, size_bytes, source, extract_type, received_at, started_at, finished_at, attempts, progress, summary, last_error';

function toRecord(r: Row): ImportRecord {
  return {
    id: r.id,
    origin: r.origin,
    status: r.status,
    fileName: r.file_name,
    sizeBytes: Number(r.size_bytes),
    source: r.source,
    extractType: r.extract_type,
    receivedAt: iso(r.received_at) ?? '',
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    attempts: r.attempts,
    progress: r.progress,
    summary: r.summary,
    lastError: r.last_error,
  };
}

export async function createImport(db: SqlClient, input: { origin: ImportOrigin; status: ImportStatus; fileName?: string; leaseOwner?: string }): Promise<string> {
  const result = await db.query<{ id: string }>(
    `INSERT INTO social_care_import (origin, status, file_name, lease_owner, lease_until, started_at)
     VALUES ($1, $2, $3, $4, CASE WHEN $4::text IS NULL THEN NULL ELSE now() + interval '10 minutes' END, CASE WHEN $2 = 'running' THEN now() END) RETURNING id::text AS id`,
    [input.origin, input.status, input.fileName ?? null, input.leaseOwner ?? null],
  );
  return (result.rows[0] as { id: string }).id;
}

export async function getImport(db: SqlClient, id: string): Promise<ImportRecord | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const result = await db.query<Row>(`SELECT ${COLUMNS} FROM social_care_import WHERE id = $1::bigint`, [id]);
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

export async function recordExtractIdentity(db: SqlClient, id: string, fields: { source: string; extractType: string; manifestSha256: string }): Promise<void> {
  await db.query('UPDATE social_care_import SET source = $2, extract_type = $3, manifest_sha256 = $4 WHERE id = $1::bigint', [id, fields.source, fields.extractType, fields.manifestSha256]);
}

export async function recordProgress(db: SqlClient, id: string, progress: unknown, leaseOwner?: string): Promise<void> {
  await db.query(
    `UPDATE social_care_import SET progress = $2::jsonb, lease_until = CASE WHEN lease_owner = $3 THEN now() + interval '10 minutes' ELSE lease_until END WHERE id = $1::bigint`,
    [id, JSON.stringify(progress), leaseOwner ?? null],
  );
}

export async function finishImport(db: SqlClient, id: string, status: ImportStatus, summary: unknown, error?: string): Promise<void> {
  await db.query(
    `UPDATE social_care_import SET status = $2, summary = $3::jsonb, last_error = $4, finished_at = now(), lease_owner = NULL, lease_until = NULL WHERE id = $1::bigint`,
    [id, status, JSON.stringify(summary), error ?? null],
  );
}

/** A transient failure: back to received, so a worker tries again. */
export async function releaseForRetry(db: SqlClient, id: string, error: string): Promise<void> {
  await db.query(`UPDATE social_care_import SET status = 'received', last_error = $2, lease_owner = NULL, lease_until = NULL WHERE id = $1::bigint`, [id, error]);
}

/**
 * Claims the oldest received import (or one whose worker's lease ran out) for this worker. One
 * import runs at a time across every process: imports of one source must apply in order.
 */
export async function claimNextImport(db: SqlClient, owner: string, maxAttempts: number): Promise<string | undefined> {
  const result = await db.query<{ id: string }>(
    `UPDATE social_care_import SET status = 'running', lease_owner = $1, lease_until = now() + interval '10 minutes', started_at = COALESCE(started_at, now()), attempts = attempts + 1
      WHERE id = (
        SELECT id FROM social_care_import
         WHERE origin = 'http' AND attempts < $2 AND (status = 'received' OR (status = 'running' AND lease_until < now()))
           AND NOT EXISTS (SELECT 1 FROM social_care_import o WHERE o.status = 'running' AND o.lease_until >= now())
         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id::text AS id`,
    [owner, maxAttempts],
  );
  return result.rows[0]?.id;
}

/** Imports that used up their attempts while running: failed, for the integration team. */
export async function failExhaustedImports(db: SqlClient, maxAttempts: number): Promise<void> {
  await db.query(
    `UPDATE social_care_import SET status = 'failed', finished_at = now(), last_error = COALESCE(last_error, 'gave up after the last attempt'), lease_owner = NULL, lease_until = NULL
      WHERE origin = 'http' AND attempts >= $1 AND (status = 'received' OR (status = 'running' AND lease_until < now()))`,
    [maxAttempts],
  );
}

/** Whether another import holds a live lease (the command line will not start beside it). */
export async function runningImport(db: SqlClient): Promise<string | undefined> {
  const result = await db.query<{ id: string }>(`SELECT id::text AS id FROM social_care_import WHERE status = 'running' AND lease_until >= now() ORDER BY social_care_import.id LIMIT 1`);
  return result.rows[0]?.id;
}

export async function appendIssues(db: SqlClient, importId: string, firstSeq: number, issues: readonly SocialCareIssue[]): Promise<void> {
  if (issues.length === 0) return;
  await db.query(
    `INSERT INTO social_care_import_issue (import_id, seq, file, line, col, severity, code, reason, record_id)
     SELECT $1::bigint, s, f, l, c, sv, cd, r, rid FROM unnest($2::int[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS x(s, f, l, c, sv, cd, r, rid)
     ON CONFLICT DO NOTHING`,
    [
      importId,
      issues.map((_, i) => firstSeq + i),
      issues.map((i) => i.file),
      issues.map((i) => i.line),
      issues.map((i) => i.column ?? null),
      issues.map((i) => i.severity),
      issues.map((i) => i.code),
      issues.map((i) => i.reason),
      issues.map((i) => i.recordId ?? null),
    ],
  );
}

export async function clearIssues(db: SqlClient, importId: string): Promise<void> {
  await db.query('DELETE FROM social_care_import_issue WHERE import_id = $1::bigint', [importId]);
}

export async function listIssues(db: SqlClient, importId: string, offset: number, count: number): Promise<SocialCareIssue[]> {
  const result = await db.query<{ file: string; line: number; col: string | null; severity: SocialCareIssue['severity']; code: string; reason: string; record_id: string | null }>(
    'SELECT file, line, col, severity, code, reason, record_id FROM social_care_import_issue WHERE import_id = $1::bigint ORDER BY seq OFFSET $2 LIMIT $3',
    [importId, offset, count],
  );
  return result.rows.map((r) => ({ file: r.file, line: r.line, ...(r.col ? { column: r.col } : {}), severity: r.severity, code: r.code, reason: r.reason, ...(r.record_id ? { recordId: r.record_id } : {}) }));
}

export async function countIssues(db: SqlClient, importId: string): Promise<number> {
  const result = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM social_care_import_issue WHERE import_id = $1::bigint', [importId]);
  return result.rows[0]?.n ?? 0;
}
