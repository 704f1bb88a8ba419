import type { Patient, Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { createApp } from '../../gateway/app';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { goldenId } from '../../gateway/identity/golden';
import { ingestResources } from '../../gateway/ingest/ingest';
import { createLogger } from '../../gateway/logger';
import { Metrics } from '../../gateway/metrics';
import { Store } from '../../gateway/store/store';
import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';
import { bearer, testAuthority, type TestAuthority } from '../support/auth';

const patient = (id: string, source: string, birthDate: string): Patient => ({
  resourceType: 'Patient', id, meta: { source }, identifier: [{ system: NHS_NUMBER_SYSTEM, value: demoNhsNumber(7) }], birthDate, name: [{ family: 'Testperson' }],
});

describe('identity admin API', () => {
  let store: Store;
  let app: ReturnType<typeof createApp>;
  let authority: TestAuthority;
  let auth: { Authorization: string };
  let reader: { Authorization: string };
  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    authority = await testAuthority();
    auth = bearer(await authority.person({ user: 'admin-1', role: 'admin' }));
    reader = bearer(await authority.person({ user: 'gp-reader', role: 'gp' }));
    app = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), auth: authority.authenticator });
    await ingestResources(store, [patient('h-1', 'hospital', '1940-01-01'), patient('sc-1', 'council', '1941-01-01'), patient('gp-1', 'gp', '1940-01-01')]);
  });
  afterAll(async () => {
    await store.close();
  });

  test('needs a verified token with the admin role: none or a wrong one is 401, another role or a system is 403', async () => {
    expect((await request(app).get('/admin/identity/conflicts')).status).toBe(401);
    const wrong = await request(app).get('/admin/identity/conflicts').set('Authorization', 'Bearer wrong-secret-xx');
    expect([wrong.status, wrong.headers['www-authenticate']]).toEqual([401, 'Bearer realm="carebridge", error="invalid_token"']);
    const gp = await request(app).get('/admin/identity/conflicts').set(reader);
    expect([gp.status, gp.body.issue[0].details.text]).toEqual([403, 'This endpoint needs the role admin']);
    const system = await request(app).post('/admin/identity/link').set(bearer(await authority.system('demo-trust-pas'))).send({ a: 'gp-1', b: 'h-1', reason: 'x' });
    expect(system.status).toBe(403);
  });

  test('lists conflicts with both sides', async () => {
    const res = await request(app).get('/admin/identity/conflicts').set(auth);
    expect(res.status).toBe(200);
    expect(res.body.map((r: { a: { patientId: string; birthDate: string }; b: { patientId: string; birthDate: string } }) => [r.a.patientId, r.a.birthDate, r.b.patientId, r.b.birthDate])).toEqual([
      ['gp-1', '1940-01-01', 'sc-1', '1941-01-01'],
      ['h-1', '1940-01-01', 'sc-1', '1941-01-01'],
    ]);
    expect((await request(app).get('/admin/identity/reviews?kind=possible-match').set(auth)).body.map((r: { a: { patientId: string } }) => r.a.patientId)).toEqual(['gp-1']);
    expect((await request(app).get('/admin/identity/reviews?kind=nonsense').set(auth)).status).toBe(400);
  });

  test('a link needs a reason, records the user of the token as who decided, and joins the records', async () => {
    const missing = await request(app).post('/admin/identity/link').set(auth).send({ a: 'gp-1', b: 'h-1', decidedBy: 'admin-1' });
    expect([missing.status, missing.body.issue[0].expression]).toEqual([400, ['reason']]);
    const badId = await request(app).post('/admin/identity/link').set(auth).send({ a: '../x', b: 'h-1', reason: 'checked', decidedBy: 'admin-1' });
    expect(badId.status).toBe(400);
    // decidedBy in the body is ignored: who decided is the authenticated admin.
    const res = await request(app).post('/admin/identity/link').set(auth).send({ a: 'gp-1', b: 'h-1', reason: 'Checked against the GP record', decidedBy: 'someone-else' });
    expect([res.status, res.body.person.members]).toEqual([200, ['gp-1', 'h-1']]);
    const decisions = await store.engine.query<{ decided_by: string }>(`SELECT decided_by FROM identity_decision WHERE a = 'gp-1' AND b = 'h-1'`);
    expect(decisions.rows.map((r) => r.decided_by)).toEqual(['admin-1']);
    // The shared record now works on the person: $everything on either source record returns both.
    const everything = await request(app).get('/fhir/Patient/h-1/$everything').set(reader);
    const entries = everything.body.entry as { resource: Resource }[];
    const patients = entries.map((e) => e.resource).filter((r): r is Patient => r.resourceType === 'Patient');
    expect(patients.map((p) => `${p.id ?? ''}@${p.meta?.source ?? ''}`).sort()).toEqual(['gp-1@gp', 'h-1@hospital', `${goldenId(res.body.person.key as string)}@carebridge-person`].sort());
  });

  test('a merge across sources is refused with 409', async () => {
    const res = await request(app).post('/admin/identity/merge').set(auth).send({ mergedId: 'sc-1', survivorId: 'h-1', reason: 'duplicate', decidedBy: 'admin-1' });
    expect([res.status, res.body.issue[0].details.text]).toEqual([409, 'A source can only merge its own records: these two come from different sources']);
  });
});
