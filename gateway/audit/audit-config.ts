import { createKeyFileOnce, readKeyFile } from '../key-files';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config';
import { CheckpointKeySet, generateSigningKeyPem, signerFromPem, type CheckpointSigner } from './signing';

/**
 * The audit trail's configuration, read from the environment:
 * - AUDIT_SIGNING_KEY: path of the checkpoint signing key (PKCS#8 PEM, EC P-256). Required when
 *   NODE_ENV=production; in development a key is created once in DATA_DIR/audit-signing-key.pem.
 * - AUDIT_PUBLIC_KEYS: comma-separated paths of SPKI PEM public keys of earlier (rotated-out)
 *   signing keys, so their checkpoints still verify.
 * - AUDIT_CHECKPOINT_EVERY: sign a checkpoint every this many entries (default 1000).
 * - AUDIT_CHECKPOINT_MINUTES: and at least this often while entries are added (default 15).
 * - AUDIT_NODE: this node's name in AuditEvent.source.observer (default the host name).
 */
export interface AuditConfig {
  readonly signingKeyPath: string;
  /** True when the signing key is the development key in DATA_DIR (created if missing). */
  readonly developmentKey: boolean;
  readonly publicKeyPaths: readonly string[];
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly node: string;
}

export const DEV_SIGNING_KEY_FILE = 'audit-signing-key.pem';

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${name} must be a whole number of at least 1, not '${text}'`);
  return value;
}

export function loadAuditConfig(env: NodeJS.ProcessEnv, context: { dataDir: string; production: boolean }): AuditConfig {
  const keyPath = env['AUDIT_SIGNING_KEY'] || undefined;
  if (!keyPath && context.production) throw new ConfigError('AUDIT_SIGNING_KEY must name the audit checkpoint signing key (PKCS#8 PEM, EC P-256) when NODE_ENV=production');
  const node = env['AUDIT_NODE'] || hostname();
  if (!/^[\w.-]{1,64}$/.test(node)) throw new ConfigError('AUDIT_NODE must be 1-64 letters, digits, dots, dashes or underscores');
  return {
    signingKeyPath: keyPath ?? join(context.dataDir, DEV_SIGNING_KEY_FILE),
    developmentKey: !keyPath,
    publicKeyPaths: (env['AUDIT_PUBLIC_KEYS'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0),
    checkpointEvery: positiveInt(env, 'AUDIT_CHECKPOINT_EVERY', 1000),
    checkpointIntervalMs: positiveInt(env, 'AUDIT_CHECKPOINT_MINUTES', 15) * 60_000,
    node,
  };
}

export interface AuditKeys {
  /** Undefined only when the development key does not exist and `create` was false. */
  readonly signer?: CheckpointSigner;
  readonly keys: CheckpointKeySet;
}

/**
 * The signing key and the verifying key set. `create: false` (verify, export) never creates a
 * development key: a missing one just means no signer.
 */
export async function openAuditKeys(config: AuditConfig, options: { create: boolean; extraPublicPems?: readonly string[] }): Promise<AuditKeys> {
  if (config.developmentKey && options.create) createKeyFileOnce(config.signingKeyPath, generateSigningKeyPem);
  let signer: CheckpointSigner | undefined;
  try {
    signer = await signerFromPem(readKeyFile(config.signingKeyPath, 'AUDIT_SIGNING_KEY'));
  } catch (err) {
    if (!(config.developmentKey && !options.create && err instanceof ConfigError)) throw err;
  }
  const publicPems = [...config.publicKeyPaths.map((p) => readKeyFile(p, 'AUDIT_PUBLIC_KEYS entry')), ...(options.extraPublicPems ?? [])];
  return { ...(signer ? { signer } : {}), keys: await CheckpointKeySet.from({ publicPems, signers: signer ? [signer] : [] }) };
}
