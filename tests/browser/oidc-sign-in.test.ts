import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../gateway/config';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { createLogger } from '../../gateway/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { freePort, startTestIdp, type TestIdp } from '../support/oidc-idp';

/**
 * OpenID Connect sign-in in a real browser (Debian's chromium, playwright-core): from the
 * viewer's sign-in page to the identity provider's login (oidc-provider on loopback), back to a
 * record, and signing out through the provider's sign-out page, with the viewer's CSP in force
 * (its form-action must let the sign-out form's redirect reach the provider). The new pages have
 * no WCAG A or AA violation axe finds.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const AXE_SOURCE = readFileSync(join(__dirname, '..', '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const options = { runOnly: { type: 'tag', values: WCAG_TAGS }, resultTypes: ['violations'] };
  const result = await page.evaluate<{ violations: { id: string }[]; passed: number }>(`axe.run(document, ${JSON.stringify(options)}).then((r) => ({ violations: r.violations, passed: r.passes.length }))`);
  expect(result.passed).toBeGreaterThan(5);
  return result.violations.map((v) => v.id);
}

describe('OpenID Connect sign-in in a browser', () => {
  let dir: string;
  let idp: TestIdp;
  let gateway: RunningGateway;
  let browser: Browser;
  let base: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-oidc-browser-'));
    const port = await freePort();
    base = `http://127.0.0.1:${String(port)}`;
    idp = await startTestIdp({
      clients: [
        {
          client_id: 'carebridge-viewer',
          client_secret: 'viewer-secret-for-the-test-provider-0123456789',
          redirect_uris: [`${base}/sign-in/callback`],
          post_logout_redirect_uris: [`${base}/signed-out`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          id_token_signed_response_alg: 'ES256',
        },
      ],
      accounts: {
        'gp-cis2-0002': { name: 'Dr Bea Browserly', nhsid_nrbac_roles: [{ person_roleid: '555000000002', org_code: 'Y90001', role_code: 'S8000:G8000:R8000' }], selected_roleid: '555000000002' },
        'student-0002': { name: 'Robin Trainee', role: 'R8004', org: 'X9Z' },
      },
    });
    Object.assign(process.env, {
      DEV_AUTH: 'false',
      AUTH_JWKS_URL: `${idp.issuer}/jwks`,
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: 'carebridge-api',
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: 'carebridge-viewer',
      OIDC_CLIENT_SECRET: 'viewer-secret-for-the-test-provider-0123456789',
      OIDC_REDIRECT_URI: `${base}/sign-in/callback`,
      OIDC_SCOPES: 'openid profile carebridge nationalrbacaccess selectedrole',
      OIDC_PROVIDER_NAME: 'Test Care Identity',
    });
    gateway = await startGateway(loadConfig({ PORT: String(port), MLLP_PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  }, 120_000);
  afterAll(async () => {
    await browser.close();
    await gateway.close();
    await idp.close();
    process.env = savedEnv;
    rmSync(dir, { recursive: true, force: true });
  });

  /** At the provider's development login and consent pages, as the person would. */
  async function logInAtProvider(page: Page, login: string): Promise<void> {
    await page.waitForURL((url) => url.origin === idp.issuer);
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'not checked by the test provider');
    await page.click('button:has-text("Sign-in")');
    await page.click('button:has-text("Continue")');
  }

  test('a GP signs in at the identity provider, reads a record, and signs out there too', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await page.$('#persona-gp')).toBeNull();
    expect(await axeViolations(page)).toEqual([]);
    await page.click('a:has-text("Sign in with Test Care Identity")');
    await logInAtProvider(page, 'gp-cis2-0002');
    await page.waitForURL(`${base}/`);
    expect(await page.textContent('.nhsuk-header__account')).toContain('Dr Bea Browserly (GP, Demo Lane Surgery (fictional))');

    await page.fill('#nhs', demoNhsNumber(0));
    await page.click('button:has-text("Search")');
    await page.click('.cb-results a');
    expect(await page.textContent('h1')).toBe('Permission to view');
    await page.check('#ptv-given');
    await page.click('button:has-text("Continue")');
    expect(await page.textContent('h1')).toBe('ELLIS, Margaret');

    await page.click('button:has-text("Sign out")');
    await page.waitForURL((url) => url.origin === idp.issuer);
    await page.click('button:has-text("Yes, sign me out")');
    await page.waitForURL(`${base}/signed-out`);
    expect(await page.textContent('h1')).toBe('You have signed out');
    expect(await axeViolations(page)).toEqual([]);
    // Signed out here: the record is not shown again.
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await context.close();
  }, 90_000);

  test('someone whose role the directory does not know is told so on an accessible page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/sign-in`);
    await page.click('a:has-text("Sign in with Test Care Identity")');
    await logInAtProvider(page, 'student-0002');
    await page.waitForURL((url) => url.origin === base && url.pathname === '/sign-in/callback');
    expect(await page.textContent('h1')).toBe('You cannot use CareBridge with this account');
    expect(await page.textContent('.cb-reference')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  }, 90_000);
});
