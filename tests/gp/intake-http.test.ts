import type { OperationOutcome } from '@medplum/fhirtypes';
import request from 'supertest';
import { createApp } from '../../gateway/app';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { GP_INBOX_KIND, gpInboxHandler } from '../../gateway/gp/apply';
import { processInboxItem } from '../../gateway/ingest/inbox-processor';
import { createLogger } from '../../gateway/logger';
import { Metrics } from '../../gateway/metrics';
import { Store } from '../../gateway/store/store';
import { testAuthority } from '../support/auth';
import { gpFixtureBytes } from './fixtures';
import { gpIntakeFor, RecordingQueue } from './gp-support';

/** POST /intake/gp over real HTTP (supertest) on the embedded store. */
describe('POST /intake/gp', () => {
  let store: Store;
  const queue = new RecordingQueue();
  // Sending systems present a system token whose directory entry allows GP Connect records.
  let gpSystem = '';
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    const authority = await testAuthority();
    gpSystem = `Bearer ${await authority.system('demo-gp-system')}`;
    app = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(), gpIntake: gpIntakeFor(store, queue), auth: authority.authenticator });
  });
  afterAll(async () => {
    await store.close();
  });

  const count = async (sql: string): Promise<number> => (await store.engine.query<{ n: number }>(sql)).rows[0]?.n ?? 0;
  const post = (body: Buffer | string, type = 'application/fhir+json'): request.Test => request(app).post('/intake/gp').set('Authorization', gpSystem).set('content-type', type).send(typeof body === 'string' ? body : body.toString('utf8'));

  test('a structured record is accepted (202, status URL), applied by the worker, and its status says so', async () => {
    const res = await post(gpFixtureBytes('medications-repeat-and-acute'));
    expect(res.status).toBe(202);
    const location = res.get('location') ?? '';
    expect(location).toMatch(/^\/intake\/gp\/status\/\d+$/);
    expect((res.body as OperationOutcome).issue[0]?.details?.coding?.[0]?.code).toBe('pending');
    const pending = await request(app).get(location).set('Authorization', gpSystem);
    expect((pending.body as OperationOutcome).issue[0]?.details?.coding?.[0]?.code).toBe('pending');

    expect(queue.ids.length).toBe(1);
    expect(await processInboxItem(store, queue.ids[0] as string, { [GP_INBOX_KIND]: gpInboxHandler() })).toBe('done');
    const done = await request(app).get(location).set('Authorization', gpSystem);
    expect(done.status).toBe(200);
    const status = (done.body as OperationOutcome).issue[0];
    expect(status?.details?.coding?.[0]?.code).toBe('done');
    // Patient, Organization, Practitioner, PractitionerRole, 1 Medication (two with one code), 2 statements, 4 requests, 1 List.
    expect(status?.details?.text).toBe('Applied: 12 resources changed, 0 ended, 0 left as they were (withheld)');
    expect(await count(`SELECT count(*)::int AS n FROM resource WHERE resource_type = 'MedicationRequest'`)).toBe(4);
  });

  test('the same bundle again is answered with the first one\'s status and not queued twice', async () => {
    const res = await post(gpFixtureBytes('medications-repeat-and-acute'));
    expect(res.status).toBe(200);
    expect((res.body as OperationOutcome).issue[0]?.details?.coding?.[0]?.code).toBe('done');
    expect(queue.ids.length).toBe(1);
  });

  test.each([
    ['malformed-dangling-reference', 422, 'Bundle.entry[4].resource.recorder.reference'],
    ['malformed-wrong-profile', 422, 'Bundle.meta.profile'],
    ['malformed-missing-patient', 422, 'Bundle.entry'],
    ['malformed-r4-resource-in-stu3-bundle', 422, 'Bundle.entry[4].resource.clinicalStatus'],
    ['malformed-not-a-bundle', 400, 'Bundle'],
  ])('%s is refused (%i) with an OperationOutcome naming where, and nothing is written', async (name, status, expression) => {
    const inboxBefore = await count('SELECT count(*)::int AS n FROM inbox');
    const resourcesBefore = await count('SELECT count(*)::int AS n FROM resource');
    const res = await post(gpFixtureBytes(name));
    expect(res.status).toBe(status);
    expect(res.type).toBe('application/fhir+json');
    const outcome = res.body as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]?.severity).toBe('error');
    expect(outcome.issue[0]?.expression).toEqual([expression]);
    expect(await count('SELECT count(*)::int AS n FROM inbox')).toBe(inboxBefore);
    expect(await count('SELECT count(*)::int AS n FROM resource')).toBe(resourcesBefore);
  });

  test('a body that is not JSON is a 400 saying where it broke, without quoting it', async () => {
    const res = await post('{"resourceType": "Bundle", "entry": [ 9990200009');
    expect(res.status).toBe(400);
    const text = (res.body as OperationOutcome).issue[0]?.details?.text ?? '';
    expect(text).toMatch(/^The body is not valid JSON at line 1, column \d+$/);
    expect(text).not.toContain('9990200009');
  });

  test('another content type is refused (415); an unauthenticated system is refused before anything is read (401)', async () => {
    expect((await post('hello', 'text/plain')).status).toBe(415);
    const res = await request(app).post('/intake/gp').set('content-type', 'application/fhir+json').send(gpFixtureBytes('allergies-no-known-allergies').toString('utf8'));
    expect(res.status).toBe(401);
    expect(await count(`SELECT count(*)::int AS n FROM inbox`)).toBe(1);
  });

  test('the status of an unknown id is a 404 OperationOutcome', async () => {
    const res = await request(app).get('/intake/gp/status/999999').set('Authorization', gpSystem);
    expect(res.status).toBe(404);
    expect((res.body as OperationOutcome).issue[0]?.code).toBe('not-found');
  });
});
