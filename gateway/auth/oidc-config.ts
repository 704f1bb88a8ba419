import { createPrivateKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '../config';
import { readKeyFile } from '../key-files';

/**
 * The viewer's OpenID Connect sign-in (README, "The viewer"), read from the environment once at
 * start. Unset OIDC_ISSUER means no OpenID Connect sign-in; set, the other settings are checked
 * together and every problem stops the start with a message naming the setting.
 */

/** How the viewer proves itself at the token endpoint (RFC 6749 §2.3.1; OIDC Core §9). */
export const ClientAuthMethod = {
  SECRET_BASIC: 'client_secret_basic',
  SECRET_POST: 'client_secret_post',
  PRIVATE_KEY_JWT: 'private_key_jwt',
} as const;
export type ClientAuthMethod = (typeof ClientAuthMethod)[keyof typeof ClientAuthMethod];

export type ClientCredentials =
  | { readonly method: typeof ClientAuthMethod.SECRET_BASIC | typeof ClientAuthMethod.SECRET_POST; readonly secret: string }
  | { readonly method: typeof ClientAuthMethod.PRIVATE_KEY_JWT; readonly key: KeyObject; readonly alg: string; readonly kid?: string };

export interface OidcConfig {
  /** The identity provider's issuer identifier; discovery is `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly clientId: string;
  readonly credentials: ClientCredentials;
  /** Where the provider sends the browser back: this gateway's `/sign-in/callback`. */
  readonly redirectUri: string;
  /** Where the provider sends the browser after signing out there (registered with the provider). */
  readonly postLogoutRedirectUri: string;
  readonly scopes: readonly string[];
  /** The most a session lasts; it also never outlives the ID token it was opened with. */
  readonly sessionHours: number;
  /** Ask the UserInfo endpoint for claims (CIS2 answers its RBAC claims there), when the provider has one. */
  readonly userinfo: boolean;
  /** Shown on the sign-in button: "Sign in with …". */
  readonly providerName: string;
  readonly clockToleranceSeconds: number;
  /** Provider endpoints must be https (always true in production). */
  readonly requireHttps: boolean;
}

export const CALLBACK_PATH = '/sign-in/callback';
export const SIGNED_OUT_PATH = '/signed-out';
const DEFAULT_SCOPES = ['openid', 'profile'];
const DEFAULT_SESSION_HOURS = 8;

function url(env: NodeJS.ProcessEnv, name: string, requireHttps: boolean): URL | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError(`${name} must be a URL, not '${text}'`);
  }
  if (parsed.protocol !== 'https:' && (requireHttps || parsed.protocol !== 'http:')) throw new ConfigError(`${name} must be an https URL${requireHttps ? ' in production' : ''}, not '${text}'`);
  if (parsed.hash !== '') throw new ConfigError(`${name} must not have a fragment (#…)`);
  return parsed;
}

/** The JWS algorithm a private key signs client assertions with. */
function assertionAlgorithm(key: KeyObject, path: string): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new ConfigError(`OIDC_CLIENT_KEY: ${path} is an RSA key shorter than 2048 bits`);
      return 'RS256';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const alg = curve === 'prime256v1' ? 'ES256' : curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : undefined;
      if (!alg) throw new ConfigError(`OIDC_CLIENT_KEY: ${path} is an EC key on ${curve ?? 'an unknown curve'}; P-256, P-384 or P-521 are accepted`);
      return alg;
    }
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new ConfigError(`OIDC_CLIENT_KEY: ${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; RSA, EC or Ed25519 are accepted`);
  }
}

function credentials(env: NodeJS.ProcessEnv): ClientCredentials {
  const secret = env['OIDC_CLIENT_SECRET'] || undefined;
  const keyPath = env['OIDC_CLIENT_KEY'] || undefined;
  const method = env['OIDC_TOKEN_AUTH_METHOD'] || undefined;
  const methods = Object.values(ClientAuthMethod) as string[];
  if (method !== undefined && !methods.includes(method)) throw new ConfigError(`OIDC_TOKEN_AUTH_METHOD must be one of ${methods.join(', ')}, not '${method}'`);
  if (secret !== undefined && keyPath !== undefined) throw new ConfigError('Set one of OIDC_CLIENT_SECRET and OIDC_CLIENT_KEY, not both');
  if (keyPath !== undefined) {
    if (method !== undefined && method !== ClientAuthMethod.PRIVATE_KEY_JWT) throw new ConfigError(`OIDC_CLIENT_KEY signs client assertions (private_key_jwt); OIDC_TOKEN_AUTH_METHOD=${method} needs OIDC_CLIENT_SECRET instead`);
    const pem = readKeyFile(keyPath, 'OIDC_CLIENT_KEY');
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch {
      throw new ConfigError(`OIDC_CLIENT_KEY: ${keyPath} is not a PEM private key`);
    }
    const kid = env['OIDC_CLIENT_KEY_ID'] || undefined;
    return { method: ClientAuthMethod.PRIVATE_KEY_JWT, key, alg: assertionAlgorithm(key, keyPath), ...(kid ? { kid } : {}) };
  }
  if (secret !== undefined) {
    if (method === ClientAuthMethod.PRIVATE_KEY_JWT) throw new ConfigError('OIDC_TOKEN_AUTH_METHOD=private_key_jwt needs OIDC_CLIENT_KEY (a PEM private key file), not OIDC_CLIENT_SECRET');
    return { method: method === ClientAuthMethod.SECRET_POST ? ClientAuthMethod.SECRET_POST : ClientAuthMethod.SECRET_BASIC, secret };
  }
  throw new ConfigError('OIDC_ISSUER needs the client credentials: OIDC_CLIENT_SECRET, or OIDC_CLIENT_KEY (a PEM private key file, for private_key_jwt)');
}

