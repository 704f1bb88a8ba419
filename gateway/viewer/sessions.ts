import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlClient } from '../store/engine';

/**
 * Viewer sign-in sessions, kept in the database so any API replica can serve any request. The
 * cookie holds a random session id; the table holds only its hash, so a copy of the table cannot be
 * replayed as cookies. Each session carries its CSRF token and one of:
 * - `token`: the verified bearer token it was opened with (development personas), checked again on
 *   every request, so its expiry and the keys still rule;
 * - `oidc`: the claims of an OpenID Connect sign-in, verified once at the callback (ID token and
 *   UserInfo), mapped through the directory again on every request; the ID token is kept for the
 *   provider's sign-out. Such a session ends at the ID token's expiry or sooner.
 */
export const SessionKind = { TOKEN: 'token', OIDC: 'oidc' } as const;
export type SessionKind = (typeof SessionKind)[keyof typeof SessionKind];

export interface ViewerSession {
  readonly kind: SessionKind;
  /** The bearer token (`token`) or the ID token (`oidc`). */
  readonly token: string;
  /** The verified claims of an `oidc` session. */
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly csrf: string;
  readonly userId: string;
  readonly expiresAt: Date;
}

const hashOf = (id: string): string => createHash('sha256').update(id).digest('hex');

export const SESSION_HOURS = 8;

export interface NewSession {
  readonly kind?: SessionKind;
  readonly token: string;
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly userId: string;
  readonly now: Date;
  /** Default: SESSION_HOURS from now. */
  readonly expiresAt?: Date;
}

export async function openSession(db: SqlClient, session: NewSession): Promise<{ id: string; session: ViewerSession }> {
  const id = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const kind = session.kind ?? SessionKind.TOKEN;
  const expiresAt = session.expiresAt ?? new Date(session.now.getTime() + SESSION_HOURS * 3600_000);
  await db.query('INSERT INTO viewer_session (id_hash, token, csrf, user_id, created_at, expires_at, kind, claims) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)', [
    hashOf(id),
    session.token,
    csrf,
    session.userId,
    session.now,
    expiresAt,
    kind,
    session.claims ? JSON.stringify(session.claims) : null,
  ]);
  // Expired sessions are swept as new ones open: no timer, and never more than a day's worth left.
  await db.query('DELETE FROM viewer_session WHERE expires_at < $1', [new Date(session.now.getTime() - 24 * 3600_000)]);
  return { id, session: { kind, token: session.token, ...(session.claims ? { claims: session.claims } : {}), csrf, userId: session.userId, expiresAt } };
}

export async function findSession(db: SqlClient, id: string, now: Date): Promise<ViewerSession | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
  const rows = await db.query<{ kind: string; token: string; claims: Record<string, unknown> | string | null; csrf: string; user_id: string; expires_at: Date | string }>(
    'SELECT kind, token, claims, csrf, user_id, expires_at FROM viewer_session WHERE id_hash = $1 AND expires_at > $2',
    [hashOf(id), now],
  );
  const row = rows.rows[0];
  if (!row) return undefined;
  const claims = typeof row.claims === 'string' ? (JSON.parse(row.claims) as Record<string, unknown>) : row.claims;
  return {
    kind: row.kind === SessionKind.OIDC ? SessionKind.OIDC : SessionKind.TOKEN,
    token: row.token,
    ...(claims ? { claims } : {}),
    csrf: row.csrf,
    userId: row.user_id,
    expiresAt: new Date(row.expires_at),
  };
}

/** Ends a session; the ended session, when there was one (the provider's sign-out needs its ID token). */
export async function closeSession(db: SqlClient, id: string): Promise<{ kind: SessionKind; token: string } | undefined> {
  const rows = await db.query<{ kind: string; token: string }>('DELETE FROM viewer_session WHERE id_hash = $1 RETURNING kind, token', [hashOf(id)]);
  const row = rows.rows[0];
  return row ? { kind: row.kind === SessionKind.OIDC ? SessionKind.OIDC : SessionKind.TOKEN, token: row.token } : undefined;
}

export function csrfMatches(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
