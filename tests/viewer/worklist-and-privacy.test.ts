import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MllpClient } from '../../adapters/hl7v2/mllp-client';
import { DEFAULT_AUDIENCE } from '../../gateway/auth';
import { devAuthDir, loadOrCreateDevKeyPair, mintToken } from '../../gateway/auth/dev-keys';
import { accessReportEntry, searchTrail } from '../../gateway/audit/trail-search';
import { loadConfig } from '../../gateway/config';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { createLogger } from '../../gateway/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { admissionNow, csrfOf, eventually, patientIdsByNhsNumber, signInCookie } from '../support/viewer-session';

/**
 * The viewer's worklist and privacy officer pages against the whole gateway (demo data, the
 * hospital feed over MLLP, the notification dispatcher, the audit trail), over HTTP as a browser
 * without scripts would use them: sign in as a persona, read the page, post its forms.
 */
const HTML = 'text/html,application/xhtml+xml';

describe('worklist and privacy officer pages', () => {
  let dir: string;
  let gateway: RunningGateway;
  let base: string;
  let mllp: MllpClient;
  let colleagueToken: string;
  const people = [
    { nhsNumber: demoNhsNumber(41), family: 'Testperson', given: 'Robin', visit: 'W41' },
    { nhsNumber: demoNhsNumber(42), family: 'Sampleton', given: 'Jude', visit: 'W42' },
  ];
  const patientIds: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-viewer-pages-'));
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    base = `http://127.0.0.1:${String(gateway.httpPort)}`;
    mllp = new MllpClient({ host: '127.0.0.1', port: gateway.mllpPort ?? 0, timeoutMs: 10_000 });
    await mllp.connect();
    for (const person of people) await mllp.send(admissionNow(person, new Date()));
    const db = gateway.store.engine;
    for (const person of people) {
      await eventually(async () => (await patientIdsByNhsNumber(db, person.nhsNumber)).length === 1, 'the admission applied');
      patientIds.push((await patientIdsByNhsNumber(db, person.nhsNumber))[0] ?? '');
    }
    await eventually(async () => {
      const items = await db.query(`SELECT 1 FROM notify_worklist_item w JOIN notify_event e ON e.outbox_id = w.outbox_id WHERE e.patient_id = ANY($1::text[]) AND e.topic = 'admission'`, [patientIds]);
      return items.rows.length >= 2;
    }, 'the worklist items written');
    const keys = await loadOrCreateDevKeyPair(devAuthDir(dir));
    colleagueToken = `Bearer ${await mintToken(keys, { sub: 'demo-gp-colleague', name: 'Dr Sam Patel', role: 'gp', org: 'Y90001' }, { audience: DEFAULT_AUDIENCE, expiresInSeconds: 600 })}`;
  }, 120_000);
  afterAll(async () => {
    await mllp.close();
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string, cookie: string): Promise<{ status: number; html: string; location: string | null }> => {
    const res = await fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie, accept: HTML } });
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  };
  const post = async (path: string, cookie: string, form: Record<string, string>): Promise<{ status: number; html: string; location: string | null }> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, accept: HTML, origin: base, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  };
  /** The HTML of one section of the worklist page. */
  const section = (html: string, id: string): string => {
    const start = html.indexOf(`<section id="${id}"`);
    return start < 0 ? '' : html.slice(start, html.indexOf('</section>', start));
  };
  const itemOf = (html: string, patientId: string): { id: string; html: string } => {
    const link = html.indexOf(`href="/record/${patientId}"`);
    const start = html.lastIndexOf('<li class="cb-worklist__item', link);
    const chunk = html.slice(start, html.indexOf('</li>', link));
    return { id: /id="item-(\d+)"/.exec(chunk)?.[1] ?? '', html: chunk };
  };
  const acknowledgeEntries = async (patientId: string): Promise<{ user: string; reasons: readonly string[] }[]> => {
    const page = await searchTrail(gateway.store.engine, { patientIds: [patientId], count: 200 });
    return page.events.map((e) => accessReportEntry(e.event)).filter((e) => e.interaction === 'worklist-acknowledge').map((e) => ({ user: e.user.id, reasons: e.reasons }));
  };

  test('the GP\'s practice sees the people admitted today, each with what happened, where and when, and a link to the record', async () => {
    const gp = await signInCookie(base, 'gp');
    const page = await get('/worklist', gp);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/class="nhsuk-header__navigation-link" href="\/worklist">Worklist<\/a>/);
    const admitted = section(page.html, 'admitted-today');
    const first = itemOf(admitted, patientIds[0] ?? '');
    expect(first.html).toContain('TESTPERSON, Robin');
    expect(first.html).toMatch(/<dd class="nhsuk-summary-list__value cb-worklist__what">Admitted<\/dd>/);
    expect(first.html).toContain('<dd class="nhsuk-summary-list__value cb-worklist__where">RZZ, WARD7</dd>');
    expect(first.html).toMatch(/cb-worklist__when">\d{1,2} \w+ \d{4}, \d{2}:\d{2}<\/dd>/);
    expect(first.html).toContain(`action="/worklist/items/${first.id}/acknowledge"`);
    expect(itemOf(admitted, patientIds[1] ?? '').html).toContain('SAMPLETON, Jude');
    // The other two groups have nothing of theirs.
    expect(section(page.html, 'discharges-expected')).toContain('No discharges are expected in the next 7 days.');
    expect(section(page.html, 'discharged-not-followed-up')).toContain('Everyone discharged in the last 30 days has been followed up.');
  });

  test('acknowledging an item records who and when, shows it on the worklist and writes an audit entry; the API\'s acknowledgement is audited too', async () => {
    const gp = await signInCookie(base, 'gp');
    const before = await get('/worklist', gp);
    const item = itemOf(section(before.html, 'admitted-today'), patientIds[0] ?? '');
    const forged = await post(`/worklist/items/${item.id}/acknowledge`, gp, { _csrf: 'not-the-token' });
    expect(forged.status).toBe(403);
    const done = await post(`/worklist/items/${item.id}/acknowledge`, gp, { _csrf: csrfOf(before.html) });
    expect([done.status, done.location]).toEqual([303, `/worklist#item-${item.id}`]);
    const after = itemOf(section((await get('/worklist', gp)).html, 'admitted-today'), patientIds[0] ?? '');
    expect(after.html).toMatch(/Acknowledged<\/strong> by Dr Anna Hughes \(you\), \d{1,2} \w+ \d{4}, \d{2}:\d{2}/);
    expect(after.html).not.toContain('/acknowledge"');
    const row = await gateway.store.engine.query<{ acknowledged_by: string; acknowledged_at: Date | null }>('SELECT acknowledged_by, acknowledged_at FROM notify_worklist_item WHERE id = $1::bigint', [item.id]);
    expect(row.rows[0]?.acknowledged_by).toBe('demo-gp-hughes');
    expect(row.rows[0]?.acknowledged_at).not.toBeNull();
    const viewerEntries = await acknowledgeEntries(patientIds[0] ?? '');
    expect(viewerEntries).toEqual([{ user: 'demo-gp-hughes', reasons: [expect.stringMatching(/^worklist item for https:\/\/fhir\.nhs\.uk\/Id\/ods-organization-code\|Y90001 acknowledged at \d{4}-/)] }]);

    // The JSON API, with a bearer token, acknowledges the other item and is audited the same way.
    const other = itemOf(section(before.html, 'admitted-today'), patientIds[1] ?? '');
    // A colleague at the practice acknowledges it; the GP's worklist names her colleague, not his user id.
    const api = await fetch(`${base}/worklist/items/${other.id}/acknowledge`, { method: 'POST', headers: { authorization: colleagueToken, accept: 'application/json' } });
    expect(api.status).toBe(200);
    expect(((await api.json()) as { acknowledged: { by: string; name: string } }).acknowledged).toMatchObject({ by: 'demo-gp-colleague', name: 'Dr Sam Patel' });
    expect((await acknowledgeEntries(patientIds[1] ?? '')).map((e) => e.user)).toEqual(['demo-gp-colleague']);
    const byColleague = itemOf(section((await get('/worklist', gp)).html, 'admitted-today'), patientIds[1] ?? '');
    expect(byColleague.html).toMatch(/Acknowledged<\/strong> by Dr Sam Patel, \d{1,2} \w+ \d{4}, \d{2}:\d{2}/);
    expect(byColleague.html).not.toContain('demo-gp-colleague');
    // An API client without a token is still answered by the API, not the viewer.
    const anonymous = await fetch(`${base}/worklist?view=admitted-today&org=Y90001`, { headers: { accept: 'application/json' } });
    expect(anonymous.status).toBe(401);
  });

  test('someone from another organisation cannot acknowledge the practice\'s item, and a volunteer has no worklist', async () => {
    const gp = await signInCookie(base, 'gp');
    const item = itemOf(section((await get('/worklist', gp)).html, 'admitted-today'), patientIds[1] ?? '');
    const nurse = await signInCookie(base, 'district-nurse');
    const nursePage = await get('/worklist', nurse);
    expect(nursePage.status).toBe(200);
    expect(nursePage.html).not.toContain(`/record/${patientIds[1] ?? ''}`);
    // The nurse's CSRF token from a page with a form (the access page of a record she has no relationship with).
    const nurseForm = await get(`/record/${patientIds[1] ?? ''}`, nurse);
    const refused = await post(`/worklist/items/${item.id}/acknowledge`, nurse, { _csrf: csrfOf(nurseForm.html) });
    expect(refused.status).toBe(404);
    const volunteer = await signInCookie(base, 'volunteer-broker');
    const page = await get('/worklist', volunteer);
    expect(page.status).toBe(403);
    expect(page.html).not.toContain('href="/worklist"');
  });

  test('a ward nurse or a volunteer cannot open the privacy officer\'s pages', async () => {
    for (const persona of ['ward-nurse', 'volunteer-broker']) {
      const cookie = await signInCookie(base, persona);
      for (const path of ['/privacy/alerts', '/privacy/audit', `/privacy/patients/${patientIds[0] ?? ''}/access-report`, '/privacy/access-report?patient=x', '/privacy/alerts/00000000-0000-4000-8000-000000000000']) {
        const page = await get(path, cookie);
        expect([persona, path, page.status]).toEqual([persona, path, 403]);
        expect(page.html).not.toContain('cb-trail');
      }
      const review = await post('/privacy/alerts/00000000-0000-4000-8000-000000000000/review', cookie, { _csrf: 'x', outcome: 'appropriate' });
      expect(review.status).toBe(403);
    }
  });

  test('the access report lists a break-glass look made earlier with its user and reason; the trail search finds it; the alert is reviewed with a note', async () => {
    // The paramedic has no relationship with Grace Okafor and uses emergency access.
    const paramedic = await signInCookie(base, 'paramedic');
    const nhs = demoNhsNumber(2);
    const [graceId] = await patientIdsByNhsNumber(gateway.store.engine, nhs);
    const denied = await get(`/record/${graceId ?? ''}`, paramedic);
    expect(denied.status).toBe(403);
    const glass = await post(`/record/${graceId ?? ''}/break-glass`, paramedic, { _csrf: csrfOf(denied.html), reason: 'Pages test: found unresponsive at home' });
    expect(glass.status).toBe(303);
    expect((await get(`/record/${graceId ?? ''}`, paramedic)).status).toBe(200);

    const officer = await signInCookie(base, 'privacy-officer');
    const lookup = await get(`/privacy/access-report?patient=${nhs}`, officer);
    expect(lookup.status).toBe(303);
    const report = await get(lookup.location ?? '', officer);
    expect(report.status).toBe(200);
    const rows = report.html.split('<tr class="nhsuk-table__row">').slice(2);
    const breakGlass = rows.find((r) => r.includes('Emergency access (permit)'));
    expect(breakGlass).toContain('Lee Carter<br><span class="nhsuk-body-s">demo-para-carter</span>');
    expect(breakGlass).toContain('Pages test: found unresponsive at home');
    expect(breakGlass).toContain('urgent_care');
    const wholeRecord = rows.find((r) => r.includes('Whole record (permit)'));
    expect(wholeRecord).toContain('demo-para-carter');

    const trail = await get(`/privacy/audit?patient=${nhs}&user=demo-para-carter`, officer);
    expect(trail.status).toBe(200);
    const trailRows = trail.html.split('<tr class="nhsuk-table__row">').slice(2);
    // Newest first: the record he then read whole, and the emergency access before it; who, role, organisation, purpose, counts.
    const cells = trailRows.map((r) => [...r.matchAll(/<td class="nhsuk-table__cell">([^<]*)/g)].map((m) => m[1]));
    // Both for the emergency: the purpose of use is break-glass (BTG), not the token's direct care.
    expect(cells.map((c) => [c[1], c[2], c[3], c[4], c[5], c[6]])).toEqual([
      ['Lee Carter', 'urgent_care', 'Demo Ambulance Service NHS Trust (fictional)', 'Emergency (break-glass)', 'Whole record', 'permit'],
      ['Lee Carter', 'urgent_care', 'Demo Ambulance Service NHS Trust (fictional)', 'Emergency (break-glass)', 'Emergency access', 'permit'],
    ]);
    expect(Number(cells[0]?.[7])).toBeGreaterThan(0);
    expect(trail.html).not.toContain('Hypertension');
    const badDate = await get('/privacy/audit?from=yesterday', officer);
    expect(badDate.status).toBe(400);
    expect(badDate.html).toContain('Enter the first day as a date');

    // The alert the break-glass raised: opened from the list, reviewed once, with the note a finding needs.
    const alerts = await get('/privacy/alerts', officer);
    const alertId = new RegExp(`href="/privacy/alerts/([0-9a-f-]{36})">Review<span class="nhsuk-u-visually-hidden"> the break-glass alert`).exec(alerts.html)?.[1] ?? '';
    const alertPage = await get(`/privacy/alerts/${alertId}`, officer);
    expect(alertPage.html).toContain('Pages test: found unresponsive at home');
    const noNote = await post(`/privacy/alerts/${alertId}/review`, officer, { _csrf: csrfOf(alertPage.html), outcome: 'inappropriate-advised', note: '' });
    expect(noNote.status).toBe(400);
    expect(noNote.html).toContain('a finding of inappropriate access needs one');
    const reviewed = await post(`/privacy/alerts/${alertId}/review`, officer, { _csrf: csrfOf(alertPage.html), outcome: 'inappropriate-advised', note: 'No emergency on record; user advised.' });
    expect([reviewed.status, reviewed.location]).toEqual([303, `/privacy/alerts/${alertId}`]);
    const shown = await get(`/privacy/alerts/${alertId}`, officer);
    expect(shown.html).toContain('<dd class="nhsuk-summary-list__value cb-review__outcome">Inappropriate: the user has been advised</dd>');
    expect(shown.html).toContain('<dd class="nhsuk-summary-list__value cb-review__note">No emergency on record; user advised.</dd>');
    expect(shown.html).toMatch(/cb-review__by">Chris Morgan, \d{1,2} \w+ \d{4}/);
    expect(shown.html).not.toContain('action="/privacy/alerts/');
    const again = await post(`/privacy/alerts/${alertId}/review`, officer, { _csrf: csrfOf(alertPage.html), outcome: 'appropriate' });
    expect(again.status).toBe(409);
    const reviews = await searchTrail(gateway.store.engine, { userId: 'demo-po-morgan', count: 200 });
    expect(reviews.events.map((e) => accessReportEntry(e.event)).filter((e) => e.interaction === 'alert-review').map((e) => e.reasons)).toEqual([[`alert ${alertId} (break-glass) reviewed: inappropriate-advised`]]);
  });
});
