import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWTPayload } from 'jose';
import { DEV_ISSUER } from './claims';

/**
 * Development auth: an ES256 key pair in `DATA_DIR/dev-auth/`, created on first use by the gateway
 * or `carebridge token`, whichever comes first. The gateway trusts its public key only while
 * development auth is on (never with NODE_ENV=production). The private key never leaves the folder.
 */
export interface DevKeyPair {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const PRIVATE_FILE = 'signing-key.pem';

export function devAuthDir(dataDir: string): string {
  return join(dataDir, 'dev-auth');
}

async function kidOf(publicKey: KeyObject): Promise<string> {
  return `carebridge-dev-${(await calculateJwkThumbprint(await exportJWK(publicKey))).slice(0, 16)}`;
}

/** Reads the dev key pair, creating it when absent (two processes racing both end with the same file). */
export async function loadOrCreateDevKeyPair(dir: string): Promise<DevKeyPair> {
  const file = join(dir, PRIVATE_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    try {
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { flag: 'wx', mode: 0o600 });
    } catch (writeErr) {
      if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw writeErr;
    }
    pem = readFileSync(file, 'utf8');
  }
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return { kid: await kidOf(publicKey), privateKey, publicKey };
}

/** A fresh in-memory pair (tests). */
export async function generateDevKeyPair(): Promise<DevKeyPair> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid: await kidOf(publicKey), privateKey, publicKey };
}

export interface MintOptions {
  readonly audience: string;
  readonly issuer?: string;
  readonly expiresInSeconds: number;
  readonly now?: Date;
}

/** Signs claims with the dev key (ES256, its kid), issuer DEV_ISSUER unless told otherwise. */
export async function mintToken(keys: DevKeyPair, claims: JWTPayload, options: MintOptions): Promise<string> {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? DEV_ISSUER)
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + options.expiresInSeconds)
    .sign(keys.privateKey);
}
