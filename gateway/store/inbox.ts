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

export type InboxInput = Parameters<typeof acceptIntoInbox>[1];

/**
 * acceptIntoInbox for many inputs in one statement: one commit for the lot (the intake's group
 * commit, see gateway/ingest/inbox-group-commit.ts). Each input gets exactly what acceptIntoInbox
 * would have given it. Keys (source, kind, dedup key) must be distinct within one call: a second
 * input with a key already in the call would meet the first, not a stored row.
 */
export async function acceptManyIntoInbox(db: SqlClient, inputs: readonly InboxInput[]): Promise<AcceptResult[]> {
  if (inputs.length === 0) return [];
  const keyOf = (source: string, kind: string, dedupKey: string): string => JSON.stringify([source, kind, dedupKey]);
  if (new Set(inputs.map((i) => keyOf(i.source, i.kind, i.dedupKey))).size !== inputs.length) throw new Error('acceptManyIntoInbox: the same key twice in one call');
  const hashes = inputs.map((i) => sha256Hex(i.content));
  // Rows are inserted in the order given (ids ascending), as one acceptIntoInbox after another would.
  const inserted = await db.query<InboxRow>(
    `INSERT INTO inbox (source, kind, dedup_key, content_hash, content, status, outcome, last_error, received_at)
     SELECT s, k, d, h, decode(c, 'hex'), st, o::jsonb, e, COALESCE(r::timestamptz, now())
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(s, k, d, h, c, st, o, e, r, n)
      ORDER BY n
     ON CONFLICT (source, kind, dedup_key) DO NOTHING RETURNING ${COLUMNS}`,
    [
      inputs.map((i) => i.source),
      inputs.map((i) => i.kind),
      inputs.map((i) => i.dedupKey),
      hashes,
      inputs.map((i) => i.content.toString('hex')),
      inputs.map((i) => i.status ?? InboxStatus.PENDING),
      inputs.map((i) => (i.outcome ? JSON.stringify(i.outcome) : null)),
      inputs.map((i) => i.error ?? null),
      inputs.map((i) => i.receivedAt?.toISOString() ?? null),
    ],
  );
  const rows = new Map(inserted.rows.map((r) => [keyOf(r.source, r.kind, r.dedup_key), r]));
  const results: (AcceptResult | undefined)[] = inputs.map((i) => {
    const row = rows.get(keyOf(i.source, i.kind, i.dedupKey));
    return row ? { accepted: 'new', item: toItem(row) } : undefined;
  });
  const missing = inputs.filter((_, n) => results[n] === undefined);
  if (missing.length > 0) {
    const existing = await db.query<InboxRow>(
      `SELECT ${COLUMNS} FROM inbox JOIN unnest($1::text[], $2::text[], $3::text[]) AS x(s, k, d) ON inbox.source = x.s AND inbox.kind = x.k AND inbox.dedup_key = x.d`,
      [missing.map((i) => i.source), missing.map((i) => i.kind), missing.map((i) => i.dedupKey)],
    );
    const found = new Map(existing.rows.map((r) => [keyOf(r.source, r.kind, r.dedup_key), r]));
    inputs.forEach((input, n) => {
      if (results[n] !== undefined) return;
      const row = found.get(keyOf(input.source, input.kind, input.dedupKey));
      if (!row) throw new Error('acceptManyIntoInbox: a row neither inserted nor found');
      const item = toItem(row);
      results[n] = { accepted: item.contentHash === hashes[n] ? 'duplicate' : 'conflict', item };
    });
  }
  return results as AcceptResult[];
}

export async function readInboxContent(db: SqlClient, id: string): Promise<Buffer | undefined> {
  const result = await db.query<{ content: Uint8Array }>('SELECT content FROM inbox WHERE id = $1::bigint', [id]);
  const row = result.rows[0];
  return row ? Buffer.from(row.content) : undefined;
}

export async function pendingInboxIds(db: SqlClient, limit: number): Promise<string[]> {
  const result = await db.query<{ id: string }>(`SELECT id::text AS id FROM inbox WHERE status IN ('pending', 'retry') ORDER BY inbox.id LIMIT $1`, [limit]);
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
  const result = await db.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM inbox WHERE status = ANY($1::text[]) ORDER BY inbox.id DESC LIMIT $2`, [statuses, limit]);
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
    `SELECT id::text AS id FROM inbox WHERE status IN ('pending', 'retry') AND (not_before IS NULL OR not_before <= now()) ORDER BY inbox.id LIMIT $1`,
    [limit],
  );
  return result.rows.map((r) => r.id);
}
