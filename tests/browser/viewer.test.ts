import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../gateway/config';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { createLogger } from '../../gateway/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';

/**
 * The viewer in a real browser (Debian's chromium driven by playwright-core) against the whole
 * gateway with its demo data: sign in as a persona, find a person, record permission to view, read
 * the record; what other roles are shown; a phone-sized screen; the security headers.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

describe('the viewer in a browser', () => {
  let dir: string;
  let gateway: RunningGateway;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-viewer-'));
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    base = `http://127.0.0.1:${String(gateway.httpPort)}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  }, 120_000);
  afterAll(async () => {
    await browser.close();
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(persona: string, context?: BrowserContext): Promise<Page> {
    const page = await (context ?? (await browser.newContext())).newPage();
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.check(`#persona-${persona}`);
    await page.click('button:has-text("Sign in")');
    await page.waitForURL((url) => url.pathname !== '/sign-in');
    return page;
  }

  async function openByNhsNumber(page: Page, nhs: string): Promise<void> {
    await page.fill('#nhs', `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`);
    await page.click('button:has-text("Search")');
    await page.click('.cb-results a');
  }

  test('a GP finds a care home resident, records permission to view, and sees the record with what matters first', async () => {
    const page = await signIn('gp');
    await openByNhsNumber(page, demoNhsNumber(0));
    expect(await page.textContent('h1')).toBe('Permission to view');
    await page.check('#ptv-given');
    await page.click('button:has-text("Continue")');
    expect(await page.textContent('h1')).toBe('ELLIS, Margaret');
    expect(await page.textContent('.cb-where')).toBe('In a care home: Oakfield House Care Home (fictional)');
    const sections = await page.$$eval('.cb-section h2', (hs) => hs.map((h) => h.textContent));
    expect(sections.slice(0, 3)).toEqual(['Alerts', 'Care co-ordinator and care team', 'Contingency, emergency and advance care plans']);
    expect(await page.textContent('#alerts')).toContain('Falls risk');
    expect(await page.textContent('#care-team')).toContain('Tom Reid');
    expect(await page.textContent('#care-package')).toContain('suspended: Hospital admission');
    expect(await page.textContent('#problems')).toContain('Dementia');
    expect(await page.textContent('#problems')).toContain('From Demo Lane Surgery (fictional)');
    await page.context().close();
  }, 60_000);

  test('a care home nurse sees allergies and medications of a resident but not problems, and is told something was withheld', async () => {
    const page = await signIn('care-home-nurse');
    await openByNhsNumber(page, demoNhsNumber(0));
    await page.check('#ptv-given');
    await page.click('button:has-text("Continue")');
    expect(await page.textContent('#allergies')).toContain('Allergy to penicillin');
    expect(await page.textContent('#medications')).toContain('Donepezil');
    expect(await page.textContent('#problems')).not.toContain('Dementia');
    expect(await page.textContent('.cb-withheld')).toContain('Some information has been withheld');
    expect(await page.textContent('body')).not.toContain('Key safe');
    await page.context().close();
  }, 60_000);

  test('someone with no relationship is offered a claim or emergency access, and break-glass opens the record under a warning', async () => {
    const page = await signIn('paramedic');
    await openByNhsNumber(page, demoNhsNumber(2));
    expect(await page.textContent('h1')).toBe('You do not have access to this record');
    await page.fill('#bg-reason', 'Found collapsed at home, unresponsive');
    await page.click('button:has-text("Use emergency access")');
    expect(await page.textContent('h1')).toBe('OKAFOR, Grace');
    expect(await page.textContent('.nhsuk-warning-callout')).toContain('emergency access');
    await page.context().close();
  }, 60_000);

  test('the privacy officer lands on the open alerts, among them the break-glass just used', async () => {
    const page = await signIn('privacy-officer');
    expect(new URL(page.url()).pathname).toBe('/privacy/alerts');
    expect(await page.textContent('.cb-alerts')).toContain('Found collapsed at home, unresponsive');
    await page.context().close();
  }, 60_000);

  test('on a phone the record fits the screen', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
    const page = await signIn('gp', context);
    await openByNhsNumber(page, demoNhsNumber(1));
    await page.check('#ptv-given');
    await page.click('button:has-text("Continue")');
    expect(await page.textContent('h1')).toBe('PRICE, Harold');
    expect(await page.textContent('.cb-where')).toMatch(/^In hospital on Ward 7 \(Elderly Care\) since/);
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBe(0);
    await context.close();
  }, 60_000);

  test('pages carry a content security policy, are not cached, and the session cookie is HTTP-only; forms from elsewhere are refused', async () => {
    const res = await fetch(`${base}/sign-in`);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    const signIn = await fetch(`${base}/sign-in`, { method: 'POST', redirect: 'manual', headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' }, body: 'persona=gp' });
    expect(signIn.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    const forged = await fetch(`${base}/sign-in`, { method: 'POST', redirect: 'manual', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'persona=gp' });
    expect(forged.status).toBe(403);
  });
});
