import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { Express, RequestHandler } from 'express';
import request from 'supertest';
import { IntakeKind, requireSystem } from '../../gateway/auth';
import { testAuthority, type TestAuthority } from '../support/auth';
import { createApp } from '../../gateway/app';
import { HttpOutcomeError } from '../../gateway/api/errors';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { createLogger } from '../../gateway/logger';
import { Metrics } from '../../gateway/metrics';
import { generateSocialCareExtract } from '../../gateway/social-care/generator';
import { CHUNK_BYTES } from '../../gateway/social-care/uploads';
import { startSocialCareWorker, type SocialCareWorker } from '../../gateway/social-care/worker';
import { Store } from '../../gateway/store/store';
import { zipFolder } from './zip';

/**
 * POST /intake/social-care and GET /intake/imports/{id} over real HTTP (supertest) on a real
 * store: the upload is durable before the 202, the worker imports it, the status endpoint reports
 * it; bad uploads get OperationOutcomes; the system-authentication hook is honoured.
 */
jest.setTimeout(120_000);

let store: Store;
let app: Express;
let worker: SocialCareWorker;
let work: string;
let zip: Buffer;
/** The council's extract system (demo directory: social-care-extract intake). */
let council = '';
let authority: TestAuthority;
const systemsOnly = (): { requireSystem: RequestHandler } => ({ requireSystem: requireSystem(IntakeKind.SOCIAL_CARE_EXTRACT) });

beforeAll(async () => {
  loadFhirDefinitions();
  store = await Store.open({});
  await store.migrate();
  authority = await testAuthority();
  council = `Bearer ${await authority.system('demo-council-carefirst')}`;
  app = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), auth: authority.authenticator, socialCare: systemsOnly() });
  worker = startSocialCareWorker(store, createLogger('silent'), { pollMs: 60_000 });
  work = mkdtempSync(join(tmpdir(), 'cb-social-care-http-'));
  const extract = generateSocialCareExtract({ persons: 20, out: join(work, 'extract'), mess: true, seed: 3 });
  zip = await zipFolder(extract.dir, 'extract-2026-11-20/');
});

afterAll(async () => {
  await worker.close();
  await store.close();
  rmSync(work, { recursive: true, force: true });
});

test('an upload is stored before its 202; the worker imports it; the status endpoint reports it with its report', async () => {
  const res = await request(app).post('/intake/social-care').set('Authorization', council).set('Content-Type', 'application/zip').send(zip);
  expect(res.status).toBe(202);
  const accepted = res.body as { importId: string; status: string; statusUrl: string; sizeBytes: number };
  expect(accepted).toEqual(expect.objectContaining({ status: 'received', sizeBytes: zip.length, statusUrl: `/intake/imports/${accepted.importId}` }));
  expect(res.headers['location']).toBe(`/intake/imports/${accepted.importId}`);
  // Durable before the answer: the row and every byte are in the store already.
  const stored = await store.engine.query<{ status: string; bytes: number }>(
    `SELECT i.status, (SELECT sum(length(data))::int FROM social_care_upload_chunk c WHERE c.import_id = i.id) AS bytes FROM social_care_import i WHERE id = $1::bigint`,
    [accepted.importId],
  );
  expect(stored.rows[0]).toEqual({ status: 'received', bytes: zip.length });
  const before = await request(app).get(accepted.statusUrl).set('Authorization', council);
  expect(before.status).toBe(200);
  expect((before.body as { status: string }).status).toBe('received');

  expect(await worker.runOnce()).toBe(accepted.importId);

  const after = await request(app).get(`${accepted.statusUrl}?_count=5`).set('Authorization', council);
  expect(after.status).toBe(200);
  const status = after.body as { status: string; summary: { tables: Record<string, { accepted: number }> }; report: { total: number; count: number; issues: { file: string; line: number; reason: string }[] } };
  expect(status.status).toBe('done');
  expect(status.summary.tables['persons.csv']?.accepted).toBe(20);
  expect(status.report.count).toBe(5);
  expect(status.report.total).toBeGreaterThan(5);
  for (const issue of status.report.issues) expect(issue).toEqual(expect.objectContaining({ file: expect.stringMatching(/\.csv$/), line: expect.any(Number), reason: expect.any(String) }));
  const patients = await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource WHERE resource_type = 'Patient'`);
  expect(patients.rows[0]?.n).toBe(20);
});

test('a body that is not a zip is refused with an OperationOutcome and nothing is kept', async () => {
  const before = await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM social_care_import');
  const res = await request(app).post('/intake/social-care').set('Authorization', council).set('Content-Type', 'application/zip').send(Buffer.from('PERSON_ID\n1\n'));
  expect(res.status).toBe(400);
  expect((res.body as OperationOutcome).issue[0]?.details?.text).toBe('The body is not a zip file');
  const after = await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM social_care_import');
  expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
});

test('the wrong content type is 415; an unknown import is 404', async () => {
  const res = await request(app).post('/intake/social-care').set('Authorization', council).set('Content-Type', 'text/csv').send('PERSON_ID\n1\n');
  expect(res.status).toBe(415);
  expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
  const missing = await request(app).get('/intake/imports/999999').set('Authorization', council);
  expect(missing.status).toBe(404);
  expect((missing.body as OperationOutcome).issue[0]?.code).toBe('not-found');
});

test('an upload over the limit is 413 and nothing is kept', async () => {
  const small = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), auth: authority.authenticator, socialCare: { ...systemsOnly(), maxUploadBytes: 1000 } });
  const res = await request(small).post('/intake/social-care').set('Authorization', council).set('Content-Type', 'application/zip').send(Buffer.concat([zip, Buffer.alloc(CHUNK_BYTES)]));
  expect(res.status).toBe(413);
  const uploading = await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM social_care_import WHERE status = 'uploading'`);
  expect(uploading.rows[0]?.n).toBe(0);
});

