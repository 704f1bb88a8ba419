import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import request from 'supertest';
import { createApp } from '../../gateway/app';
import { Authenticator, loadAuthConfig, type AuthOutcome } from '../../gateway/auth';
import { devAuthDir, loadOrCreateDevKeyPair, mintToken } from '../../gateway/auth/dev-keys';
import { buildCli } from '../../gateway/cli';
import { mintDevelopmentToken } from '../../gateway/cli/token-command';
import { ConfigError, loadConfig } from '../../gateway/config';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { createLogger } from '../../gateway/logger';
import { Metrics } from '../../gateway/metrics';
import { Store } from '../../gateway/store/store';
import { syntheticPatient } from '../support/synthetic';

/**
 * Development auth end to end: `carebridge token` mints from the key in DATA_DIR/dev-auth, the
 * gateway (configured from the same environment) accepts it; production refuses to mint, and a
 * gateway with development auth off refuses the token.
 */

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const authenticatorFor = async (env: NodeJS.ProcessEnv): Promise<Authenticator> => Authenticator.create(loadAuthConfig(env, loadConfig(env)));
const summary = (o: AuthOutcome): unknown => (o.status === 'authenticated' ? o.identity.requester : o);

describe('carebridge token and development auth', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-token-'));
    env = { DATA_DIR: dir, LOG_LEVEL: 'silent' };
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('a person token: ES256 with the dev key, dev issuer, 8 hours, and the gateway accepts it as that person', async () => {
    const now = new Date();
    const token = await mintDevelopmentToken(env, { role: 'social_worker', org: 'https://carebridge.nhs.uk/Id/ons-local-authority-code|E09000004', user: 'sw-1', team: ['T-HD'], name: 'Sam Example', purpose: 'TREAT' }, now);
    const keys = await loadOrCreateDevKeyPair(devAuthDir(dir));
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: keys.kid, typ: 'JWT' });
    const claims = decodeJwt(token);
    expect([claims.iss, claims.aud, (claims.exp ?? 0) - (claims.iat ?? 0)]).toEqual(['urn:carebridge:dev-auth', 'carebridge', 8 * 3600]);
    expect(statSync(join(devAuthDir(dir), 'signing-key.pem')).mode & 0o777).toBe(0o600);

    const auth = await authenticatorFor(env);
    expect(summary(await auth.authenticate(`Bearer ${token}`))).toEqual({
      userId: 'sw-1', displayName: 'Sam Example', role: 'social_worker', organisation: 'https://carebridge.nhs.uk/Id/ons-local-authority-code|E09000004',
      teams: ['https://social-care.demo-council.invalid/carefirst/team|T-HD'], purposeOfUse: 'TREAT',
    });
  });

  test('through the command line: the token is printed on stdout, and reads the API over HTTP', async () => {
    const previous = process.env['DATA_DIR'];
    process.env['DATA_DIR'] = dir;
    const printed: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      await buildCli().parseAsync(['node', 'carebridge', 'token', '--role', 'R8000', '--org', 'Y90001', '--user', 'gp-7', '--expires-in', '30']);
    } finally {
      write.mockRestore();
      if (previous === undefined) delete process.env['DATA_DIR'];
      else process.env['DATA_DIR'] = previous;
    }
    expect(printed).toHaveLength(1);
    const token = (printed[0] as string).trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(decodeJwt(token)).toMatchObject({ sub: 'gp-7', role: 'R8000', org: 'Y90001' });

    loadFhirDefinitions();
    const store = await Store.open({});
    try {
      await store.migrate();
      await store.upsert([syntheticPatient(3, { id: 'pat-token-1' })]);
      const app = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), auth: await authenticatorFor(env) });
      const res = await request(app).get('/fhir/Patient/pat-token-1').set('Authorization', `Bearer ${token}`);
      expect([res.status, (res.body as { id: string }).id]).toEqual([200, 'pat-token-1']);
    } finally {
      await store.close();
    }
  });

  test('a system token, and the same key reused by the next mint', async () => {
    const first = await mintDevelopmentToken(env, { system: 'demo-trust-pas' });
    const second = await mintDevelopmentToken(env, { system: 'demo-trust-pas' });
    expect(decodeProtectedHeader(first).kid).toBe(decodeProtectedHeader(second).kid);
    const outcome = await (await authenticatorFor(env)).authenticate(`Bearer ${second}`);
    expect(outcome.status === 'authenticated' && [outcome.identity.kind, outcome.identity.requester.system, outcome.identity.requester.organisation]).toEqual(['system', 'demo-trust-pas', `${ODS}|X9Z`]);
  });

  test.each([
    [{ NODE_ENV: 'production' }, { role: 'gp', org: 'Y90001', user: 'u' }, 'Development tokens are off with NODE_ENV=production: use tokens from your identity provider'],
    [{ DEV_AUTH: 'false' }, { system: 'demo-trust-pas' }, 'Development tokens are off (DEV_AUTH=false): use tokens from your identity provider'],
    [{}, { role: 'gp', org: 'Y90001' }, "A person's token needs --user (or --system NAME for a source system)"],
    [{}, { system: 'demo-trust-pas', role: 'gp' }, '--system cannot be combined with --role'],
    [{}, { role: 'R8004', org: 'Y90001', user: 'u' }, "The gateway would refuse this token: role 'R8004' has no CareBridge role in the directory for organisations of kind 'gp-practice'"],
    [{}, { role: 'gp', org: 'Y90001', user: 'u', purpose: 'BTG' }, 'The gateway would refuse this token: break-glass is not granted by a token: use the break-glass operation, which records a reason'],
    [{}, { system: 'nobody' }, "The gateway would refuse this token: system 'nobody' is not in the directory"],
    [{}, { role: 'gp', org: 'Y90001', user: 'u', expiresIn: 0 }, '--expires-in must be a whole number of minutes from 1 to 1440'],
  ])('refused: %j %j', async (extraEnv, req, message) => {
    await expect(mintDevelopmentToken({ ...env, ...extraEnv }, req)).rejects.toThrow(message);
  });

  test('a gateway with development auth off refuses development tokens; the dev key never vouches for another issuer', async () => {
    const token = await mintDevelopmentToken(env, { role: 'gp', org: 'Y90001', user: 'u' });
    const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = join(dir, 'idp-a.pem');
    writeFileSync(pem, idp.publicKey.export({ type: 'spki', format: 'pem' }));
    const off = await authenticatorFor({ ...env, DEV_AUTH: 'false', AUTH_PUBLIC_KEYS: pem, AUTH_ISSUER: 'https://idp.test', AUTH_AUDIENCE: 'carebridge' });
    expect(await off.authenticate(`Bearer ${token}`)).toEqual({ status: 'invalid', reason: 'unknown-key', claimedSubject: 'u' });

    const on = await authenticatorFor({ ...env, AUTH_PUBLIC_KEYS: pem, AUTH_ISSUER: 'https://idp.test', AUTH_AUDIENCE: 'carebridge' });
    const keys = await loadOrCreateDevKeyPair(devAuthDir(dir));
    const posing = await mintToken(keys, { sub: 'u', role: 'gp', org: 'Y90001' }, { issuer: 'https://idp.test', audience: 'carebridge', expiresInSeconds: 60 });
    expect(await on.authenticate(`Bearer ${posing}`)).toEqual({ status: 'invalid', reason: 'wrong-issuer', claimedSubject: 'u' });
    expect((await on.authenticate(`Bearer ${token}`)).status).toBe('authenticated');
  });
});

