import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { decodeJwt, SignJWT, type JWTPayload } from 'jose';
import pino from 'pino';
import { accessReportEntry, searchTrail } from '../../gateway/audit/trail-search';
import { loadConfig } from '../../gateway/config';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { ORG } from '../support/auth';
import { CookieBrowser, formOf, freePort, loginAtProvider, startTestIdp, type TestIdp, type TokenResponse } from '../support/oidc-idp';
import { csrfOf } from '../support/viewer-session';

/**
 * The viewer's OpenID Connect sign-in against the whole gateway, configured as in production
 * (development sign-in off, the API trusting the provider's keys), and a real OpenID provider
 * (oidc-provider) on loopback: a browser without scripts signs in at the provider and ends on a
 * record page as the role and organisation the directory gives its claims; each way a callback
 * can be wrong is refused with a page and no session; signing out ends the session here and at the
 * provider.
 */
const CLIENT_ID = 'carebridge-viewer';
const CLIENT_SECRET = 'viewer-secret-for-the-test-provider-0123456789';
const ID_TOKEN_SECONDS = 1800;

/** Synthetic staff. The GP's role comes as CIS2 does: national RBAC roles and the selected one, from UserInfo. */
const ACCOUNTS = {
  'gp-cis2-0001': { name: 'Dr Ada Testwell', nhsid_nrbac_roles: [{ person_roleid: '555000000001', org_code: 'Y90001', role_code: 'S8000:G8000:R8000' }], selected_roleid: '555000000001' },
  'sw-council-0001': { name: 'Sam Fieldworker', groups: ['ASC-Team-Hospital-Discharge'], org: ORG.COUNCIL },
  // R8004 (healthcare student) is deliberately mapped to no role; ZZZ99 is no organisation in the directory.
  'student-0001': { name: 'Pat Learner', role: 'R8004', org: 'X9Z' },
  'elsewhere-0001': { name: 'Kim Elsewhere', role: 'R8000', org: 'ZZZ99' },
} as const;