export function loadOidcConfig(env: NodeJS.ProcessEnv, base: { production: boolean; clockToleranceSeconds: number }): OidcConfig | undefined {
  const requireHttps = base.production;
  const issuerUrl = url(env, 'OIDC_ISSUER', requireHttps);
  if (issuerUrl === undefined) {
    const stray = Object.keys(env).filter((k) => k.startsWith('OIDC_') && env[k] !== '' && env[k] !== undefined);
    if (stray.length > 0) throw new ConfigError(`${stray.sort().join(', ')} ${stray.length === 1 ? 'is' : 'are'} set but OIDC_ISSUER is not: set OIDC_ISSUER to turn on OpenID Connect sign-in`);
    return undefined;
  }
  if (issuerUrl.search !== '') throw new ConfigError('OIDC_ISSUER must not have a query (?…): it is the issuer identifier, compared exactly');
  const clientId = env['OIDC_CLIENT_ID'] || undefined;
  if (clientId === undefined) throw new ConfigError('OIDC_CLIENT_ID is required with OIDC_ISSUER');
  const redirect = url(env, 'OIDC_REDIRECT_URI', requireHttps);
  if (redirect === undefined) throw new ConfigError(`OIDC_REDIRECT_URI is required with OIDC_ISSUER: this gateway's ${CALLBACK_PATH} as the browser reaches it, e.g. https://carebridge.example.nhs.uk${CALLBACK_PATH}`);
  if (redirect.pathname !== CALLBACK_PATH || redirect.search !== '') throw new ConfigError(`OIDC_REDIRECT_URI must end in ${CALLBACK_PATH} (the viewer's callback) with no query, not '${redirect.href}'`);
  const postLogout = url(env, 'OIDC_POST_LOGOUT_REDIRECT_URI', requireHttps) ?? new URL(SIGNED_OUT_PATH, redirect.origin);

  const scopes = (env['OIDC_SCOPES'] || DEFAULT_SCOPES.join(' ')).split(/[\s,]+/).filter(Boolean);
  if (!scopes.includes('openid')) throw new ConfigError(`OIDC_SCOPES must include openid, not '${scopes.join(' ')}'`);
  const badScope = scopes.find((s) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s));
  if (badScope !== undefined) throw new ConfigError(`OIDC_SCOPES: '${badScope}' is not a valid scope (RFC 6749 §3.3)`);

  const hoursText = env['OIDC_SESSION_HOURS'];
  const sessionHours = hoursText === undefined || hoursText === '' ? DEFAULT_SESSION_HOURS : Number(hoursText);
  if (!Number.isFinite(sessionHours) || sessionHours <= 0 || sessionHours > 24) throw new ConfigError(`OIDC_SESSION_HOURS must be a number of hours above 0 and at most 24, not '${hoursText ?? ''}'`);

  const userinfoText = env['OIDC_USERINFO'];
  if (userinfoText !== undefined && userinfoText !== '' && userinfoText !== 'true' && userinfoText !== 'false') throw new ConfigError(`OIDC_USERINFO must be true or false, not '${userinfoText}'`);

  return {
    // The issuer is compared exactly (OIDC Discovery §4.3): kept as written, not as URL normalises it.
    issuer: env['OIDC_ISSUER'] ?? issuerUrl.href,
    clientId,
    credentials: credentials(env),
    redirectUri: redirect.href,
    postLogoutRedirectUri: postLogout.href,
    scopes: [...new Set(scopes)],
    sessionHours,
    userinfo: userinfoText !== 'false',
    providerName: env['OIDC_PROVIDER_NAME']?.trim() || 'your work account',
    clockToleranceSeconds: base.clockToleranceSeconds,
    requireHttps,
  };
}
