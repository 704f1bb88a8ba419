import { createPublicKey } from 'node:crypto';
import { decodeJwt } from 'jose';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config';
import type { AuthConfig } from './auth-config';
import { devAuthDir, loadOrCreateDevKeyPair } from './dev-keys';
import { loadDirectory, parseDirectory, type Directory } from './directory';
import demoDirectoryJson from './demo-directory.json';
import { identityFromClaims, type Identity } from './identity';
import { KeysUnavailableError, TokenRejectedError, TokenVerifier, type TokenRejection, type VerificationKey } from './token-verifier';

/** What the Authorization header amounts to. */
export type AuthOutcome =
  | { readonly status: 'authenticated'; readonly identity: Identity }
  | { readonly status: 'missing' }
  | { readonly status: 'invalid'; readonly reason: TokenRejection; readonly claimedSubject?: string }
  | { readonly status: 'forbidden'; readonly reason: string; readonly subject?: string }
  | { readonly status: 'unavailable'; readonly detail: string };

/**
 * Verified tokens are remembered for up to a minute (never past their `exp`), keyed by the exact
 * token string: verifying an ES256 signature costs more than a read by id, and a client sends the
 * same token with every request. Only accepted tokens are cached, so nothing unverified is ever
 * served from it; the price is that a key removed from the JWKS stops working within a minute
 * rather than at once for tokens already seen.
 */
const CACHE_MS = 60_000;
const CACHE_ENTRIES = 10_000;

/** A verified token → who is asking, through the directory. One per process; safe to share. */
export class Authenticator {
  private readonly cache = new Map<string, { identity: Identity; until: number }>();

  constructor(
    readonly verifier: TokenVerifier,
    readonly directory: Directory,
    private readonly now: () => number = Date.now,
  ) {}

  static async create(config: AuthConfig): Promise<Authenticator> {
    const directory = configuredDirectory(config);
    const publicKeys = config.publicKeyFiles.map(({ kid, path }) => ({ kid, key: readPublicKey(path) }));
    const devKey: VerificationKey | undefined = config.devAuth ? await loadOrCreateDevKeyPair(devAuthDir(config.dataDir)).then((p) => ({ kid: p.kid, key: p.publicKey })) : undefined;
    const verifier = await TokenVerifier.create({
      ...(config.issuer ? { issuer: config.issuer } : {}),
      audience: config.audience,
      ...(config.jwksUrl ? { jwksUrl: config.jwksUrl } : {}),
      publicKeys,
      ...(devKey ? { devKey } : {}),
      clockToleranceSeconds: config.clockToleranceSeconds,
      jwksCooldownMs: config.jwksCooldownSeconds * 1000,
    });
    return new Authenticator(verifier, directory);
  }

  async authenticate(authorization: string | undefined): Promise<AuthOutcome> {
    if (authorization === undefined || authorization.trim() === '') return { status: 'missing' };
    const token = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization)?.[1];
    if (token === undefined) return { status: 'invalid', reason: 'malformed' };
    const now = this.now();
    const cached = this.cache.get(token);
    if (cached && cached.until > now) return { status: 'authenticated', identity: cached.identity };
    if (cached) this.cache.delete(token);
    let claims;
    try {
      claims = await this.verifier.verify(token);
    } catch (err) {
      if (err instanceof TokenRejectedError) {
        const claimedSubject = unverifiedSubject(token);
        return { status: 'invalid', reason: err.reason, ...(claimedSubject ? { claimedSubject } : {}) };
      }
      if (err instanceof KeysUnavailableError) return { status: 'unavailable', detail: err.detail };
      throw err;
    }
    const outcome = identityFromClaims(claims, this.directory);
    if (!outcome.ok) return { status: 'forbidden', reason: outcome.reason, ...(typeof claims.sub === 'string' ? { subject: safeSubject(claims.sub) } : {}) };
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(token, { identity: outcome.identity, until: Math.min(now + CACHE_MS, (claims.exp ?? 0) * 1000) });
    return { status: 'authenticated', identity: outcome.identity };
  }
}

/**
 * The `sub` a refused token claims, for the audit trail only (never trusted, never logged): whoever
 * presented it may have written anything there, so it is cut to an identifier's characters and length.
 */
function unverifiedSubject(token: string): string | undefined {
  try {
    const sub = decodeJwt(token).sub;
    return typeof sub === 'string' ? safeSubject(sub) : undefined;
  } catch {
    return undefined;
  }
}

function safeSubject(sub: string): string | undefined {
  const cleaned = sub.replace(/[^\w.@|:-]/g, '').slice(0, 128);
  return cleaned === '' ? undefined : cleaned;
}

/** The directory DIRECTORY_FILE names, else the development directory. */
export function configuredDirectory(config: Pick<AuthConfig, 'directoryFile'>): Directory {
  return config.directoryFile ? loadDirectory(config.directoryFile) : demoDirectory();
}

/** The development directory shipped beside this file (imported, so the build copies it to dist). */
export function demoDirectory(): Directory {
  return parseDirectory(demoDirectoryJson, join(__dirname, 'demo-directory.json'));
}

function readPublicKey(path: string): VerificationKey['key'] {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`AUTH_PUBLIC_KEYS: ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new ConfigError(`AUTH_PUBLIC_KEYS: ${path} holds a private key; give the identity provider's public key`);
  let key;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigError(`AUTH_PUBLIC_KEYS: ${path} is not a PEM public key`);
  }
  if (!['rsa', 'rsa-pss', 'ec', 'ed25519'].includes(key.asymmetricKeyType ?? '')) throw new ConfigError(`AUTH_PUBLIC_KEYS: ${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; RSA, EC (P-256/384/521) or Ed25519 are accepted`);
  if (key.asymmetricKeyType?.startsWith('rsa') && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new ConfigError(`AUTH_PUBLIC_KEYS: ${path} is an RSA key shorter than 2048 bits`);
  return key;
}