describe('PEM public keys (AUTH_PUBLIC_KEYS)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-pem-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('each key is known by its file name (or kid=path); a kid picks it, no kid with two keys is refused', async () => {
    const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'idp-a.pem'), a.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'second.pem'), b.publicKey.export({ type: 'spki', format: 'pem' }));
    const env = { DATA_DIR: dir, DEV_AUTH: 'false', AUTH_PUBLIC_KEYS: `${join(dir, 'idp-a.pem')}, idp-b=${join(dir, 'second.pem')}`, AUTH_ISSUER: 'https://idp.test', AUTH_AUDIENCE: 'cb' };
    expect(loadAuthConfig(env, { dataDir: dir, production: false }).publicKeyFiles.map((k) => k.kid)).toEqual(['idp-a', 'idp-b']);
    const auth = await Authenticator.create(loadAuthConfig(env, { dataDir: dir, production: false }));
    const sign = (key: typeof a, kid?: string): Promise<string> =>
      new SignJWT({ sub: 'u', role: 'gp', org: 'Y90001' }).setProtectedHeader({ alg: 'ES256', ...(kid ? { kid } : {}) }).setIssuer('https://idp.test').setAudience('cb').setExpirationTime('5m').sign(key.privateKey);
    expect((await auth.authenticate(`Bearer ${await sign(a, 'idp-a')}`)).status).toBe('authenticated');
    expect((await auth.authenticate(`Bearer ${await sign(b, 'idp-b')}`)).status).toBe('authenticated');
    expect(await auth.authenticate(`Bearer ${await sign(a, 'idp-b')}`)).toEqual({ status: 'invalid', reason: 'bad-signature', claimedSubject: 'u' });
    expect(await auth.authenticate(`Bearer ${await sign(a)}`)).toEqual({ status: 'invalid', reason: 'ambiguous-key', claimedSubject: 'u' });
  });

  test('a private key, an RSA key under 2048 bits or an unreadable file stops the start with a clear error', async () => {
    const env = (file: string): NodeJS.ProcessEnv => ({ DEV_AUTH: 'false', AUTH_PUBLIC_KEYS: file, AUTH_ISSUER: 'https://idp.test', AUTH_AUDIENCE: 'cb' });
    const priv = join(dir, 'oops.pem');
    writeFileSync(priv, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expect(Authenticator.create(loadAuthConfig(env(priv), { dataDir: dir, production: false }))).rejects.toThrow(`AUTH_PUBLIC_KEYS: ${priv} holds a private key; give the identity provider's public key`);
    const weak = join(dir, 'weak.pem');
    writeFileSync(weak, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
    await expect(Authenticator.create(loadAuthConfig(env(weak), { dataDir: dir, production: false }))).rejects.toThrow(`AUTH_PUBLIC_KEYS: ${weak} is an RSA key shorter than 2048 bits`);
    await expect(Authenticator.create(loadAuthConfig(env(join(dir, 'none.pem')), { dataDir: dir, production: false }))).rejects.toThrow(`AUTH_PUBLIC_KEYS: ${join(dir, 'none.pem')} cannot be read (ENOENT)`);
  });
});

