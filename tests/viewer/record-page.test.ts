import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessReportEntry, searchTrail } from '../../gateway/audit/trail-search';
import { loadConfig } from '../../gateway/config';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { samePersonIds } from '../../gateway/identity/resolver';
import { createLogger } from '../../gateway/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { csrfOf, signInCookie } from '../support/viewer-session';

/**
 * The record page over HTTP, as a browser without scripts uses it, against the whole gateway with
 * its demo data: the GP of the person's practice finds them, records permission to view, and reads
 * the record; the read is audited with every source record of the person.
 */
const HTML = 'text/html,application/xhtml+xml';
const SECTIONS = ['alerts', 'care-team', 'plans', 'problems', 'medications', 'allergies', 'care-package', 'social-care', 'encounters', 'observations', 'documents'];

describe('the record page', () => {
  let dir: string;
  let gateway: RunningGateway;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-viewer-record-'));
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'silent' }), 'api', createLogger('silent'));
    base = `http://127.0.0.1:${String(gateway.httpPort)}`;
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string, cookie: string): Promise<{ status: number; html: string }> => {
    const res = await fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie, accept: HTML } });
    return { status: res.status, html: await res.text() };
  };
  const section = (html: string, id: string): string => {
    const start = html.indexOf(`<section id="${id}"`);
    return start < 0 ? '' : html.slice(start, html.indexOf('</section>', start));
  };

  test('the GP who records permission to view reads every section, each item with its source and when it was updated in UK time, and the read is audited for all the person\'s records', async () => {
    const gp = await signInCookie(base, 'gp');
    const search = await get(`/search?nhs=${demoNhsNumber(0)}`, gp);
    const patientId = /href="\/record\/([A-Za-z0-9\-.]+)"/.exec(search.html)?.[1] ?? '';
    expect(patientId).not.toBe('');
    const asked = await get(`/record/${patientId}`, gp);
    expect(asked.html).toContain('<h1>Permission to view</h1>');
    const given = await fetch(`${base}/record/${patientId}/permission-to-view`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: gp, accept: HTML, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrfOf(asked.html), decision: 'given' }).toString(),
    });
    expect([given.status, given.headers.get('location')]).toEqual([303, `/record/${patientId}`]);

    const record = await get(`/record/${patientId}`, gp);
    expect(record.status).toBe(200);
    expect(record.html).toContain('ELLIS, Margaret');
    expect([...record.html.matchAll(/<section id="([a-z-]+)" class="cb-section">/g)].map((m) => m[1])).toEqual(SECTIONS);
    expect(section(record.html, 'alerts')).toContain('Falls risk');
    expect(section(record.html, 'problems')).toMatch(/Dementia[\s\S]*?From Demo Lane Surgery \(fictional\), updated \d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}, \d{2}:\d{2}</);
    expect(section(record.html, 'care-package')).toContain('suspended: Hospital admission');

    const personIds = await samePersonIds(gateway.store.engine, patientId);
    expect(personIds.length).toBeGreaterThan(1);
    const trail = await searchTrail(gateway.store.engine, { patientIds: personIds, count: 200 });
    const reads = trail.events.map((e) => accessReportEntry(e.event)).filter((e) => e.interaction === 'everything' && e.user.id === 'demo-gp-hughes');
    expect(reads.map((r) => r.decision)).toEqual(['permit']);
    // Every source record of the person was read (their Patient resources are in what was shown).
    expect(reads[0]?.returned).toEqual(expect.arrayContaining(personIds.map((id) => `Patient/${id}`)));
  }, 60_000);

  const openRecord = async (cookie: string, nhsNumber: string): Promise<{ patientId: string; html: string }> => {
    const search = await get(`/search?nhs=${nhsNumber}`, cookie);
    const patientId = /href="\/record\/([A-Za-z0-9\-.]+)"/.exec(search.html)?.[1] ?? '';
    let record = await get(`/record/${patientId}`, cookie);
    if (record.html.includes('<h1>Permission to view</h1>')) {
      await fetch(`${base}/record/${patientId}/permission-to-view`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, accept: HTML, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrfOf(record.html), decision: 'given' }).toString(),
      });
      record = await get(`/record/${patientId}`, cookie);
    }
    return { patientId, html: record.html };
  };
  const recordLinks = (html: string): string[] => [...html.matchAll(/<div class="cb-record-link">[\s\S]*?href="([^"]+)"[\s\S]*?<\/div>/g)].map((m) => m[1] ?? '');

  test('the red bag link is chosen under the record page\'s own decision: the care home nurse of a resident gets it, a GP with no passports to show does not', async () => {
    const nurse = await openRecord(await signInCookie(base, 'care-home-nurse'), demoNhsNumber(0));
    expect(nurse.html).toContain('ELLIS, Margaret');
    expect(recordLinks(nurse.html)).toEqual([`/record/${nurse.patientId}/red-bag`]);
    expect(nurse.html).toContain('Red bag: send to hospital');

    const gp = await openRecord(await signInCookie(base, 'gp'), demoNhsNumber(0));
    expect(gp.html).toContain('ELLIS, Margaret');
    expect(recordLinks(gp.html)).toEqual([]);
  }, 60_000);
});
