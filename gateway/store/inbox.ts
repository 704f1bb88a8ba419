import { sha256Hex } from '../fhir/canonical-json';
import type { SqlClient } from './engine';

/**
 * The inbox: raw inputs committed before anything is acknowledged (an HL7 ACK, an HTTP 202), so
 * nothing acknowledged is ever lost. A sender's message id (dedup key) seen again with the same
 * content is a duplicate and is not processed twice; with different content it is a conflict.
 */
export const InboxStatus = { PENDING: 'pending', RETRY: 'retry', DONE: 'done', FAILED: 'failed', DEAD: 'dead' } as const;
export type InboxStatus = (typeof InboxStatus)[keyof typeof InboxStatus];

export interface InboxItem {
  id: string;
  source: string;
  kind: string;
  dedupKey: string;
  contentHash: string;
  status: InboxStatus;
  attempts: number;
  outcome: unknown;
}

export type AcceptResult =
  | { accepted: 'new'; item: InboxItem }
  | { accepted: 'duplicate'; item: InboxItem }
  | { accepted: 'conflict'; item: InboxItem };

interface InboxRow {
  id: string;
  source: string;
  kind: string;
  dedup_key: string;
  content_hash: string;
  status: InboxStatus;
  attempts: number;
  outcome: unknown;
}

function toItem(row: InboxRow): InboxItem {
  return { id: row.id, source: row.source, kind: row.kind, dedupKey: row.dedup_key, contentHash: row.content_hash, status: row.status, attempts: row.attempts, outcome: row.outcome };
}

const COLUMNS = 'id::text AS id, source, kind, dedup_key, content_hash, status, attempts, outcome';

/** Commits the raw input; resolves only once it is durable in the store. */
export async function acceptIntoInbox(
  db: SqlClient,
  input: {
    source: string;
    kind: string;
    dedupKey: string;
    content: Buffer;
    status?: InboxStatus;
    outcome?: Record<string, unknown>;
    error?: string;
    /** When the intake received it (the time it mapped the message with); the database's clock when absent. */
    receivedAt?: Date;
  },
): Promise<AcceptResult> {
  const hash = sha256Hex(input.content);
  // The outcome given at acceptance (e.g. the ACK code sent) is kept, so a duplicate gets the same answer.
  const inserted = await db.query<InboxRow>(
    `INSERT INTO inbox (source, kind, dedup_key, content_hash, content, status, outcome, last_error, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, COALESCE($9::timestamptz, now()))
     ON CONFLICT (source, kind, dedup_key) DO NOTHING RETURNING ${COLUMNS}`,
    [input.source, input.kind, input.dedupKey, hash, input.content, input.status ?? InboxStatus.PENDING, input.outcome ? JSON.stringify(input.outcome) : null, input.error ?? null, input.receivedAt?.toISOString() ?? null],
  );
  const row = inserted.rows[0];
  if (row) return { accepted: 'new', item: toItem(row) };
  const existing = await db.query<InboxRow>(`SELECT ${COLUMNS} FROM inbox WHERE source = $1 AND kind = $2 AND dedup_key = $3`, [input.source, input.kind, input.dedupKey]);
  const item = toItem(existing.rows[0] as InboxRow);
  return { accepted: item.contentHash === hash ? 'duplicate' : 'conflict', item };
}

export async function readInboxContent(db: SqlClient, id: string): Promise<Buffer | undefined> {
  const result = await db.query<{ content: Uint8Array }>('SELECT content FROM inbox WHERE id = $1::bigint', [id]);
  const row = result.rows[0];
  return row ? Buffer.from(row.content) : undefined;
}

export async function pendingInboxIds(db: SqlClient, limit: number): Promise<string[]> {
  const result = await db.query<{ id: string }>(`SELECT id::text AS id FROM inbox WHERE status IN ('pending', 'retry') ORDER BY id LIMIT $1`, [limit]);
  return result.rows.map((r) => r.id);
}

export async function completeInboxItem(db: SqlClient, id: string, status: InboxStatus, outcome: unknown, error?: string): Promise<void> {
  await db.query(`UPDATE inbox SET status = $2, outcome = COALESCE(outcome, '{}'::jsonb) || COALESCE($3::jsonb, '{}'::jsonb), last_error = $4, attempts = attempts + 1, processed_at = now(), updated_at = now() WHERE id = $1::bigint`, [
    id,
    status,
    JSON.stringify(outcome ?? {}),
    error ?? null,
  ]);
}

/** An inbox row as the integration team sees it (no content). */
export interface InboxEntry {
  id: string;
  source: string;
  kind: string;
  dedupKey: string;
  status: InboxStatus;
  attempts: number;
  lastError: string | null;
  receivedAt: string;
  outcome: unknown;
}

const ENTRY_COLUMNS = 'id::text AS id, source, kind, dedup_key, status, attempts, last_error, received_at, outcome';
type EntryRow = { id: string; source: string; kind: string; dedup_key: string; status: InboxStatus; attempts: number; last_error: string | null; received_at: Date; outcome: unknown };
const toEntry = (r: EntryRow): InboxEntry => ({ id: r.id, source: r.source, kind: r.kind, dedupKey: r.dedup_key, status: r.status, attempts: r.attempts, lastError: r.last_error, receivedAt: new Date(r.received_at).toISOString(), outcome: r.outcome });

/** Inbox rows by status, newest first (for `carebridge dlq list` and the interface status page). */
export async function listInbox(db: SqlClient, statuses: readonly InboxStatus[], limit = 100): Promise<InboxEntry[]> {
  const result = await db.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM inbox WHERE status = ANY($1::text[]) ORDER BY id DESC LIMIT $2`, [statuses, limit]);
  return result.rows.map(toEntry);
}

export async function inboxEntry(db: SqlClient, id: string): Promise<InboxEntry | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const result = await db.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM inbox WHERE id = $1::bigint`, [id]);
  const row = result.rows[0];
  return row ? toEntry(row) : undefined;
}

/** A transient failure: try again after `notBefore`. */
export async function retryInboxItem(db: SqlClient, id: string, error: string, notBefore: Date): Promise<void> {
  await db.query(`UPDATE inbox SET status = 'retry', attempts = attempts + 1, last_error = $2, not_before = $3::timestamptz, updated_at = now() WHERE id = $1::bigint`, [id, error, notBefore.toISOString()]);
}

/** Puts dead or failed rows back to pending (`carebridge dlq replay`). Returns the ids replayed. */
export async function replayInboxItems(db: SqlClient, ids: readonly string[] | 'all-dead'): Promise<string[]> {
  const result =
    ids === 'all-dead'
      ? await db.query<{ id: string }>(`UPDATE inbox SET status = 'pending', attempts = 0, not_before = NULL, updated_at = now() WHERE status = 'dead' RETURNING id::text AS id`)
      : await db.query<{ id: string }>(`UPDATE inbox SET status = 'pending', attempts = 0, not_before = NULL, updated_at = now() WHERE id = ANY($1::bigint[]) AND status IN ('dead', 'failed') RETURNING id::text AS id`, [ids]);
  return result.rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
}

/** Pending rows whose retry time has come, oldest first. */
export async function dueInboxIds(db: SqlClient, limit: number): Promise<string[]> {
  const result = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM inbox WHERE status IN ('pending', 'retry') AND (not_before IS NULL OR not_before <= now()) ORDER BY id LIMIT $1`,
    [limit],
  );
  return result.rows.map((r) => r.id);
}
