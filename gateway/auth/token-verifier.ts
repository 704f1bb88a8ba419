import type { KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, exportJWK, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { DEV_ISSUER } from './claims';

/**
 * Verifies bearer tokens (JWS compact JWTs) with `jose`: asymmetric algorithms only, keys from the
 * identity provider's JWKS URL (cached, re-fetched on an unknown kid, so key rotation needs no
 * restart) and/or configured PEM public keys, issuer and audience checked, `exp` required. The
 * development key is a separate trust path: only its own kid, only ES256, only the dev issuer.
 */

/** Only asymmetric signatures: `none` and HS* (including the public-key-as-HMAC-secret confusion) never verify. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** Why a token was refused: for the log only. Clients see one generic invalid_token. */
export const TokenRejection = {
  MALFORMED: 'malformed',
  TOO_LARGE: 'too-large',
  ALGORITHM_NOT_ALLOWED: 'algorithm-not-allowed',
  BAD_SIGNATURE: 'bad-signature',
  EXPIRED: 'expired',
  NOT_YET_VALID: 'not-yet-valid',
  WRONG_ISSUER: 'wrong-issuer',
  WRONG_AUDIENCE: 'wrong-audience',
  MISSING_CLAIM: 'missing-claim',
  INVALID_CLAIM: 'invalid-claim',
  UNKNOWN_KEY: 'unknown-key',
  AMBIGUOUS_KEY: 'ambiguous-key',
} as const;
export type TokenRejection = (typeof TokenRejection)[keyof typeof TokenRejection];

export class TokenRejectedError extends Error {
  constructor(readonly reason: TokenRejection) {
    super(`token refused: ${reason}`);
    this.name = 'TokenRejectedError';
  }
}

/** The keys could not be fetched (JWKS endpoint down or answering nonsense): not the token's fault. */
export class KeysUnavailableError extends Error {
  constructor(readonly detail: string) {
    super(`verification keys unavailable: ${detail}`);
    this.name = 'KeysUnavailableError';
  }
}

export interface VerificationKey {
  readonly kid: string;
  /** A public key. */
  readonly key: KeyObject;
}

export interface TokenVerifierOptions {
  readonly issuer?: string;
  readonly audience?: string;
  readonly jwksUrl?: string;
  readonly publicKeys?: readonly VerificationKey[];
  /** The development key; trusted only for tokens with its kid, the dev issuer and `audience`. */
  readonly devKey?: VerificationKey;
  readonly clockToleranceSeconds?: number;
  /** After a fetch, no new fetch for this long even for an unknown kid (jose default 30 s). */
  readonly jwksCooldownMs?: number;
  /** Re-fetch the JWKS at least this often (jose default 10 min). */
  readonly jwksCacheMaxAgeMs?: number;
  readonly jwksTimeoutMs?: number;
  /** The clock (tests); the system clock otherwise. */
  readonly now?: () => Date;
}

/** Longer than any real ID or access token; refused before parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;

export class TokenVerifier {
  private constructor(
    private readonly options: TokenVerifierOptions,
    private readonly getKey: JWTVerifyGetKey | undefined,
  ) {}

  static async create(options: TokenVerifierOptions): Promise<TokenVerifier> {
    const jwks: JWK[] = [];
    for (const k of options.publicKeys ?? []) jwks.push({ ...(await exportJWK(k.key)), kid: k.kid, use: 'sig' });
    const local = jwks.length > 0 ? createLocalJWKSet({ keys: jwks }) : undefined;
    const remote = options.jwksUrl
      ? createRemoteJWKSet(new URL(options.jwksUrl), {
          ...(options.jwksCooldownMs !== undefined ? { cooldownDuration: options.jwksCooldownMs } : {}),
          ...(options.jwksCacheMaxAgeMs !== undefined ? { cacheMaxAge: options.jwksCacheMaxAgeMs } : {}),
          ...(options.jwksTimeoutMs !== undefined ? { timeoutDuration: options.jwksTimeoutMs } : {}),
        })
      : undefined;
    let getKey: JWTVerifyGetKey | undefined;
    if (local && remote) {
      getKey = async (header, token) => {
        try {
          return await local(header, token);
        } catch (err) {
          if (err instanceof errors.JWKSNoMatchingKey) return remote(header, token);
          throw err;
        }
      };
    } else {
      getKey = local ?? remote;
    }
    return new TokenVerifier(options, getKey);
  }

  private clock(): { currentDate?: Date } {
    return this.options.now ? { currentDate: this.options.now() } : {};
  }

  /** The verified claims, or TokenRejectedError / KeysUnavailableError. */
  async verify(token: string): Promise<JWTPayload> {
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejectedError(TokenRejection.TOO_LARGE);
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new TokenRejectedError(TokenRejection.MALFORMED);
    }
    const tolerance = this.options.clockToleranceSeconds ?? 60;
    try {
      const dev = this.options.devKey;
      if (dev && kid === dev.kid) {
        const { payload } = await jwtVerify(token, dev.key, { algorithms: ['ES256'], issuer: DEV_ISSUER, audience: this.options.audience, clockTolerance: tolerance, requiredClaims: ['exp', 'sub'], ...this.clock() });
        return payload;
      }
      if (!this.getKey) throw new TokenRejectedError(TokenRejection.UNKNOWN_KEY);
      const { payload } = await jwtVerify(token, this.getKey, {
        algorithms: [...ASYMMETRIC_ALGORITHMS],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: tolerance,
        requiredClaims: ['exp', 'sub'],
        ...this.clock(),
      });
      // The development issuer is never accepted from another key.
      if (payload.iss === DEV_ISSUER) throw new TokenRejectedError(TokenRejection.WRONG_ISSUER);
      return payload;
    } catch (err) {
      throw classifyVerificationError(err);
    }
  }
}

/** A jose error as a TokenRejectedError (the token's fault) or KeysUnavailableError (the key set could not be had). */
export function classifyVerificationError(err: unknown): Error {
  if (err instanceof TokenRejectedError) return err;
  if (err instanceof errors.JWTExpired) return new TokenRejectedError(TokenRejection.EXPIRED);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return new TokenRejectedError(TokenRejection.MISSING_CLAIM);
    switch (err.claim) {
      case 'nbf':
        return new TokenRejectedError(TokenRejection.NOT_YET_VALID);
      case 'iss':
        return new TokenRejectedError(TokenRejection.WRONG_ISSUER);
      case 'aud':
        return new TokenRejectedError(TokenRejection.WRONG_AUDIENCE);
      default:
        return new TokenRejectedError(TokenRejection.INVALID_CLAIM);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new TokenRejectedError(TokenRejection.ALGORITHM_NOT_ALLOWED);
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRejectedError(TokenRejection.BAD_SIGNATURE);
  if (err instanceof errors.JWKSNoMatchingKey) return new TokenRejectedError(TokenRejection.UNKNOWN_KEY);
  if (err instanceof errors.JWKSMultipleMatchingKeys) return new TokenRejectedError(TokenRejection.AMBIGUOUS_KEY);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JWKInvalid) return new TokenRejectedError(TokenRejection.MALFORMED);
  // What is left is fetching the key set: a timeout, a non-200 answer, bad JSON, a refused connection.
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err instanceof errors.JOSEError) return new KeysUnavailableError(err.code);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+/.test(code)) return new KeysUnavailableError(code);
  return new TokenRejectedError(TokenRejection.MALFORMED);
}
