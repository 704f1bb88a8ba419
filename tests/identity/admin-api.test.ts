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

const TOKEN = 'test-admin-secret';
const patient = (id: string, source: string, birthDate: string): Patient => ({
  resourceType: 'Patient', id, meta: { source }, identifier: [{ system: NHS_NUMBER_SYSTEM, value: demoNhsNumber(7) }], birthDate, name: [{ family: 'Testperson' }],
});

describe('identity admin API', () => {
  let store: Store;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    app = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), adminToken: TOKEN });
    await ingestResources(store, [patient('h-1', 'hospital', '1940-01-01'), patient('sc-1', 'council', '1941-01-01'), patient('gp-1', 'gp', '1940-01-01')]);
  });
  afterAll(async () => {
    await store.close();
  });
  const auth = { Authorization: `Bearer ${TOKEN}` };

  test('is switched off without ADMIN_TOKEN and refuses a wrong token', async () => {
    const off = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false) });
    const res = await request(off).get('/admin/identity/conflicts');
    expect([res.status, res.body.issue[0].details.text]).toEqual([403, 'The admin API is switched off: set ADMIN_TOKEN to enable it']);
    expect((await request(app).get('/admin/identity/conflicts').set('Authorization', 'Bearer wrong-secret-xx')).status).toBe(401);
    expect((await request(app).get('/admin/identity/conflicts')).status).toBe(401);
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

  test('a link needs a reason and who decided, and joins the records', async () => {
    const missing = await request(app).post('/admin/identity/link').set(auth).send({ a: 'gp-1', b: 'h-1', decidedBy: 'admin-1' });
    expect([missing.status, missing.body.issue[0].expression]).toEqual([400, ['reason']]);
    const badId = await request(app).post('/admin/identity/link').set(auth).send({ a: '../x', b: 'h-1', reason: 'checked', decidedBy: 'admin-1' });
    expect(badId.status).toBe(400);
    const res = await request(app).post('/admin/identity/link').set(auth).send({ a: 'gp-1', b: 'h-1', reason: 'Checked against the GP record', decidedBy: 'admin-1' });
    expect([res.status, res.body.person.members]).toEqual([200, ['gp-1', 'h-1']]);
    // The shared record now works on the person: $everything on either source record returns both.
    const everything = await request(app).get('/fhir/Patient/h-1/$everything');
    const entries = everything.body.entry as { resource: Resource }[];
    const patients = entries.map((e) => e.resource).filter((r): r is Patient => r.resourceType === 'Patient');
    expect(patients.map((p) => `${p.id ?? ''}@${p.meta?.source ?? ''}`).sort()).toEqual(['gp-1@gp', 'h-1@hospital', `${goldenId(res.body.person.key as string)}@carebridge-person`].sort());
  });

  test('a merge across sources is refused with 409', async () => {
    const res = await request(app).post('/admin/identity/merge').set(auth).send({ mergedId: 'sc-1', survivorId: 'h-1', reason: 'duplicate', decidedBy: 'admin-1' });
    expect([res.status, res.body.issue[0].details.text]).toEqual([409, 'A source can only merge its own records: these two come from different sources']);
  });
});
