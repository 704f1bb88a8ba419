import { generateKeyPairSync } from 'node:crypto';
import { exportJWK } from 'jose';
import { OidcRelyingParty } from '../../gateway/auth/oidc-client';
import { ClientAuthMethod, type OidcConfig } from '../../gateway/auth/oidc-config';
import { SignInError, SignInFailure } from '../../gateway/auth/oidc-errors';
import { CookieBrowser, freePort, loginAtProvider, startTestIdp, type TestIdp } from '../support/oidc-idp';

/**
 * The relying party on its own against a real OpenID provider (oidc-provider on loopback): each
 * way of authenticating the client at the token endpoint, PKCE as the provider enforces it, what
 * UserInfo adds, and discovery documents that must not be trusted. The viewer's pages and sessions
 * are tested in tests/viewer/oidc-sign-in.test.ts.
 */
const REDIRECT_URI = 'http://127.0.0.1:9/sign-in/callback';
const SECRET = 'a-client-secret-for-the-test-provider-0123456789';
const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const ACCOUNT = { name: 'Dr Ada Testwell', nhsid_nrbac_roles: [{ person_roleid: '555000000001', org_code: 'Y90001', role_code: 'S8000:G8000:R8000' }], selected_roleid: '555000000001' };

describe('the OpenID Connect relying party against a real provider', () => {
  let idp: TestIdp;

  beforeAll(async () => {
    const client = (id: string, method: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      client_id: id,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: method,
      id_token_signed_response_alg: 'ES256',
      ...extra,
    });
    idp = await startTestIdp({
      clients: [
        client('basic', 'client_secret_basic', { client_secret: SECRET }),
        client('post', 'client_secret_post', { client_secret: SECRET }),
        client('key', 'private_key_jwt', { jwks: { keys: [{ ...(await exportJWK(clientKey)), d: undefined, kid: 'viewer-key', use: 'sig', alg: 'ES256' }] }, token_endpoint_auth_signing_alg: 'ES256' }),
      ],
      accounts: { 'gp-cis2-0001': ACCOUNT },
    });
  }, 60_000);
  afterAll(async () => {
    await idp.close();
  });

  const config = (clientId: string, credentials: OidcConfig['credentials'], changes: Partial<OidcConfig> = {}): OidcConfig => ({
    issuer: idp.issuer,
    clientId,
    credentials,
    redirectUri: REDIRECT_URI,
    postLogoutRedirectUri: 'http://127.0.0.1:9/signed-out',
    scopes: ['openid', 'profile', 'nationalrbacaccess', 'selectedrole'],
    sessionHours: 8,
    userinfo: true,
    providerName: 'Test Care Identity',
    clockToleranceSeconds: 60,
    requireHttps: false,
    ...changes,
  });

  /** Starts a sign-in, logs in at the provider, and returns what came back to the redirect URI. */
  async function authorize(rp: OidcRelyingParty): Promise<{ callback: URLSearchParams; pending: Awaited<ReturnType<OidcRelyingParty['startSignIn']>>['pending'] }> {
    const { url, pending } = await rp.startSignIn();
    const browser = new CookieBrowser();
    const back = await loginAtProvider(browser, await browser.request(url), 'gp-cis2-0001', { redirectUri: REDIRECT_URI });
    return { callback: new URL(back).searchParams, pending };
  }

  const failureOf = async (promise: Promise<unknown>): Promise<{ failure: string; detail: string }> => {
    try {
      await promise;
    } catch (err) {
      if (err instanceof SignInError) return { failure: err.failure, detail: err.detail };
      throw err;
    }
    throw new Error('the sign-in was not refused');
  };

  test.each([
    ['client_secret_basic', 'basic', { method: ClientAuthMethod.SECRET_BASIC, secret: SECRET }],
    ['client_secret_post', 'post', { method: ClientAuthMethod.SECRET_POST, secret: SECRET }],
    ['private_key_jwt', 'key', { method: ClientAuthMethod.PRIVATE_KEY_JWT, key: clientKey, alg: 'ES256', kid: 'viewer-key' }],
  ] as const)('with %s the code is exchanged and the claims are the ID token\'s completed by UserInfo', async (_method, clientId, credentials) => {
    const rp = new OidcRelyingParty(config(clientId, credentials));
    const { callback, pending } = await authorize(rp);
    const signedIn = await rp.finishSignIn(callback, pending);
    expect(signedIn.claims).toEqual({ sub: 'gp-cis2-0001', name: 'Dr Ada Testwell', nhsid_nrbac_roles: ACCOUNT.nhsid_nrbac_roles, selected_roleid: '555000000001' });
    expect(signedIn.idTokenExpiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  test('a wrong secret is our registration at fault, not the user\'s', async () => {
    const rp = new OidcRelyingParty(config('basic', { method: ClientAuthMethod.SECRET_BASIC, secret: 'not-the-secret' }));
    const { callback, pending } = await authorize(rp);
    expect(await failureOf(rp.finishSignIn(callback, pending))).toEqual({ failure: SignInFailure.PROVIDER_MISCONFIGURED, detail: 'token endpoint: invalid_client' });
  });

  test('a client assertion signed with another key than the one registered is refused', async () => {
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const rp = new OidcRelyingParty(config('key', { method: ClientAuthMethod.PRIVATE_KEY_JWT, key: otherKey, alg: 'ES256', kid: 'viewer-key' }));
    const { callback, pending } = await authorize(rp);
    expect(await failureOf(rp.finishSignIn(callback, pending))).toEqual({ failure: SignInFailure.PROVIDER_MISCONFIGURED, detail: 'token endpoint: invalid_client' });
  });

  test('the provider refuses the code with another PKCE verifier than the challenge was made from', async () => {
    const rp = new OidcRelyingParty(config('basic', { method: ClientAuthMethod.SECRET_BASIC, secret: SECRET }));
    const { callback, pending } = await authorize(rp);
    expect(await failureOf(rp.finishSignIn(callback, { ...pending, codeVerifier: 'x'.repeat(43) }))).toEqual({ failure: SignInFailure.CODE_REFUSED, detail: 'token endpoint: invalid_grant' });
  });

  test('without UserInfo the claims are the ID token\'s alone (here only sub)', async () => {
    const rp = new OidcRelyingParty(config('basic', { method: ClientAuthMethod.SECRET_BASIC, secret: SECRET }, { userinfo: false }));
    const { callback, pending } = await authorize(rp);
    expect((await rp.finishSignIn(callback, pending)).claims).toEqual({ sub: 'gp-cis2-0001' });
  });

  test('a callback without the iss the provider promised (RFC 9207) is refused', async () => {
    const rp = new OidcRelyingParty(config('basic', { method: ClientAuthMethod.SECRET_BASIC, secret: SECRET }));
    const { callback, pending } = await authorize(rp);
    callback.delete('iss');
    expect(await failureOf(rp.finishSignIn(callback, pending))).toEqual({ failure: SignInFailure.ISSUER_MISMATCH, detail: 'no iss' });
    callback.set('iss', 'https://idp.elsewhere.invalid');
    expect(await failureOf(rp.finishSignIn(callback, pending))).toEqual({ failure: SignInFailure.ISSUER_MISMATCH, detail: 'iss differs' });
  });

  test('a discovery document naming another issuer than configured is not used', async () => {
    const rp = new OidcRelyingParty(config('basic', { method: ClientAuthMethod.SECRET_BASIC, secret: SECRET }, { issuer: `${idp.issuer}/` }));
    expect(await failureOf(rp.startSignIn())).toEqual({ failure: SignInFailure.PROVIDER_MISCONFIGURED, detail: `discovery names issuer '${idp.issuer}', not OIDC_ISSUER '${idp.issuer}/'` });
  });

  test('in production the provider\'s http endpoints are refused', async () => {
    const rp = new OidcRelyingParty(config('basic', { method: ClientAuthMethod.SECRET_BASIC, secret: SECRET }, { requireHttps: true }));
    expect(await failureOf(rp.startSignIn())).toEqual({ failure: SignInFailure.PROVIDER_MISCONFIGURED, detail: 'discovery: authorization_endpoint is not https' });
  });

  test('a provider that cannot be reached is "unavailable", not a refusal of the user', async () => {
    const rp = new OidcRelyingParty(config('basic', { method: ClientAuthMethod.SECRET_BASIC, secret: SECRET }, { issuer: `http://127.0.0.1:${String(await freePort())}` }));
    expect(await failureOf(rp.startSignIn())).toEqual({ failure: SignInFailure.PROVIDER_UNAVAILABLE, detail: 'discovery unreachable: ECONNREFUSED' });
  });

  test('the sign-out address carries the ID token as a hint, our client id and where to come back', async () => {
    const rp = new OidcRelyingParty(config('basic', { method: ClientAuthMethod.SECRET_BASIC, secret: SECRET }));
    const url = new URL((await rp.endSessionUrl('the.id.token')) ?? '');
    expect(`${url.origin}${url.pathname}`).toBe(`${idp.issuer}/session/end`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ id_token_hint: 'the.id.token', client_id: 'basic', post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out' });
    expect(rp.endSessionOrigin()).toBe(idp.issuer);
  });
});
