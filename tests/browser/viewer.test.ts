import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { MllpClient } from '../../adapters/hl7v2/mllp-client';
import { loadConfig } from '../../gateway/config';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { createLogger } from '../../gateway/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { admissionNow, eventually, patientIdsByNhsNumber } from '../support/viewer-session';

/**
 * The viewer in a real browser (Debian's chromium driven by playwright-core) against the whole
 * gateway with its demo data: sign in as a persona, find a person, record permission to view, read
 * the record; what other roles are shown; a phone-sized screen; the security headers.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const AXE_SOURCE = readFileSync(join(__dirname, '..', '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const SCREENSHOTS = join(__dirname, '..', '..', 'test-artifacts', 'screenshots');
/** WCAG 2.0, 2.1 and 2.2 at levels A and AA. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { target: readonly unknown[] }[];
}

/**
 * Runs axe-core on the page as it is (injected through the DevTools protocol, so the page's CSP,
 * which refuses inline scripts, still holds for the page itself) and saves a screenshot.
 */
async function checkPage(page: Page, name: string): Promise<{ page: string; id: string; impact: string | null; help: string; targets: string[] }[]> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  await page.evaluate(AXE_SOURCE);
  const options = { runOnly: { type: 'tag', values: WCAG_TAGS }, resultTypes: ['violations'] };
  const result = await page.evaluate<{ violations: AxeViolation[]; passed: number }>(`axe.run(document, ${JSON.stringify(options)}).then((r) => ({ violations: r.violations, passed: r.passes.length }))`);
  // axe ran its rules on this page (a check that ran nothing would pass anything).
  expect(result.passed).toBeGreaterThan(5);
  return result.violations.map((v) => ({ page: name, id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')) }));
}

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

  test('a care home nurse sends a resident to hospital: the transfer form, its errors, the signed passport and its PDF; her GP opens it', async () => {
    const found: Awaited<ReturnType<typeof checkPage>> = [];
    const nurse = await signIn('care-home-nurse');
    await openByNhsNumber(nurse, demoNhsNumber(0));
    if ((await nurse.textContent('h1')) === 'Permission to view') {
      await nurse.check('#ptv-given');
      await nurse.click('button:has-text("Continue")');
    }
    expect(await nurse.textContent('h1')).toBe('ELLIS, Margaret');
    await nurse.click('.cb-record-link a:has-text("Red bag")');
    expect(await nurse.textContent('h1')).toBe('Red bag');
    found.push(...(await checkPage(nurse, 'red-bag-empty')));
    await nurse.click('a:has-text("Send to hospital")');
    expect(await nurse.textContent('h1')).toBe('Transfer to hospital');
    found.push(...(await checkPage(nurse, 'transfer-form')));

    // Nothing filled in: the form comes back with a summary linking to each field, and keeps nothing from being issued.
    await nurse.click('button:has-text("Issue the transfer passport")');
    expect(await nurse.title()).toMatch(/^Error: /);
    const summary = await nurse.$$eval('.nhsuk-error-summary__list a', (as) => as.map((a) => [a.textContent.trim(), a.getAttribute('href')]));
    expect(summary).toEqual(expect.arrayContaining([['Reason for transfer is required', '#reason'], expect.arrayContaining([expect.stringMatching(/^Situation/), '#situation'])]));
    found.push(...(await checkPage(nurse, 'transfer-form-errors')));

    await nurse.fill('#reason', 'Fall with suspected hip fracture');
    await nurse.fill('#situation', 'Found on the floor of her room at 02:10, unable to weight-bear, right leg shortened');
    await nurse.fill('#background', 'Dementia, COPD, type 2 diabetes; usually walks with a frame');
    await nurse.fill('#assessment', 'Pain 7 out of 10; alert but more confused than usual');
    await nurse.fill('#recommendation', 'Assessment for hip fracture; her daughter has been told');
    await nurse.fill('#decidedBy', 'Grace Adeyemi, registered nurse, after a call with NHS 111');
    await nurse.fill('#decidedAt', '2026-11-20T02:30');
    await nurse.fill('#observations-takenAt', '2026-11-20T02:20');
    await nurse.fill('#observations-respiratoryRate', '22');
    await nurse.fill('#observations-oxygenSaturation', '94');
    await nurse.fill('#observations-systolicBloodPressure', '104');
    await nurse.fill('#observations-pulse', '112');
    await nurse.fill('#observations-temperature', '37.9');
    await nurse.check('#observations-onOxygen-2');
    await nurse.check('#observations-consciousness-2');
    await nurse.fill('#lastDoses-0-medication', 'Metformin 500mg tablets');
    await nurse.fill('#lastDoses-0-givenAt', '2026-11-19T18:00');
    await nurse.check('#itemsSent');
    await nurse.fill('#aboutMe-communication', 'Hard of hearing in her left ear; speak on her right side');
    await nurse.click('button:has-text("Issue the transfer passport")');

    // The nurse's copy of the signed passport, printable, with the person, the NEWS2 and the QR verification link.
    await nurse.waitForURL((url) => /\/passport\/[^/]+\/1$/.test(url.pathname));
    const passportPath = new URL(nurse.url()).pathname;
    expect(await nurse.textContent('h1')).toBe('Hospital transfer passport');
    const body = await nurse.textContent('body');
    expect(body).toContain('ELLIS, Margaret');
    expect(body).toContain('Fall with suspected hip fracture');
    expect(body).toContain('NEWS2');
    expect(body).toContain('Allergy to penicillin');
    expect(await nurse.$$eval('h2', (hs) => hs.length)).toBeGreaterThanOrEqual(8);
    expect(await nurse.getAttribute('a:has-text("Download PDF")', 'href')).toBe(`${passportPath}/pdf`);
    found.push(...(await checkPage(nurse, 'passport-transfer')));
    const pdf = await nurse.request.get(`${base}${passportPath}/pdf`);
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    expect((await pdf.body()).subarray(0, 5).toString('latin1')).toBe('%PDF-');

    await nurse.click('a:has-text("Back to the red bag")');
    expect(await nurse.textContent('.cb-bag__state')).toBe('Sent with the person: passport issued');
    expect(await nurse.textContent('.cb-passports')).toContain('Transfer passport, version 1');
    found.push(...(await checkPage(nurse, 'red-bag')));
    await nurse.context().close();

    // Her GP: the record links to the red bag; the passport opens (their own copy, audited).
    const gp = await signIn('gp');
    await openByNhsNumber(gp, demoNhsNumber(0));
    if ((await gp.textContent('h1')) === 'Permission to view') {
      await gp.check('#ptv-given');
      await gp.click('button:has-text("Continue")');
    }
    await gp.click('.cb-record-link a:has-text("Red bag passports")');
    await gp.click('.cb-passports a:has-text("View")');
    expect(await gp.textContent('body')).toContain('Fall with suspected hip fracture');
    await gp.context().close();
    const reads = await gateway.store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event WHERE interaction = 'passport-read'`);
    expect(reads.rows[0]?.n).toBeGreaterThanOrEqual(2);

    if (found.length > 0) console.log(`axe found:\n${found.map((v) => `${v.page}: ${v.id} (${v.impact ?? ''}) ${v.help}: ${v.targets.join(', ')}`).join('\n')}`);
    expect(found).toEqual([]);
  }, 120_000);

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
  test('every main page has no WCAG 2.0, 2.1 or 2.2 A or AA violations that axe finds, and each is kept as a screenshot', async () => {
    // Someone registered with the GP's practice is admitted now, so the worklist has an item.
    const nhs = demoNhsNumber(43);
    const mllp = new MllpClient({ host: '127.0.0.1', port: gateway.mllpPort ?? 0, timeoutMs: 10_000 });
    await mllp.connect();
    try {
      await mllp.send(admissionNow({ nhsNumber: nhs, family: 'Axeperson', given: 'Sam', visit: 'AX43' }, new Date()));
    } finally {
      await mllp.close();
    }
    await eventually(async () => {
      const [id] = await patientIdsByNhsNumber(gateway.store.engine, nhs);
      return id !== undefined && (await gateway.store.engine.query('SELECT 1 FROM notify_worklist_item w JOIN notify_event e ON e.outbox_id = w.outbox_id WHERE e.patient_id = $1', [id])).rows.length > 0;
    }, 'the worklist item');

    // The check itself finds what it should: an unlabelled field and an image without text.
    const control = await (await browser.newContext()).newPage();
    await control.setContent('<!doctype html><html lang="en"><head><title>Control</title></head><body><main><h1>Control</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text"></main></body></html>');
    expect((await checkPage(control, 'axe-control')).map((v) => v.id).sort()).toEqual(['image-alt', 'label']);
    await control.context().close();

    const found: Awaited<ReturnType<typeof checkPage>> = [];
    const anonymous = await (await browser.newContext()).newPage();
    await anonymous.goto(`${base}/sign-in`);
    found.push(...(await checkPage(anonymous, 'sign-in')));
    await anonymous.context().close();

    const gp = await signIn('gp');
    found.push(...(await checkPage(gp, 'search')));
    await gp.fill('#nhs', demoNhsNumber(4));
    await gp.click('button:has-text("Search")');
    expect(await gp.textContent('.cb-results')).toMatch(/O'BRIEN, Patrick/i);
    found.push(...(await checkPage(gp, 'search-results')));
    await gp.click('.cb-results a');
    expect(await gp.textContent('h1')).toBe('Permission to view');
    found.push(...(await checkPage(gp, 'permission-to-view')));
    await gp.check('#ptv-given');
    await gp.click('button:has-text("Continue")');
    expect(await gp.textContent('h1')).toMatch(/^O'BRIEN, Patrick$/i);
    found.push(...(await checkPage(gp, 'record')));
    await gp.click('.nhsuk-header__navigation-link:has-text("Worklist")');
    expect(await gp.textContent('#admitted-today')).toContain('AXEPERSON, Sam');
    found.push(...(await checkPage(gp, 'worklist')));
    await gp.click('#admitted-today button:has-text("Acknowledge")');
    expect(await gp.textContent('#admitted-today .cb-worklist__acknowledged')).toContain('Acknowledged by Dr Anna Hughes (you)');
    found.push(...(await checkPage(gp, 'worklist-acknowledged')));
    await gp.context().close();

    const paramedic = await signIn('paramedic');
    await openByNhsNumber(paramedic, demoNhsNumber(3));
    expect(await paramedic.textContent('h1')).toBe('You do not have access to this record');
    found.push(...(await checkPage(paramedic, 'no-access')));
    await paramedic.context().close();

    const officer = await signIn('privacy-officer');
    found.push(...(await checkPage(officer, 'privacy-alerts')));
    await officer.click('.cb-alerts a');
    expect(await officer.textContent('h2')).toContain('Review');
    found.push(...(await checkPage(officer, 'privacy-alert')));
    await officer.click('.nhsuk-header__navigation-link:has-text("Audit trail")');
    await officer.fill('#patient', demoNhsNumber(2));
    await officer.click('button:has-text("Search the trail")');
    expect(await officer.textContent('.cb-trail')).toContain('Lee Carter');
    found.push(...(await checkPage(officer, 'audit-trail')));
    await officer.fill('#report-patient', demoNhsNumber(2));
    await officer.click('button:has-text("Show access report")');
    expect(await officer.textContent('.cb-access-report')).toContain('Found collapsed at home, unresponsive');
    found.push(...(await checkPage(officer, 'access-report')));
    await officer.context().close();

    if (found.length > 0) console.log(`axe found:\n${found.map((v) => `${v.page}: ${v.id} (${v.impact ?? ''}) ${v.help}: ${v.targets.join(', ')}`).join('\n')}`);
    expect(found).toEqual([]);
  }, 180_000);
});
