import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import request from 'supertest';
import { DEFAULT_AUDIENCE } from '../../gateway/auth';
import { devAuthDir, loadOrCreateDevKeyPair, mintToken } from '../../gateway/auth/dev-keys';
import { loadConfig } from '../../gateway/config';
import { createLogger } from '../../gateway/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { gpFixtureBytes } from './fixtures';

/** The whole gateway: POST /intake/gp → inbox → in-process worker → FHIR API. */
describe('GP records through the running gateway', () => {
  let dir: string;
  let gateway: RunningGateway;
  let baseUrl: string;
  let gpSystem: string;
  let clinician: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-gp-'));
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, DEMO_DATA: 'false', LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    baseUrl = `http://127.0.0.1:${String(gateway.httpPort)}`;
    // Development tokens from the key the gateway created in DATA_DIR, as `carebridge token` mints them.
    const keys = await loadOrCreateDevKeyPair(devAuthDir(dir));
    const mint = async (claims: Record<string, unknown>): Promise<string> => `Bearer ${await mintToken(keys, claims, { audience: DEFAULT_AUDIENCE, expiresInSeconds: 600 })}`;
    gpSystem = await mint({ sub: 'system:demo-gp-system', system: 'demo-gp-system' });
    clinician = await mint({ sub: 'ed-doctor-1', role: 'hospital_clinician', org: 'X9Z' });
  });
  afterAll(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a posted record is applied by the worker and served by the FHIR API, labels and all', async () => {
    const posted = await request(baseUrl).post('/intake/gp').set('Authorization', gpSystem).set('content-type', 'application/fhir+json').send(gpFixtureBytes('uncategorised-with-sensitive-codes').toString('utf8'));
    expect(posted.status).toBe(202);
    const location = posted.get('location') ?? '';
    const until = Date.now() + 20_000;
    let state = 'pending';
    while (state === 'pending') {
      if (Date.now() > until) throw new Error('the record was not applied in time');
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = ((await request(baseUrl).get(location).set('Authorization', gpSystem)).body as OperationOutcome).issue[0]?.details?.coding?.[0]?.code ?? '';
    }
    expect(state).toBe('done');
    // A hospital clinician with no relationship finds the person, then opens the record by break-glass.
    const patients = await request(baseUrl).get('/fhir/Patient').set('Authorization', clinician).query({ identifier: 'https://fhir.nhs.uk/Id/nhs-number|9990203334' });
    const patient = (patients.body as Bundle).entry?.[0]?.resource as Patient;
    expect(patient.meta?.source).toBe('https://carebridge.nhs.uk/source/gp/Y00123');
    const refused = await request(baseUrl).get('/fhir/Observation').set('Authorization', clinician).query({ subject: `Patient/${patient.id ?? ''}` });
    expect((refused.body as Bundle).entry?.filter((e) => e.resource?.resourceType === 'Observation') ?? []).toEqual([]);
    const glass = await request(baseUrl).post(`/access/Patient/${patient.id ?? ''}/break-glass`).set('Authorization', clinician).send({ reason: 'Unconscious in ED, GP record needed' });
    expect(glass.status).toBe(201);
    const observations = await request(baseUrl).get('/fhir/Observation').set('Authorization', clinician).query({ subject: `Patient/${patient.id ?? ''}`, _sort: 'date' });
    const labels = ((observations.body as Bundle).entry ?? []).map((e) => (e.resource?.meta?.security ?? []).map((s) => s.code).join(','));
    expect(labels).toEqual(['R,HIV', 'R,ETH', 'N']);
  });
});
