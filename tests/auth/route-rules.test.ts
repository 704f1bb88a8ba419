import type { OperationOutcome } from '@medplum/fhirtypes';
import express, { type Express } from 'express';
import request from 'supertest';
import { createApp } from '../../gateway/app';
import { authenticate, CareRole, IntakeKind, requesterOf, requirePerson, requireRole, requireSystem } from '../../gateway/auth';
import { outcomeErrorHandler } from '../../gateway/api/fhir-router';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { Hl7Intake } from '../../gateway/hl7v2/intake';
import { senderDirectory } from '../../gateway/hl7v2/senders';
import { createLogger } from '../../gateway/logger';
import { Metrics } from '../../gateway/metrics';
import { Store } from '../../gateway/store/store';
import { ORG, testAuthority, type TestAuthority } from '../support/auth';
import { syntheticPatient } from '../support/synthetic';

/**
 * Who may use which route (specs/access-and-consent.md, "What people may write"): people read /fhir
 * and nothing else writes there; source systems only post to the intake they are allowed; the admin
 * API is for the admin role; health, readiness, metrics and the capability statement stay open.
 */

type Who = 'nobody' | 'gp' | 'admin' | 'privacy' | 'student' | 'pas' | 'council-extract';

describe('route rules for people and systems', () => {
  let store: Store;
  let app: Express;
  let authority: TestAuthority;
  const tokens = new Map<Who, string>();

  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    await store.upsert([syntheticPatient(2, { id: 'pat-route-1' })]);
    authority = await testAuthority();
    tokens.set('gp', await authority.person({ user: 'gp-1', role: 'R8000', org: 'Y90001' }));
    tokens.set('admin', await authority.person({ user: 'admin-1', role: 'R8010', org: 'Y90001' }));
    tokens.set('privacy', await authority.person({ user: 'po-1', role: 'R0001', org: 'X9Z' }));
    tokens.set('student', await authority.person({ user: 'student-1', role: 'R8004', org: 'X9Z' }));
    tokens.set('pas', await authority.system('demo-trust-pas'));
    tokens.set('council-extract', await authority.system('demo-council-carefirst'));
    const logger = createLogger('silent');
    // The inbox queue is not under test here: intake writes to the store's inbox and this queue just takes the ids.
    const hl7Intake = new Hl7Intake({ store, queue: { enqueue: () => Promise.resolve(), depth: () => Promise.resolve(0), close: () => Promise.resolve() }, senders: senderDirectory(), logger, check: () => [] });
    app = createApp({ store, logger, metrics: new Metrics(false), auth: authority.authenticator, hl7Intake });
  });
  afterAll(async () => {
    await store.close();
  });

  const HL7 = 'MSH|^~\\&|PAS|RZZ|CAREBRIDGE|CB|20250714102500||ADT^A01|ROUTE-1|P|2.5.1\rPID|1||MRN1^^^RZZ^MR||Testperson^Route\r';

  async function call(who: Who, method: 'GET' | 'POST', path: string): Promise<{ status: number; text?: string }> {
    const agent = request(app);
    let req = method === 'GET' ? agent.get(path) : agent.post(path);
    const token = tokens.get(who);
    if (token) req = req.set('Authorization', `Bearer ${token}`);
    if (method === 'POST' && path === '/hl7v2') req = req.set('Content-Type', 'x-application/hl7-v2+er7').send(HL7);
    else if (method === 'POST') req = req.set('Content-Type', 'application/json').send({ a: 'pat-route-1', b: 'pat-route-1', reason: 'x' });
    const res = await req;
    const outcome = res.headers['content-type']?.includes('json') ? (res.body as Partial<OperationOutcome>) : undefined;
    return { status: res.status, ...(outcome?.resourceType === 'OperationOutcome' ? { text: outcome.issue?.[0]?.details?.text } : {}) };
  }

  const PEOPLE_ONLY = 'This endpoint is for people; system tokens may only use the intake endpoints';
  test.each<[Who, 'GET' | 'POST', string, number, string | undefined]>([
    ['nobody', 'GET', '/healthz', 200, undefined],
    ['nobody', 'GET', '/readyz', 200, undefined],
    ['nobody', 'GET', '/metrics', 200, undefined],
    ['nobody', 'GET', '/fhir/metadata', 200, undefined],
    ['nobody', 'GET', '/fhir/Patient/pat-route-1', 401, 'A bearer token is required'],
    ['nobody', 'POST', '/hl7v2', 401, 'A bearer token is required'],
    ['nobody', 'GET', '/admin/identity/reviews', 401, 'A bearer token is required'],
    ['gp', 'GET', '/fhir/Patient/pat-route-1', 200, undefined],
    ['privacy', 'GET', '/fhir/Patient/pat-route-1', 200, undefined],
    ['student', 'GET', '/fhir/Patient/pat-route-1', 403, "Access refused: role 'R8004' has no CareBridge role in the directory for organisations of kind 'acute-trust'"],
    ['gp', 'POST', '/fhir/Patient', 405, 'POST is not allowed: the shared record is read-only. Source systems write through the intake endpoints.'],
    ['pas', 'GET', '/fhir/Patient/pat-route-1', 403, PEOPLE_ONLY],
    ['pas', 'POST', '/fhir/Patient', 403, PEOPLE_ONLY],
    ['gp', 'POST', '/hl7v2', 403, 'This endpoint is for source systems; people may not write through intake'],
    ['admin', 'POST', '/hl7v2', 403, 'This endpoint is for source systems; people may not write through intake'],
    ['council-extract', 'POST', '/hl7v2', 403, "System 'demo-council-carefirst' may not send hl7v2"],
    ['pas', 'POST', '/hl7v2', 200, undefined],
    ['admin', 'GET', '/hl7v2/status', 200, undefined],
    ['gp', 'GET', '/hl7v2/status', 403, 'This endpoint needs the role admin'],
    ['pas', 'GET', '/hl7v2/status', 403, PEOPLE_ONLY],
    ['admin', 'GET', '/admin/identity/reviews', 200, undefined],
    ['gp', 'GET', '/admin/identity/reviews', 403, 'This endpoint needs the role admin'],
    ['privacy', 'POST', '/admin/identity/link', 403, 'This endpoint needs the role admin'],
    ['pas', 'POST', '/admin/identity/link', 403, PEOPLE_ONLY],
  ])('%s %s %s → %i', async (who, method, path, status, text) => {
    expect(await call(who, method, path)).toEqual({ status, ...(text !== undefined ? { text } : {}) });
  });

  test('the HL7v2 intake answered the allowed system with an ACK and kept the message in the inbox', async () => {
    const rows = await store.engine.query<{ kind: string; source: string }>(`SELECT kind, source FROM inbox`);
    expect(rows.rows.map((r) => [r.kind, r.source])).toEqual([['hl7v2', 'RZZ|PAS']]);
  });

  test("a system sending as another hospital's sender (MSH-4|MSH-3) is rejected with an AR and the message kept as rejected", async () => {
    const spoofed = HL7.replace('|PAS|RZZ|', '|PAS|OTHERTRUST|').replace('ROUTE-1', 'ROUTE-2');
    const res = await request(app).post('/hl7v2').set('Authorization', `Bearer ${tokens.get('pas') ?? ''}`).set('Content-Type', 'x-application/hl7-v2+er7').send(spoofed);
    expect(res.status).toBe(200);
    const segments = res.text.split('\r').map((seg) => seg.split('|'));
    expect(segments.find((seg) => seg[0] === 'MSA')?.slice(1, 3)).toEqual(['AR', 'ROUTE-2']);
    expect(segments.find((seg) => seg[0] === 'ERR')?.[8]).toBe('This system may not send as facility OTHERTRUST application PAS (MSH-4, MSH-3)');
    const rows = await store.engine.query<{ kind: string; source: string }>(`SELECT kind, source FROM inbox ORDER BY kind`);
    expect(rows.rows.map((r) => [r.kind, r.source])).toEqual([['hl7v2', 'RZZ|PAS'], ['hl7v2-rejected', 'OTHERTRUST|PAS']]);
  });
});

