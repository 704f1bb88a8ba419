import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { Express } from 'express';
import { base64url, exportJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import pino from 'pino';
import request, { type Response } from 'supertest';
import { createApp } from '../../gateway/app';
import { Authenticator, loadAuthConfig } from '../../gateway/auth';
import { DEV_ISSUER } from '../../gateway/auth/claims';
import { generateDevKeyPair, mintToken } from '../../gateway/auth/dev-keys';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { Metrics } from '../../gateway/metrics';
import { Store } from '../../gateway/store/store';
import { syntheticPatient } from '../support/synthetic';

/**
 * Token attacks against the real app: an identity provider publishing its keys at a JWKS URL
 * (a local HTTP server), the gateway configured with AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE,
 * and every refusal the access model names. Each refusal is the same 401 to the client; the log
 * says why, and never holds the token.
 */

const ISSUER = 'https://idp.attack.test';
const AUDIENCE = 'carebridge-attack-test';
const READ = '/fhir/Patient/pat-attack-1';

interface Key {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256' | 'PS256';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}
const rsa = (kid: string, alg: 'RS256' | 'PS256' = 'RS256'): Key => ({ kid, alg, ...generateKeyPairSync('rsa', { modulusLength: 2048 }) });
const ec = (kid: string): Key => ({ kid, alg: 'ES256', ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) });

const RSA_1 = rsa('rsa-1');
const RSA_2 = rsa('rsa-2', 'PS256');
const RSA_3 = rsa('rsa-3');
const EC_1 = ec('ec-1');
const RSA_NEW = rsa('rsa-new');
const STRANGER = ec('stranger');

const now = (): number => Math.floor(Date.now() / 1000);
// A unique jti per token: RS256 signatures are deterministic, and accepted tokens are cached by their text.
let serial = 0;
const claims = (extra: JWTPayload = {}): JWTPayload => ({ jti: `t-${++serial}`, sub: 'attack-test-user', role: 'gp', org: 'Y90001', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 300, ...extra });

async function sign(key: Key, payload: JWTPayload = claims(), header: { kid?: string | null } = {}): Promise<string> {
  const kid = header.kid === null ? {} : { kid: header.kid ?? key.kid };
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, typ: 'JWT', ...kid }).sign(key.privateKey);
}

const enc = (o: object): string => base64url.encode(JSON.stringify(o));