describe('OpenID Connect sign-in to the viewer', () => {
  let dir: string;
  let idp: TestIdp;
  let gateway: RunningGateway;
  let base: string;
  const logLines: string[] = [];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-oidc-'));
    const port = await freePort();
    base = `http://127.0.0.1:${String(port)}`;
    idp = await startTestIdp({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [`${base}/sign-in/callback`],
          post_logout_redirect_uris: [`${base}/signed-out`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
          id_token_signed_response_alg: 'ES256',
        },
      ],
      accounts: ACCOUNTS,
      idTokenSeconds: ID_TOKEN_SECONDS,
    });
    Object.assign(process.env, {
      DEV_AUTH: 'false',
      AUTH_JWKS_URL: `${idp.issuer}/jwks`,
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: 'carebridge-api',
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      OIDC_REDIRECT_URI: `${base}/sign-in/callback`,
      OIDC_SCOPES: 'openid profile carebridge nationalrbacaccess selectedrole',
      OIDC_PROVIDER_NAME: 'Test Care Identity',
    });
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    gateway = await startGateway(loadConfig({ PORT: String(port), MLLP_PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'info' }), 'all', pino({ level: 'info' }, logStream));
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
    await idp.close();
    process.env = savedEnv;
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    idp.tamperTokenResponse(undefined);
  });

  const db = (): RunningGateway['store']['engine'] => gateway.store.engine;
  const sessionCount = async (): Promise<number> => Number((await db().query<{ n: string }>('SELECT count(*) AS n FROM viewer_session')).rows[0]?.n);
  const refusals = (): { failure: string; detail: string; requestId: string }[] =>
    logLines.map((l) => JSON.parse(l) as { msg: string; failure: string; detail: string; requestId: string }).filter((l) => l.msg === 'viewer sign-in refused');

  /** From the viewer's sign-in link through the provider, up to its redirect back to the viewer's callback (returned, not followed). */
  async function throughProvider(browser: CookieBrowser, login: string, options: { cancel?: boolean; start?: Awaited<ReturnType<CookieBrowser['request']>> } = {}): Promise<string> {
    const start = options.start ?? (await browser.request(`${base}/sign-in/oidc`));
    return loginAtProvider(browser, start, login, { redirectUri: `${base}/sign-in/callback`, ...(options.cancel ? { cancel: true } : {}) });
  }

  async function signIn(login: string): Promise<CookieBrowser> {
    const browser = new CookieBrowser();
    const callback = await browser.request(await throughProvider(browser, login));
    expect([callback.status, callback.location]).toEqual([303, `${base}/`]);
    return browser;
  }

  test('a GP signs in at the identity provider and reads a record as a GP of her practice, with a session that ends with the ID token', async () => {
    const browser = new CookieBrowser();
    expect((await browser.request(`${base}/`)).location).toBe(`${base}/sign-in`);
    const signInPage = await browser.request(`${base}/sign-in`);
    expect(signInPage.status).toBe(200);
    expect(signInPage.html).toContain('<a class="nhsuk-button" href="/sign-in/oidc" id="sign-in-oidc">Sign in with Test Care Identity</a>');
    // Production-like: no persona picker, and its form is refused.
    expect(signInPage.html).not.toContain('persona-gp');
    const persona = await browser.request(`${base}/sign-in`, { form: { persona: 'gp' } });
    expect(persona.status).toBe(400);
    expect(persona.html).toContain('Development sign-in is off.');

    // The redirect to the provider: the code flow with PKCE S256, state and nonce, and a sign-in cookie binding it to this browser.
    const start = await browser.request(`${base}/sign-in/oidc`);
    expect(start.status).toBe(303);
    const authorize = new URL(start.location ?? '');
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${idp.issuer}/auth`);
    const params = Object.fromEntries(authorize.searchParams);
    expect(params).toEqual({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${base}/sign-in/callback`,
      scope: 'openid profile carebridge nationalrbacaccess selectedrole',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
    });
    expect(start.setCookies).toEqual([expect.stringMatching(/^carebridge-sign-in=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; Expires=.*; HttpOnly; SameSite=Lax$/)]);

    const callback = await browser.request(await throughProvider(browser, 'gp-cis2-0001', { start }));
    expect([callback.status, callback.location]).toEqual([303, `${base}/`]);
    expect(callback.setCookies.find((c) => c.startsWith('carebridge-session='))).toMatch(/; HttpOnly; SameSite=Lax$/);

    const home = await browser.request(`${base}/`);
    expect(home.status).toBe(200);
    expect(home.html).toContain('Dr Ada Testwell (GP, Demo Lane Surgery (fictional))');
    const search = await browser.request(`${base}/search?nhs=${demoNhsNumber(0)}`);
    const patientId = /href="\/record\/([^"]+)"/.exec(search.html)?.[1] ?? '';
    const permission = await browser.request(`${base}/record/${patientId}`);
    expect(permission.html).toContain('<h1>Permission to view</h1>');
    const recorded = await browser.request(`${base}/record/${patientId}/permission-to-view`, { form: { _csrf: csrfOf(permission.html), decision: 'given' } });
    expect([recorded.status, recorded.location]).toEqual([303, `${base}/record/${patientId}`]);
    const record = await browser.request(`${base}/record/${patientId}`);
    expect(record.status).toBe(200);
    expect(record.html).toMatch(/<h1[^>]*>ELLIS, Margaret<\/h1>/);

    // The session: the verified claims, kept to those the directory reads; it ends when the ID token does.
    const rows = await db().query<{ kind: string; user_id: string; token: string; claims: Record<string, unknown>; created_at: Date; expires_at: Date }>(
      "SELECT kind, user_id, token, claims, created_at, expires_at FROM viewer_session WHERE user_id = 'gp-cis2-0001'",
    );
    expect(rows.rows).toHaveLength(1);
    const session = rows.rows[0]!;
    expect([session.kind, session.user_id]).toEqual(['oidc', 'gp-cis2-0001']);
    expect(session.claims).toEqual({ sub: 'gp-cis2-0001', name: 'Dr Ada Testwell', nhsid_nrbac_roles: ACCOUNTS['gp-cis2-0001'].nhsid_nrbac_roles, selected_roleid: '555000000001' });
    const idToken = decodeJwt(session.token);
    expect(idToken.aud).toBe(CLIENT_ID);
    expect(idToken.exp! - idToken.iat!).toBe(ID_TOKEN_SECONDS);
    expect(new Date(session.expires_at).getTime()).toBe(idToken.exp! * 1000);
    // The sign-in in progress was used up.
    expect((await db().query('SELECT 1 FROM viewer_sign_in')).rows).toHaveLength(0);

    // Audited as the person, with role and organisation.
    const trail = await searchTrail(db(), { userId: 'gp-cis2-0001', count: 50 });
    const signIns = trail.events.map((e) => accessReportEntry(e.event)).filter((e) => e.interaction === 'sign-in');
    expect(signIns.map((e) => ({ role: e.role, organisation: e.organisation, decision: e.decision }))).toEqual([{ role: 'gp', organisation: ORG.GP, decision: 'permit' }]);
    expect(signIns[0]?.reasons[0]).toMatch(new RegExp(`^signed in with OpenID Connect \\(${idp.issuer}\\); session until \\d{4}-`));
  });

  test("a social worker's council directory group gives her role and team at the council", async () => {
    const browser = await signIn('sw-council-0001');
    const home = await browser.request(`${base}/`);
    expect(home.html).toContain('Sam Fieldworker (Social worker, Example Borough Council Adult Social Care (fictional))');
  });

  test('cancelling at the identity provider (error=access_denied) shows a page and opens no session', async () => {
    const before = await sessionCount();
    const browser = new CookieBrowser();
    const callbackUrl = await throughProvider(browser, 'gp-cis2-0001', { cancel: true });
    expect(new URL(callbackUrl).searchParams.get('error')).toBe('access_denied');
    const answer = await browser.request(callbackUrl);
    expect(answer.status).toBe(403);
    expect(answer.html).toContain('<h1>You are not signed in</h1>');
    expect(answer.html).toContain('Signing in with Test Care Identity was cancelled or refused.');
    expect(answer.setCookies.some((c) => c.startsWith('carebridge-session='))).toBe(false);
    expect(await sessionCount()).toBe(before);
    expect(refusals().at(-1)).toMatchObject({ failure: 'access-denied', detail: 'access_denied' });
  });

  test("a callback whose state is not this browser's is refused, and the sign-in cannot be finished afterwards", async () => {
    const before = await sessionCount();
    const browser = new CookieBrowser();
    const callbackUrl = new URL(await throughProvider(browser, 'gp-cis2-0001'));
    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', 'A'.repeat(43));
    const answer = await browser.request(forged.href);
    expect(answer.status).toBe(400);
    expect(answer.html).toContain('<h1>Your sign-in could not be completed</h1>');
    expect(refusals().at(-1)).toMatchObject({ failure: 'state-mismatch' });
    // The sign-in in progress is spent: the genuine callback now finds none.
    const genuine = await browser.request(callbackUrl.href);
    expect(genuine.status).toBe(400);
    expect(refusals().at(-1)).toMatchObject({ failure: 'no-sign-in-in-progress' });
    expect(await sessionCount()).toBe(before);
  });

  test('a replayed callback is refused, and so is its code presented with a fresh sign-in (the provider refuses a used code)', async () => {
    const browser = new CookieBrowser();
    const callbackUrl = await throughProvider(browser, 'gp-cis2-0001');
    const signInCookie = browser.cookie(base, 'carebridge-sign-in') ?? '';
    expect((await browser.request(callbackUrl)).status).toBe(303);
    const before = await sessionCount();

    // The same callback again, even with the sign-in cookie kept by whoever copied it.
    const thief = new CookieBrowser();
    thief.setCookie(base, 'carebridge-sign-in', signInCookie);
    const replay = await thief.request(callbackUrl);
    expect(replay.status).toBe(400);
    expect(refusals().at(-1)).toMatchObject({ failure: 'no-sign-in-in-progress', detail: 'unknown, expired or used' });

    // The code with the state of a sign-in of its own: the provider has seen the code before.
    const start = await thief.request(`${base}/sign-in/oidc`);
    const state = new URL(start.location ?? '').searchParams.get('state') ?? '';
    const code = new URL(callbackUrl).searchParams.get('code') ?? '';
    const reused = await thief.request(`${base}/sign-in/callback?${new URLSearchParams({ code, state, iss: idp.issuer }).toString()}`);
    expect(reused.status).toBe(400);
    expect(reused.html).toContain('<h1>Your sign-in could not be completed</h1>');
    expect(refusals().at(-1)).toMatchObject({ failure: 'code-refused', detail: 'token endpoint: invalid_grant' });
    expect(await sessionCount()).toBe(before);
  });

  const resign = (payload: JWTPayload, changes: JWTPayload): Promise<string> =>
    new SignJWT({ ...payload, ...changes }).setProtectedHeader({ alg: 'ES256', kid: idp.signingKey.kid, typ: 'JWT' }).sign(idp.signingKey.privateKey);
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const badIdTokens: [string, string, (real: string, payload: JWTPayload) => Promise<string>][] = [
    ['signed by another key under the provider\'s key id', 'bad-signature', (_real, payload) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: idp.signingKey.kid }).sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)],
    ['unsigned (alg none)', 'algorithm-not-allowed', (_real, payload) => Promise.resolve(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`)],
    ['signed with HS256 and our own client secret', 'algorithm-not-allowed', (_real, payload) => new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: idp.signingKey.kid }).sign(new TextEncoder().encode(CLIENT_SECRET))],
    ['for another client (aud)', 'wrong-audience', (_real, payload) => resign(payload, { aud: 'another-client' })],
    ['from another issuer', 'wrong-issuer', (_real, payload) => resign(payload, { iss: 'https://idp.elsewhere.invalid' })],
    ['with another nonce (a token from another sign-in)', 'nonce-mismatch', (_real, payload) => resign(payload, { nonce: 'n'.repeat(43) })],
    ['expired', 'expired', (_real, payload) => resign(payload, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })],
    ['with an at_hash of another access token', 'at-hash-mismatch', (_real, payload) => resign(payload, { at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' })],
    ['for several audiences without azp', 'several-audiences-without-azp', (_real, payload) => resign(payload, { aud: [CLIENT_ID, 'another-client'] })],
  ];
  test.each(badIdTokens)('an ID token %s is refused with a page, and no session', async (_what, detail, forge) => {
    idp.tamperTokenResponse(async (response: TokenResponse) => {
      const real = String(response['id_token']);
      return { ...response, id_token: await forge(real, decodeJwt(real)) };
    });
    const before = await sessionCount();
    const browser = new CookieBrowser();
    const answer = await browser.request(await throughProvider(browser, 'gp-cis2-0001'));
    expect(answer.status).toBe(502);
    expect(answer.html).toContain('<h1>Sorry, there is a problem with the service</h1>');
    const reference = /<span class="cb-reference">([^<]+)<\/span>/.exec(answer.html)?.[1];
    expect(refusals().at(-1)).toEqual(expect.objectContaining({ failure: 'id-token-invalid', detail, requestId: reference }));
    expect(answer.setCookies.some((c) => c.startsWith('carebridge-session='))).toBe(false);
    expect(await sessionCount()).toBe(before);
  });

  test('an ID token carrying the right at_hash (as providers add in other flows) is accepted', async () => {
    idp.tamperTokenResponse(async (response: TokenResponse) => {
      // OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token (ES256), base64url.
      const atHash = createHash('sha256').update(String(response['access_token'])).digest().subarray(0, 16).toString('base64url');
      return { ...response, id_token: await resign(decodeJwt(String(response['id_token'])), { at_hash: atHash }) };
    });
    const browser = await signIn('gp-cis2-0001');
    expect((await browser.request(`${base}/`)).html).toContain('Dr Ada Testwell (GP, Demo Lane Surgery (fictional))');
  });

  test.each([
    ['a role code the directory maps to nothing', 'student-0001', "role 'R8004' has no CareBridge role in the directory for organisations of kind 'acute-trust'"],
    ['an organisation that is not in the directory', 'elsewhere-0001', "organisation 'https://fhir.nhs.uk/Id/ods-organization-code|ZZZ99' is not in the directory"],
  ])('someone whose claims have %s is refused with a page, audited and logged without their name or id', async (_what, login, reason) => {
    const before = await sessionCount();
    const browser = new CookieBrowser();
    const answer = await browser.request(await throughProvider(browser, login));
    expect(answer.status).toBe(403);
    expect(answer.html).toContain('<h1>You cannot use CareBridge with this account</h1>');
    expect(answer.html).toContain('your role or organisation is not set up to use CareBridge');
    expect(await sessionCount()).toBe(before);
    expect(refusals().at(-1)).toMatchObject({ failure: 'not-in-directory', detail: reason });
    const trail = await searchTrail(db(), { userId: 'unidentified', count: 50 });
    const refused = trail.events.map((e) => accessReportEntry(e.event)).filter((e) => e.interaction === 'sign-in' && e.reasons.includes(`not-in-directory: ${reason}`));
    expect(refused.map((e) => ({ user: e.user, decision: e.decision }))).toEqual([{ user: { id: 'unidentified' }, decision: 'deny' }]);
    const name = ACCOUNTS[login as keyof typeof ACCOUNTS].name;
    expect(logLines.filter((l) => l.includes(login) || l.includes(name))).toEqual([]);
    expect(JSON.stringify(trail.events)).not.toContain(login);
  });

  test('signing out ends the session here and at the identity provider, which sends the browser back to the signed-out page', async () => {
    const browser = await signIn('gp-cis2-0001');
    const sessionId = browser.cookie(base, 'carebridge-session') ?? '';
    const idToken = (await db().query<{ token: string }>("SELECT token FROM viewer_session WHERE user_id = 'gp-cis2-0001' ORDER BY created_at DESC LIMIT 1")).rows[0]?.token;
    const out = await browser.request(`${base}/sign-out`, { form: {} });
    expect(out.status).toBe(303);
    const endSession = new URL(out.location ?? '');
    expect(`${endSession.origin}${endSession.pathname}`).toBe(`${idp.issuer}/session/end`);
    expect(Object.fromEntries(endSession.searchParams)).toEqual({ id_token_hint: idToken, client_id: CLIENT_ID, post_logout_redirect_uri: `${base}/signed-out` });
    expect(out.setCookies).toEqual([expect.stringMatching(/^carebridge-session=; Path=\/; Expires=Thu, 01 Jan 1970/)]);
    const gone = new CookieBrowser();
    gone.setCookie(base, 'carebridge-session', sessionId);
    expect((await gone.request(`${base}/`)).location).toBe(`${base}/sign-in`);

    // At the provider: confirm, and come back to the viewer's signed-out page.
    const confirm = await browser.request(endSession.href);
    const form = formOf(confirm.html, confirm.url);
    const back = await browser.follow(form.action, { form: { ...form.fields, logout: 'yes' } });
    expect(back.final.url).toBe(`${base}/signed-out`);
    expect(back.final.html).toContain('<h1>You have signed out</h1>');
    // The provider's session is over too: signing in again asks for the login.
    const again = await browser.follow(`${base}/sign-in/oidc`);
    expect(again.final.html).toContain('name="login"');
  });
});