describe('the guards on their own', () => {
  let app: Express;
  let authority: TestAuthority;
  beforeAll(async () => {
    authority = await testAuthority();
    const logger = createLogger('silent');
    app = express();
    app.get('/po-or-admin', authenticate(authority.authenticator, logger), requireRole(CareRole.PRIVACY_OFFICER, CareRole.ADMIN), (_req, res) => {
      res.json(requesterOf(res));
    });
    app.get('/person', authenticate(authority.authenticator, logger), requirePerson, (_req, res) => {
      res.json({ role: requesterOf(res).role });
    });
    app.get('/any-system', authenticate(authority.authenticator, logger), requireSystem(), (_req, res) => {
      res.json({ system: requesterOf(res).system });
    });
    app.get('/extract', authenticate(authority.authenticator, logger), requireSystem(IntakeKind.SOCIAL_CARE_EXTRACT), (_req, res) => {
      res.json({ system: requesterOf(res).system });
    });
    app.get('/unguarded', requirePerson, (_req, res) => {
      res.json({});
    });
    app.use(outcomeErrorHandler(logger));
  });

  test('requireRole takes any of its roles and sets the requester from the token', async () => {
    const po = await request(app).get('/po-or-admin').set('Authorization', `Bearer ${await authority.person({ user: 'po-2', name: 'Pat Officer', role: 'privacy_officer', org: ORG.COUNCIL })}`);
    expect([po.status, po.body]).toEqual([200, { userId: 'po-2', displayName: 'Pat Officer', role: 'privacy_officer', organisation: ORG.COUNCIL, teams: [], purposeOfUse: 'TREAT' }]);
    const admin = await request(app).get('/po-or-admin').set('Authorization', `Bearer ${await authority.person({ role: 'admin' })}`);
    expect(admin.status).toBe(200);
    const gp = await request(app).get('/po-or-admin').set('Authorization', `Bearer ${await authority.person({ role: 'gp' })}`);
    expect([gp.status, gp.body.issue[0].details.text]).toEqual([403, 'This endpoint needs the role privacy_officer or admin']);
  });

  test('requireSystem with and without an intake kind', async () => {
    const council = `Bearer ${await authority.system('demo-council-carefirst')}`;
    const pas = `Bearer ${await authority.system('demo-trust-pas')}`;
    expect((await request(app).get('/any-system').set('Authorization', pas)).body).toEqual({ system: 'demo-trust-pas' });
    expect((await request(app).get('/extract').set('Authorization', council)).body).toEqual({ system: 'demo-council-carefirst' });
    const refused = await request(app).get('/extract').set('Authorization', pas);
    expect([refused.status, refused.body.issue[0].details.text]).toEqual([403, "System 'demo-trust-pas' may not send social-care-extract"]);
    expect((await request(app).get('/person').set('Authorization', pas)).status).toBe(403);
  });

  test('a guard without authenticate in front of it refuses (401), it never lets an anonymous caller through', async () => {
    const res = await request(app).get('/unguarded').set('Authorization', `Bearer ${await authority.person()}`);
    expect([res.status, res.headers['www-authenticate']]).toEqual([401, 'Bearer realm="carebridge"']);
  });
});
