import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { SignInError, SignInFailure } from './oidc-errors';
import { ASYMMETRIC_ALGORITHMS, classifyVerificationError, KeysUnavailableError, TokenRejectedError } from './token-verifier';

/**
 * ID token validation for the authorization code flow (OpenID Connect Core 1.0 §3.1.3.7) with
 * `jose`: signed by a key of the provider's JWKS with an asymmetric algorithm (never `none`, never
 * HS* even with our client secret), `iss` the issuer, `aud` our client id (and `azp` ours when
 * there are several audiences), `exp` and `iat` present and `exp` not passed, `nonce` the one
 * this browser's sign-in sent, and `at_hash`, when present, the access token's.
 */
export interface IdTokenExpectations {
  readonly issuer: string;
  readonly clientId: string;
  readonly nonce: string;
  readonly accessToken?: string;
  readonly clockToleranceSeconds: number;
  readonly now: Date;
}

/** Longer than any real ID token; refused before parsing. */
const MAX_ID_TOKEN_LENGTH = 16 * 1024;

const invalid = (detail: string): SignInError => new SignInError(SignInFailure.ID_TOKEN_INVALID, detail);

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The hash an `at_hash` is made with: the one of the ID token's algorithm (Ed25519: SHA-512). */
function hashOf(alg: string): string | undefined {
  if (/^(RS|PS|ES)256$/.test(alg)) return 'sha256';
  if (/^(RS|PS|ES)384$/.test(alg)) return 'sha384';
  if (/^(RS|PS|ES)512$/.test(alg) || alg === 'EdDSA') return 'sha512';
  return undefined;
}

/** `at_hash`: base64url of the left half of the hash of the access token (§3.1.3.6). */
export function accessTokenHash(accessToken: string, alg: string): string | undefined {
  const hash = hashOf(alg);
  if (!hash) return undefined;
  const digest = createHash(hash).update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export async function verifyIdToken(idToken: string, keys: JWTVerifyGetKey, expect: IdTokenExpectations): Promise<JWTPayload> {
  if (idToken.length > MAX_ID_TOKEN_LENGTH) throw invalid('too-large');
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(idToken).alg;
  } catch {
    throw invalid('malformed');
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, keys, {
      algorithms: [...ASYMMETRIC_ALGORITHMS],
      issuer: expect.issuer,
      audience: expect.clientId,
      clockTolerance: expect.clockToleranceSeconds,
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: expect.now,
    }));
  } catch (err) {
    const classified = classifyVerificationError(err);
    if (classified instanceof KeysUnavailableError) throw new SignInError(SignInFailure.PROVIDER_UNAVAILABLE, `jwks: ${classified.detail}`);
    throw invalid(classified instanceof TokenRejectedError ? classified.reason : 'malformed');
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (payload['azp'] !== undefined && payload['azp'] !== expect.clientId) throw invalid('azp-not-ours');
  if (audiences.length > 1 && payload['azp'] !== expect.clientId) throw invalid('several-audiences-without-azp');
  const nonce = payload['nonce'];
  if (typeof nonce !== 'string' || !sameText(nonce, expect.nonce)) throw invalid('nonce-mismatch');
  const atHash = payload['at_hash'];
  if (atHash !== undefined && expect.accessToken !== undefined) {
    const expected = accessTokenHash(expect.accessToken, String(alg));
    if (typeof atHash !== 'string' || expected === undefined || !sameText(atHash, expected)) throw invalid('at-hash-mismatch');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw invalid('missing-claim');
  return payload;
}
