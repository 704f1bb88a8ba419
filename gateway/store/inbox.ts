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
export async function acceptIntoInbox(db: SqlClient, input: { source: string; kind: string; dedupKey: string; content: Buffer }): Promise<AcceptResult> {
  const hash = sha256Hex(input.content);
  const inserted = await db.query<InboxRow>(
    `INSERT INTO inbox (source, kind, dedup_key, content_hash, content) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (source, kind, dedup_key) DO NOTHING RETURNING ${COLUMNS}`,
    [input.source, input.kind, input.dedupKey, hash, input.content],
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
  await db.query(`UPDATE inbox SET status = $2, outcome = $3::jsonb, last_error = $4, attempts = attempts + 1, processed_at = now() WHERE id = $1::bigint`, [
    id,
    status,
    JSON.stringify(outcome ?? null),
    error ?? null,
  ]);
}