describe('bearer tokens against a JWKS identity provider', () => {
  let dir: string;
  let store: Store;
  let app: Express;
  let jwks: Server;
  let published: JWK[] = [];
  let jwksFetches = 0;
  const logLines: string[] = [];

  const publish = async (...keys: Key[]): Promise<void> => {
    published = await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: k.alg, use: 'sig' })));
  };

  beforeAll(async () => {
    loadFhirDefinitions();
    dir = mkdtempSync(join(tmpdir(), 'cb-auth-attacks-'));
    await publish(RSA_1, RSA_2, RSA_3, EC_1);
    jwks = createServer((_req, res) => {
      jwksFetches++;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    const config = loadAuthConfig({ AUTH_JWKS_URL: url, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, DEV_AUTH: 'false', AUTH_JWKS_COOLDOWN_SECONDS: '0' }, { dataDir: dir, production: false });
    const auth = await Authenticator.create(config);
    store = await Store.open({});
    await store.migrate();
    await store.upsert([syntheticPatient(1, { id: 'pat-attack-1' })]);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    app = createApp({ store, logger: pino({ level: 'info' }, sink), metrics: new Metrics(false), auth });
  });
  afterAll(async () => {
    await store.close();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (token: string): Promise<Response> => request(app).get(READ).set('Authorization', `Bearer ${token}`);

  /** The one 401 every refusal gets, and the reason the log gives for it (and that the log holds no part of the token). */
  async function expectRefused(token: string, reason: string): Promise<void> {
    const before = logLines.length;
    const res = await get(token);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="carebridge", error="invalid_token"');
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const outcome = res.body as OperationOutcome;
    expect(outcome.issue).toEqual([{ severity: 'error', code: 'login', details: { text: 'The bearer token is not valid' } }]);
    const logged = logLines.slice(before).map((l) => JSON.parse(l) as { msg: string; reason?: string });
    expect(logged.filter((l) => l.msg === 'token refused').map((l) => l.reason)).toEqual([reason]);
    for (const part of token.split('.').filter((p) => p.length > 8)) expect(logLines.slice(before).join('')).not.toContain(part);
  }

  test('a well-signed token from each published key is accepted (RS256, PS256, ES256)', async () => {
    for (const key of [RSA_1, RSA_2, RSA_3, EC_1]) {
      const res = await get(await sign(key));
      expect([key.kid, res.status, (res.body as { id?: string }).id]).toEqual([key.kid, 200, 'pat-attack-1']);
    }
  });

  test('no token: 401 asking for one, without an error code (RFC 6750 §3.1)', async () => {
    const res = await request(app).get(READ);
    expect([res.status, res.headers['www-authenticate'], (res.body as OperationOutcome).issue[0]?.details?.text]).toEqual([401, 'Bearer realm="carebridge"', 'A bearer token is required']);
    const basic = await request(app).get(READ).set('Authorization', 'Basic dXNlcjpwYXNz');
    expect([basic.status, basic.headers['www-authenticate']]).toEqual([401, 'Bearer realm="carebridge", error="invalid_token"']);
  });

  test('alg none is refused, with or without a signature part', async () => {
    const unsigned = `${enc({ alg: 'none', typ: 'JWT', kid: 'rsa-1' })}.${enc(claims())}.`;
    await expectRefused(unsigned, 'algorithm-not-allowed');
    await expectRefused(`${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims())}.`, 'algorithm-not-allowed');
  });

  test('HS256 signed with the public key as the HMAC secret (algorithm confusion) is refused', async () => {
    const publicPem = RSA_1.publicKey.export({ type: 'spki', format: 'pem' });
    const forged = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' }).sign(Buffer.from(publicPem));
    await expectRefused(forged, 'algorithm-not-allowed');
    const jwk = published.find((k) => k.kid === 'rsa-1') as JWK;
    const forgedWithJwk = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' }).sign(Buffer.from(JSON.stringify(jwk)));
    await expectRefused(forgedWithJwk, 'algorithm-not-allowed');
  });

  test('an expired token is refused; one expired less than the clock tolerance (60 s) ago is not', async () => {
    await expectRefused(await sign(RSA_1, claims({ iat: now() - 3600, exp: now() - 120 })), 'expired');
    expect((await get(await sign(RSA_1, claims({ iat: now() - 3600, exp: now() - 20 })))).status).toBe(200);
  });

  test('a token not yet valid (nbf in the future) is refused, beyond the clock tolerance', async () => {
    await expectRefused(await sign(RSA_1, claims({ nbf: now() + 600 })), 'not-yet-valid');
    expect((await get(await sign(RSA_1, claims({ nbf: now() + 20 })))).status).toBe(200);
  });

  test('a token without exp is refused', async () => {
    const payload = claims();
    delete payload.exp;
    await expectRefused(await sign(RSA_1, payload), 'missing-claim');
  });

  test('the wrong issuer or the wrong audience is refused', async () => {
    await expectRefused(await sign(RSA_1, claims({ iss: 'https://evil.example' })), 'wrong-issuer');
    await expectRefused(await sign(RSA_1, claims({ aud: 'some-other-service' })), 'wrong-audience');
    await expectRefused(await sign(RSA_1, claims({ iss: DEV_ISSUER })), 'wrong-issuer');
  });

  test('a tampered payload (role raised, signature kept) is refused', async () => {
    const [header, , signature] = (await sign(EC_1)).split('.') as [string, string, string];
    await expectRefused(`${header}.${enc(claims({ role: 'privacy_officer' }))}.${signature}`, 'bad-signature');
  });

  test('a tampered signature is refused', async () => {
    const [header, payload, signature] = (await sign(RSA_1)).split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 20)}${signature[20] === 'A' ? 'B' : 'A'}${signature.slice(21)}`;
    await expectRefused(`${header}.${payload}.${flipped}`, 'bad-signature');
  });

  test('a token signed with a key the identity provider never published (unknown kid) is refused', async () => {
    await expectRefused(await sign(STRANGER), 'unknown-key');
    // A stranger's key presented under a published kid fails on the signature instead.
    await expectRefused(await sign(STRANGER, claims(), { kid: 'ec-1' }), 'bad-signature');
    // A development token is just another stranger while development auth is off.
    const dev = await generateDevKeyPair();
    await expectRefused(await mintToken(dev, { sub: 'dev-user', role: 'gp', org: 'Y90001' }, { audience: AUDIENCE, expiresInSeconds: 300 }), 'unknown-key');
  });

  test('without a kid: refused when several published keys could have signed it (two RS256 keys), accepted when only one could', async () => {
    await expectRefused(await sign(RSA_1, claims(), { kid: null }), 'ambiguous-key');
    expect((await get(await sign(EC_1, claims(), { kid: null }))).status).toBe(200);
  });

  test('garbage is refused as malformed', async () => {
    await expectRefused('not.a.jwt', 'malformed');
    await expectRefused(`bm90IGpzb24.${enc(claims())}.c2lnbmF0dXJl`, 'malformed');
    // A well-formed header over a payload that is not JSON fails on the signature first: still refused.
    await expectRefused(`${enc({ alg: 'RS256', kid: 'rsa-1' })}.bm90IGpzb24.c2lnbmF0dXJl`, 'bad-signature');
  });

  test('key rotation: a new key is accepted once published (the JWKS is fetched again), a removed key is refused', async () => {
    const newToken = await sign(RSA_NEW);
    const oldToken = await sign(RSA_1);
    await expectRefused(newToken, 'unknown-key');
    const fetchesBefore = jwksFetches;
    await publish(RSA_NEW, EC_1);
    expect((await get(newToken)).status).toBe(200);
    expect(jwksFetches).toBeGreaterThan(fetchesBefore);
    await expectRefused(oldToken, 'unknown-key');
    expect((await get(await sign(EC_1))).status).toBe(200);
  });

  test('when the JWKS endpoint cannot be reached, a token needing a fetch gets 503 (try again), not 401', async () => {
    await new Promise<void>((resolve) => {
      jwks.close(() => resolve());
      jwks.closeAllConnections();
    });
    const res = await get(await sign(rsa('rsa-after-outage')));
    expect([res.status, res.headers['retry-after'], (res.body as OperationOutcome).issue[0]?.code]).toEqual([503, '5', 'transient']);
    jwks = createServer();
  });
});
