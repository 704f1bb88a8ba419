import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config';
import { loadOidcConfig } from './oidc-config';

describe('OpenID Connect settings from the environment', () => {
  let dir: string;
  let ecKey: string;
  let rsaShortKey: string;
  let publicKey: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-oidc-config-'));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    ecKey = join(dir, 'client-ec.pem');
    writeFileSync(ecKey, ec.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    rsaShortKey = join(dir, 'client-rsa-1024.pem');
    writeFileSync(rsaShortKey, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    publicKey = join(dir, 'public.pem');
    writeFileSync(publicKey, ec.publicKey.export({ type: 'spki', format: 'pem' }));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const base = { production: false, clockToleranceSeconds: 60 };
  const minimal = {
    OIDC_ISSUER: 'https://am.nhsdev.auth-ptl.cis2.spineservices.nhs.uk/openam/oauth2/realms/root/realms/oidc',
    OIDC_CLIENT_ID: 'carebridge-viewer',
    OIDC_CLIENT_SECRET: 'secret',
    OIDC_REDIRECT_URI: 'https://carebridge.example.nhs.uk/sign-in/callback',
  };

  test('unset OIDC_ISSUER: no OpenID Connect sign-in', () => {
    expect(loadOidcConfig({}, base)).toBeUndefined();
  });

  test('the least settings: client_secret_basic, openid profile, 8 hours, UserInfo, sign-out back to /signed-out', () => {
    expect(loadOidcConfig(minimal, { production: true, clockToleranceSeconds: 30 })).toEqual({
      issuer: minimal.OIDC_ISSUER,
      clientId: 'carebridge-viewer',
      credentials: { method: 'client_secret_basic', secret: 'secret' },
      redirectUri: 'https://carebridge.example.nhs.uk/sign-in/callback',
      postLogoutRedirectUri: 'https://carebridge.example.nhs.uk/signed-out',
      scopes: ['openid', 'profile'],
      sessionHours: 8,
      userinfo: true,
      providerName: 'your work account',
      clockToleranceSeconds: 30,
      requireHttps: true,
    });
  });

  test('every setting read', () => {
    const config = loadOidcConfig(
      {
        ...minimal,
        OIDC_TOKEN_AUTH_METHOD: 'client_secret_post',
        OIDC_SCOPES: 'openid profile nationalrbacaccess selectedrole',
        OIDC_SESSION_HOURS: '4',
        OIDC_USERINFO: 'false',
        OIDC_PROVIDER_NAME: 'NHS Care Identity',
        OIDC_POST_LOGOUT_REDIRECT_URI: 'https://carebridge.example.nhs.uk/goodbye',
      },
      base,
    );
    expect(config).toMatchObject({
      credentials: { method: 'client_secret_post', secret: 'secret' },
      scopes: ['openid', 'profile', 'nationalrbacaccess', 'selectedrole'],
      sessionHours: 4,
      userinfo: false,
      providerName: 'NHS Care Identity',
      postLogoutRedirectUri: 'https://carebridge.example.nhs.uk/goodbye',
    });
  });

  test('a client key file gives private_key_jwt with the algorithm of the key', () => {
    const { OIDC_CLIENT_SECRET: _secret, ...withoutSecret } = minimal;
    const config = loadOidcConfig({ ...withoutSecret, OIDC_CLIENT_KEY: ecKey, OIDC_CLIENT_KEY_ID: 'viewer-2026' }, base);
    expect(config?.credentials).toMatchObject({ method: 'private_key_jwt', alg: 'ES384', kid: 'viewer-2026' });
  });

  const { OIDC_CLIENT_SECRET: _unused, ...noCredentials } = minimal;
  test.each([
    ['OIDC_CLIENT_ID is set but OIDC_ISSUER is not', { OIDC_CLIENT_ID: 'x' }],
    ["OIDC_ISSUER must be a URL, not 'not a url'", { ...minimal, OIDC_ISSUER: 'not a url' }],
    ['OIDC_ISSUER must be an https URL', { ...minimal, OIDC_ISSUER: 'ftp://idp.example' }],
    ['OIDC_ISSUER must not have a query', { ...minimal, OIDC_ISSUER: 'https://idp.example/?tenant=1' }],
    ['OIDC_CLIENT_ID is required with OIDC_ISSUER', { ...minimal, OIDC_CLIENT_ID: '' }],
    ['OIDC_ISSUER needs the client credentials: OIDC_CLIENT_SECRET, or OIDC_CLIENT_KEY', noCredentials],
    ['Set one of OIDC_CLIENT_SECRET and OIDC_CLIENT_KEY, not both', { ...minimal, OIDC_CLIENT_KEY: '/etc/carebridge/viewer-key.pem' }],
    ['OIDC_TOKEN_AUTH_METHOD=private_key_jwt needs OIDC_CLIENT_KEY', { ...minimal, OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt' }],
    ['OIDC_TOKEN_AUTH_METHOD must be one of client_secret_basic, client_secret_post, private_key_jwt', { ...minimal, OIDC_TOKEN_AUTH_METHOD: 'client_secret_jwt' }],
    ['OIDC_CLIENT_KEY', { ...noCredentials, OIDC_CLIENT_KEY: join(tmpdir(), 'no-such-key.pem') }],
    ['OIDC_REDIRECT_URI is required with OIDC_ISSUER', { ...minimal, OIDC_REDIRECT_URI: undefined }],
    ['OIDC_REDIRECT_URI must end in /sign-in/callback', { ...minimal, OIDC_REDIRECT_URI: 'https://carebridge.example.nhs.uk/callback' }],
    ['OIDC_SCOPES must include openid', { ...minimal, OIDC_SCOPES: 'profile email' }],
    [`OIDC_SCOPES: '"quoted"' is not a valid scope`, { ...minimal, OIDC_SCOPES: 'openid "quoted"' }],
    ['OIDC_SESSION_HOURS must be a number of hours above 0 and at most 24', { ...minimal, OIDC_SESSION_HOURS: '0' }],
    ['OIDC_SESSION_HOURS must be a number of hours above 0 and at most 24', { ...minimal, OIDC_SESSION_HOURS: '48' }],
    ["OIDC_USERINFO must be true or false, not 'yes'", { ...minimal, OIDC_USERINFO: 'yes' }],
  ] as [string, NodeJS.ProcessEnv][])('refused: %s', (message, env) => {
    expect(() => loadOidcConfig(env, base)).toThrow(ConfigError);
    expect(() => loadOidcConfig(env, base)).toThrow(message);
  });

  test('key files that cannot sign client assertions are refused by what is wrong with them', () => {
    expect(() => loadOidcConfig({ ...noCredentials, OIDC_CLIENT_KEY: rsaShortKey }, base)).toThrow(`OIDC_CLIENT_KEY: ${rsaShortKey} is an RSA key shorter than 2048 bits`);
    expect(() => loadOidcConfig({ ...noCredentials, OIDC_CLIENT_KEY: publicKey }, base)).toThrow(`OIDC_CLIENT_KEY: ${publicKey} is not a PEM private key`);
  });

  test('in production the issuer and the redirect URI must be https', () => {
    const production = { production: true, clockToleranceSeconds: 60 };
    expect(() => loadOidcConfig({ ...minimal, OIDC_ISSUER: 'http://idp.example' }, production)).toThrow('OIDC_ISSUER must be an https URL in production');
    expect(() => loadOidcConfig({ ...minimal, OIDC_REDIRECT_URI: 'http://carebridge.example.nhs.uk/sign-in/callback' }, production)).toThrow('OIDC_REDIRECT_URI must be an https URL in production');
    // Outside production, http is allowed (a local identity provider).
    expect(loadOidcConfig({ ...minimal, OIDC_ISSUER: 'http://127.0.0.1:8081' }, base)?.issuer).toBe('http://127.0.0.1:8081');
  });
});
