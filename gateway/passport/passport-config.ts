import { createKeyFileOnce, readKeyFile } from '../key-files';
import { join } from 'node:path';
import { ConfigError } from '../config';
import { generatePassportKeyPem, PassportKeySet, signerFromPem, type PassportSigner } from './signing';

/**
 * The passport's configuration, read from the environment:
 * - PASSPORT_SIGNING_KEY: path of the signing key (PKCS#8 PEM, RSA, 2048 bits or more). Required
 *   when NODE_ENV=production; in development a key is created once in DATA_DIR/passport-signing-key.pem.
 * - PASSPORT_PUBLIC_KEYS: comma-separated paths of SPKI PEM public keys of earlier (rotated-out)
 *   signing keys, so passports signed before a rotation still verify.
 * - PASSPORT_FOLLOW_SECONDS: how often a worker follows red bag journeys in the outbox (default 2; 0 = never, for tests).
 */
export interface PassportConfig {
  readonly signingKeyPath: string;
  readonly developmentKey: boolean;
  readonly publicKeyPaths: readonly string[];
  readonly followIntervalMs: number;
}

export const DEV_PASSPORT_KEY_FILE = 'passport-signing-key.pem';

export function loadPassportConfig(env: NodeJS.ProcessEnv, context: { dataDir: string; production: boolean }): PassportConfig {
  const keyPath = env['PASSPORT_SIGNING_KEY'] || undefined;
  if (!keyPath && context.production) throw new ConfigError('PASSPORT_SIGNING_KEY must name the passport signing key (PKCS#8 PEM, RSA) when NODE_ENV=production');
  const follow = env['PASSPORT_FOLLOW_SECONDS'];
  const seconds = follow === undefined || follow === '' ? 2 : Number(follow);
  if (!Number.isFinite(seconds) || seconds < 0) throw new ConfigError(`PASSPORT_FOLLOW_SECONDS must be a number of seconds (0 turns it off), not '${follow ?? ''}'`);
  return {
    signingKeyPath: keyPath ?? join(context.dataDir, DEV_PASSPORT_KEY_FILE),
    developmentKey: !keyPath,
    publicKeyPaths: (env['PASSPORT_PUBLIC_KEYS'] ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0),
    followIntervalMs: Math.round(seconds * 1000),
  };
}

export interface PassportKeys {
  readonly signer?: PassportSigner;
  readonly keys: PassportKeySet;
}

/** The signing key and the verifying key set; `create: false` (the verify command) never creates a development key. */
export async function openPassportKeys(config: PassportConfig, options: { create: boolean }): Promise<PassportKeys> {
  if (config.developmentKey && options.create) createKeyFileOnce(config.signingKeyPath, generatePassportKeyPem);
  let signer: PassportSigner | undefined;
  try {
    signer = await signerFromPem(readKeyFile(config.signingKeyPath, 'PASSPORT_SIGNING_KEY'));
  } catch (err) {
    if (!(config.developmentKey && !options.create && err instanceof ConfigError)) throw err;
  }
  const publicPems = config.publicKeyPaths.map((p) => readKeyFile(p, 'PASSPORT_PUBLIC_KEYS entry'));
  return { ...(signer ? { signer } : {}), keys: await PassportKeySet.from({ publicPems, signers: signer ? [signer] : [] }) };
}