describe('authentication settings', () => {
  const base = { dataDir: '/tmp/cb', production: false };
  test('defaults outside production: development auth on, audience carebridge, 60 s clock tolerance, demo directory', () => {
    expect(loadAuthConfig({}, base)).toEqual({ audience: 'carebridge', publicKeyFiles: [], devAuth: true, dataDir: '/tmp/cb', clockToleranceSeconds: 60, jwksCooldownSeconds: 30, production: false });
  });
  test.each([
    [{}, true, 'No way to verify tokens: set AUTH_JWKS_URL or AUTH_PUBLIC_KEYS (with AUTH_ISSUER and AUTH_AUDIENCE), or DEV_AUTH=true outside production'],
    [{ DEV_AUTH: 'true', AUTH_JWKS_URL: 'https://idp/jwks', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a', DIRECTORY_FILE: 'd.json' }, true, 'DEV_AUTH=true is refused with NODE_ENV=production'],
    [{ AUTH_JWKS_URL: 'http://idp/jwks', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a', DIRECTORY_FILE: 'd.json' }, true, 'AUTH_JWKS_URL must be an https URL in production'],
    [{ AUTH_JWKS_URL: 'https://idp/jwks', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }, true, 'DIRECTORY_FILE is required with NODE_ENV=production'],
    [{ AUTH_JWKS_URL: 'https://idp/jwks' }, false, 'AUTH_ISSUER and AUTH_AUDIENCE are required with AUTH_JWKS_URL or AUTH_PUBLIC_KEYS'],
    [{ DEV_AUTH: 'yes' }, false, "DEV_AUTH must be true or false, not 'yes'"],
    [{ AUTH_CLOCK_TOLERANCE_SECONDS: '3600' }, false, 'AUTH_CLOCK_TOLERANCE_SECONDS must be a whole number from 0 to 300'],
    [{ ADMIN_TOKEN: 'secret' }, false, 'ADMIN_TOKEN is no longer used: the admin API takes a bearer token with the admin role. Unset ADMIN_TOKEN.'],
  ])('refused: %j (production %s)', (env, production, message) => {
    expect(() => loadAuthConfig(env, { ...base, production })).toThrow(ConfigError);
    expect(() => loadAuthConfig(env, { ...base, production })).toThrow(message);
  });
  test('production with an https JWKS, issuer, audience and a directory: development auth off', () => {
    const config = loadAuthConfig({ AUTH_JWKS_URL: 'https://login.example.nhs.uk/jwks', AUTH_ISSUER: 'https://login.example.nhs.uk', AUTH_AUDIENCE: 'carebridge-prod', DIRECTORY_FILE: '/etc/carebridge/directory.json' }, { ...base, production: true });
    expect([config.devAuth, config.jwksUrl, config.issuer, config.audience, config.directoryFile]).toEqual([false, 'https://login.example.nhs.uk/jwks', 'https://login.example.nhs.uk', 'carebridge-prod', '/etc/carebridge/directory.json']);
  });
});
