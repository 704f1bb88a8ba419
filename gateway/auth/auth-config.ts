import { basename, extname, resolve } from 'node:path';
import { ConfigError } from '../config';
import { DEFAULT_AUDIENCE } from './claims';

/** Authentication settings, read from the environment once at start (README, "Authentication"). */
export interface AuthConfig {
  readonly issuer?: string;
  readonly audience: string;
  readonly jwksUrl?: string;
  /** PEM public keys; each key's kid is its file name without the extension, or given as `kid=path`. */
  readonly publicKeyFiles: readonly { readonly kid: string; readonly path: string }[];
  /** Trust the development key in DATA_DIR/dev-auth and allow `carebridge token`. */
  readonly devAuth: boolean;
  readonly dataDir: string;
  /** The directory file; unset means the bundled demo directory (refused in production). */
  readonly directoryFile?: string;
  readonly clockToleranceSeconds: number;
  /** After a JWKS fetch, the least time before an unknown kid may trigger another (rotation picks up new keys). */
  readonly jwksCooldownSeconds: number;
  readonly production: boolean;
}

export function loadAuthConfig(env: NodeJS.ProcessEnv, base: { dataDir: string; production: boolean }): AuthConfig {
  const { production } = base;
  const dev = env['DEV_AUTH'];
  if (dev !== undefined && dev !== '' && dev !== 'true' && dev !== 'false') throw new ConfigError(`DEV_AUTH must be true or false, not '${dev}'`);
  if (dev === 'true' && production) throw new ConfigError('DEV_AUTH=true is refused with NODE_ENV=production: development tokens are minted from a key on disk');
  const devAuth = dev === 'true' || ((dev === undefined || dev === '') && !production);

  const jwksUrl = env['AUTH_JWKS_URL'] || undefined;
  if (jwksUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(jwksUrl);
    } catch {
      throw new ConfigError(`AUTH_JWKS_URL must be a URL, not '${jwksUrl}'`);
    }
    if (url.protocol !== 'https:' && (production || url.protocol !== 'http:')) throw new ConfigError(`AUTH_JWKS_URL must be an https URL${production ? ' in production' : ''}`);
  }
  const publicKeyFiles = (env['AUTH_PUBLIC_KEYS'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const eq = entry.indexOf('=');
      const path = resolve(eq > 0 ? entry.slice(eq + 1) : entry);
      const kid = eq > 0 ? entry.slice(0, eq) : basename(path, extname(path));
      if (kid === '') throw new ConfigError(`AUTH_PUBLIC_KEYS: '${entry}' gives no key id`);
      return { kid, path };
    });
  const kids = publicKeyFiles.map((k) => k.kid);
  const duplicate = kids.find((k, i) => kids.indexOf(k) !== i);
  if (duplicate !== undefined) throw new ConfigError(`AUTH_PUBLIC_KEYS: key id '${duplicate}' is given twice`);

  const issuer = env['AUTH_ISSUER'] || undefined;
  const audience = env['AUTH_AUDIENCE'] || undefined;
  const external = jwksUrl !== undefined || publicKeyFiles.length > 0;
  if (external && (issuer === undefined || audience === undefined)) throw new ConfigError('AUTH_ISSUER and AUTH_AUDIENCE are required with AUTH_JWKS_URL or AUTH_PUBLIC_KEYS: tokens are checked against both');
  if (!external && !devAuth) throw new ConfigError('No way to verify tokens: set AUTH_JWKS_URL or AUTH_PUBLIC_KEYS (with AUTH_ISSUER and AUTH_AUDIENCE), or DEV_AUTH=true outside production');

  const directoryFile = env['DIRECTORY_FILE'] || undefined;
  if (directoryFile === undefined && production) throw new ConfigError('DIRECTORY_FILE is required with NODE_ENV=production: the demo directory names fictional organisations');

  const toleranceText = env['AUTH_CLOCK_TOLERANCE_SECONDS'];
  const clockToleranceSeconds = toleranceText === undefined || toleranceText === '' ? 60 : Number(toleranceText);
  if (!Number.isInteger(clockToleranceSeconds) || clockToleranceSeconds < 0 || clockToleranceSeconds > 300) throw new ConfigError('AUTH_CLOCK_TOLERANCE_SECONDS must be a whole number from 0 to 300');

  const cooldownText = env['AUTH_JWKS_COOLDOWN_SECONDS'];
  const jwksCooldownSeconds = cooldownText === undefined || cooldownText === '' ? 30 : Number(cooldownText);
  if (!Number.isInteger(jwksCooldownSeconds) || jwksCooldownSeconds < 0 || jwksCooldownSeconds > 3600) throw new ConfigError('AUTH_JWKS_COOLDOWN_SECONDS must be a whole number from 0 to 3600');

  if (env['ADMIN_TOKEN']) throw new ConfigError('ADMIN_TOKEN is no longer used: the admin API takes a bearer token with the admin role. Unset ADMIN_TOKEN.');

  return {
    ...(issuer ? { issuer } : {}),
    audience: audience ?? DEFAULT_AUDIENCE,
    ...(jwksUrl ? { jwksUrl } : {}),
    publicKeyFiles,
    devAuth,
    dataDir: base.dataDir,
    ...(directoryFile ? { directoryFile: resolve(directoryFile) } : {}),
    clockToleranceSeconds,
    jwksCooldownSeconds,
    production,
  };
}
