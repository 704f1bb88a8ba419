import { createHash, randomBytes } from 'node:crypto';
import type { PendingSignIn } from '../auth/oidc-client';
import type { SqlClient } from '../store/engine';

/**
 * OpenID Connect sign-ins between the redirect to the identity provider and its callback. The
 * browser holds a random id in a short-lived cookie, which binds the callback to the browser that
 * started it; the table (any replica may take the callback) holds the id's hash with the state,
 * nonce and PKCE verifier. Taking one deletes it, so each is used at most once.
 */
export const PENDING_SIGN_IN_MINUTES = 10;

const hashOf = (id: string): string => createHash('sha256').update(id).digest('hex');

export async function rememberSignIn(db: SqlClient, pending: PendingSignIn, now: Date): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  await db.query('INSERT INTO viewer_sign_in (id_hash, state, nonce, code_verifier, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    hashOf(id),
    pending.state,
    pending.nonce,
    pending.codeVerifier,
    now,
    new Date(now.getTime() + PENDING_SIGN_IN_MINUTES * 60_000),
  ]);
  // Abandoned sign-ins are swept as new ones start.
  await db.query('DELETE FROM viewer_sign_in WHERE expires_at < $1', [now]);
  return id;
}

/** The pending sign-in of this id, removed as it is read; undefined when unknown, expired or taken already. */
export async function takeSignIn(db: SqlClient, id: string, now: Date): Promise<PendingSignIn | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
  const rows = await db.query<{ state: string; nonce: string; code_verifier: string; expires_at: Date | string }>('DELETE FROM viewer_sign_in WHERE id_hash = $1 RETURNING state, nonce, code_verifier, expires_at', [hashOf(id)]);
  const row = rows.rows[0];
  if (!row || new Date(row.expires_at).getTime() <= now.getTime()) return undefined;
  return { state: row.state, nonce: row.nonce, codeVerifier: row.code_verifier };
}
