import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import request from 'supertest';
import { loadConfig } from '../../gateway/config';
import { createLogger } from '../../gateway/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { gpFixtureBytes } from './fixtures';

/** The whole gateway: POST /intake/gp → inbox → in-process worker → FHIR API. */
describe('GP records through the running gateway', () => {
  let dir: string;
  let gateway: RunningGateway;
  let baseUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-gp-'));
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, DEMO_DATA: 'false', LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    baseUrl = `http://127.0.0.1:${String(gateway.httpPort)}`;
  });
  afterAll(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a posted record is applied by the worker and served by the FHIR API, labels and all', async () => {
    const posted = await request(baseUrl).post('/intake/gp').set('content-type', 'application/fhir+json').send(gpFixtureBytes('uncategorised-with-sensitive-codes').toString('utf8'));
    expect(posted.status).toBe(202);
    const location = posted.get('location') ?? '';
    const until = Date.now() + 20_000;
    let state = 'pending';
    while (state === 'pending') {
      if (Date.now() > until) throw new Error('the record was not applied in time');
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = ((await request(baseUrl).get(location)).body as OperationOutcome).issue[0]?.details?.coding?.[0]?.code ?? '';
    }
    expect(state).toBe('done');
    const patients = await request(baseUrl).get('/fhir/Patient').query({ identifier: 'https://fhir.nhs.uk/Id/nhs-number|9990203334' });
    const patient = (patients.body as Bundle).entry?.[0]?.resource as Patient;
    expect(patient.meta?.source).toBe('https://carebridge.nhs.uk/source/gp/Y00123');
    const observations = await request(baseUrl).get('/fhir/Observation').query({ subject: `Patient/${patient.id ?? ''}`, _sort: 'date' });
    const labels = ((observations.body as Bundle).entry ?? []).map((e) => (e.resource?.meta?.security ?? []).map((s) => s.code).join(','));
    expect(labels).toEqual(['R,HIV', 'R,ETH', 'N']);
  });
});
