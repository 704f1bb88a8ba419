import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlClient } from '../store/engine';

/**
 * Viewer sign-in sessions, kept in the database so any API replica can serve any request. The
 * cookie holds a random session id; the table holds only its hash, so a copy of the table cannot be
 * replayed as cookies. Each session carries the verified bearer token it was opened with (checked
 * again on every request, so its expiry and the keys still rule) and its CSRF token.
 */
export interface ViewerSession {
  readonly token: string;
  readonly csrf: string;
  readonly userId: string;
  readonly expiresAt: Date;
}

const hashOf = (id: string): string => createHash('sha256').update(id).digest('hex');

export const SESSION_HOURS = 8;

export async function openSession(db: SqlClient, token: string, userId: string, now: Date, hours = SESSION_HOURS): Promise<{ id: string; session: ViewerSession }> {
  const id = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + hours * 3600_000);
  await db.query('INSERT INTO viewer_session (id_hash, token, csrf, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [hashOf(id), token, csrf, userId, now, expiresAt]);
  // Expired sessions are swept as new ones open: no timer, and never more than a day's worth left.
  await db.query('DELETE FROM viewer_session WHERE expires_at < $1', [new Date(now.getTime() - 24 * 3600_000)]);
  return { id, session: { token, csrf, userId, expiresAt } };
}

export async function findSession(db: SqlClient, id: string, now: Date): Promise<ViewerSession | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
  const rows = await db.query<{ token: string; csrf: string; user_id: string; expires_at: Date | string }>('SELECT token, csrf, user_id, expires_at FROM viewer_session WHERE id_hash = $1 AND expires_at > $2', [hashOf(id), now]);
  const row = rows.rows[0];
  return row ? { token: row.token, csrf: row.csrf, userId: row.user_id, expiresAt: new Date(row.expires_at) } : undefined;
}

export async function closeSession(db: SqlClient, id: string): Promise<void> {
  await db.query('DELETE FROM viewer_session WHERE id_hash = $1', [hashOf(id)]);
}

export function csrfMatches(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