test('the requireSystem hook runs before anything is stored', async () => {
  const deny: RequestHandler = () => {
    throw new HttpOutcomeError(401, 'login', 'System authentication required');
  };
  const guarded = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), auth: authority.authenticator, socialCare: { requireSystem: deny } });
  const before = await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM social_care_import');
  const res = await request(guarded).post('/intake/social-care').set('Authorization', council).set('Content-Type', 'application/zip').send(zip);
  expect(res.status).toBe(401);
  const after = await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM social_care_import');
  expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
});

test('an upload that is a zip but not an extract fails for good, with the reason', async () => {
  const { default: yazl } = await import('yazl');
  const z = new yazl.ZipFile();
  z.addBuffer(Buffer.from('hello'), 'readme.txt');
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream) chunks.push(c as Buffer);
  const res = await request(app).post('/intake/social-care').set('Authorization', council).set('Content-Type', 'application/zip').send(Buffer.concat(chunks));
  expect(res.status).toBe(202);
  const id = (res.body as { importId: string }).importId;
  expect(await worker.runOnce()).toBe(id);
  const status = await request(app).get(`/intake/imports/${id}`).set('Authorization', council);
  expect(status.body).toEqual(expect.objectContaining({ status: 'rejected', lastError: expect.stringContaining('manifest.json is missing') }));
});

test('an upload whose worker died mid-import (lease run out) is taken over and finished by another worker', async () => {
  const res = await request(app).post('/intake/social-care').set('Authorization', council).set('Content-Type', 'application/zip').send(zip);
  expect(res.status).toBe(202);
  const id = (res.body as { importId: string }).importId;
  // As a worker killed part-way leaves it: running, its lease expired, attempts used.
  await store.engine.query(`UPDATE social_care_import SET status = 'running', lease_owner = 'dead-worker', lease_until = now() - interval '1 minute', attempts = 1 WHERE id = $1::bigint`, [id]);
  const other = startSocialCareWorker(store, createLogger('silent'), { pollMs: 60_000 });
  try {
    expect(await other.runOnce()).toBe(id);
  } finally {
    await other.close();
  }
  const status = await request(app).get(`/intake/imports/${id}`).set('Authorization', council);
  expect(status.body).toEqual(expect.objectContaining({ status: 'done', attempts: 2 }));
  // The same extract as the first test's: imported again, nothing changed.
  expect((status.body as { summary: { resources: { changed: number } } }).summary.resources.changed).toBe(0);
});

test('a person, or a system not allowed social care extracts, may not upload (403) and nothing is kept', async () => {
  const before = await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM social_care_import');
  for (const who of [await authority.person({ user: 'sw-1', role: 'social_worker', org: 'https://carebridge.nhs.uk/Id/ons-local-authority-code|E09000004' }), await authority.system('demo-gp-system')]) {
    const res = await request(app).post('/intake/social-care').set('Authorization', `Bearer ${who}`).set('Content-Type', 'application/zip').send(zip);
    expect(res.status).toBe(403);
  }
  const after = await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM social_care_import');
  expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
});
