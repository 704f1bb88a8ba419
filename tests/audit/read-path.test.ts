import { Writable } from 'node:stream';
import type { AuditEvent, Observation } from '@medplum/fhirtypes';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../gateway/app';
import { AuditTrail } from '../../gateway/audit/audit-trail';
import { Interaction, PurposeOfUse } from '../../gateway/access/hooks';
import { auditColumns, returnedOf } from '../../gateway/audit/audit-event';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { Metrics } from '../../gateway/metrics';
import type { Store } from '../../gateway/store/store';
import { testAuthority } from '../support/auth';
import { syntheticPatient } from '../support/synthetic';
import { memoryStore } from './support';
import { resetTrail } from './tamper';

/**
 * The trail as the FHIR API's audit hook, over real HTTP: each read writes its entry before the
 * response, the patient of a search is found from what it returned, and a failing audit write
 * fails the request without sending data or logging the query.
 */
function observation(n: number, patientId: string): Observation {
  return { resourceType: 'Observation', id: `obs-${String(n)}`, status: 'final', code: { text: 'synthetic' }, subject: { reference: `Patient/${patientId}` } };
}

describe('audit of the FHIR read path', () => {
  let store: Store;
  let trail: AuditTrail;
  let logText: string;
  let app: ReturnType<typeof createApp>;
  let authorization: string;
  const get = (path: string): request.Test => request(app).get(path).set('Authorization', authorization);

  beforeAll(async () => {
    store = await memoryStore();
    await store.upsert([syntheticPatient(1), syntheticPatient(2), observation(1, 'pat-1'), observation(2, 'pat-1'), observation(3, 'pat-2')]);
    logText = '';
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _enc, done) => { logText += chunk.toString(); done(); } }));
    trail = new AuditTrail({ engine: store.engine, node: 'test-node', logger });
    const authority = await testAuthority();
    authorization = `Bearer ${await authority.person({ user: 'audit-test-reader', role: 'gp' })}`;
    app = createApp({ store, logger, metrics: new Metrics(false), audit: trail, publicBaseUrl: 'https://carebridge.test', auth: authority.authenticator });
  });
  afterAll(async () => {
    await trail.close();
    await store.close();
  });
  beforeEach(async () => {
    await resetTrail(store.engine);
    logText = '';
  });

  async function entries(): Promise<AuditEvent[]> {
    return (await store.engine.query<{ event: AuditEvent }>('SELECT event FROM audit_event ORDER BY seq')).rows.map((r) => r.event);
  }

  test('a read of a Patient is audited with the request id before the response arrives', async () => {
    const res = await get('/fhir/Patient/pat-1').set('X-Request-Id', 'req-read-1');
    expect(res.status).toBe(200);
    const [event, ...rest] = await entries();
    expect(rest).toEqual([]);
    expect(auditColumns(event as AuditEvent)).toMatchObject({ requestId: 'req-read-1', interaction: 'read', outcome: 'permit', patientIds: ['pat-1'], userId: 'audit-test-reader' });
    expect(returnedOf(event as AuditEvent)).toEqual(['Patient/pat-1']);
  });

  test('a search of Observations names the patients whose data it returned', async () => {
    const res = await get('/fhir/Observation?_count=10');
    expect(res.status).toBe(200);
    const [event] = await entries();
    expect(auditColumns(event as AuditEvent).patientIds).toEqual(['pat-1', 'pat-2']);
    expect([...returnedOf(event as AuditEvent)].sort()).toEqual(['Observation/obs-1', 'Observation/obs-2', 'Observation/obs-3']);
    expect(auditColumns(event as AuditEvent).interaction).toBe('search-type');
  });

  test('patients named by the caller are taken as given, without the lookup', async () => {
    await trail.record({
      request: { requestId: 'given', requester: { userId: 'u1', purposeOfUse: PurposeOfUse.TREAT }, interaction: Interaction.SEARCH, resourceType: 'Observation' },
      outcome: 'permit',
      returned: ['Observation/obs-3'],
      withheld: 1,
      patientIds: ['pat-2', 'pat-withheld'],
    });
    const [event] = await entries();
    expect(auditColumns(event as AuditEvent).patientIds).toEqual(['pat-2', 'pat-withheld']);
  });

  test('a read of something that is not there is audited as not-found', async () => {
    expect((await get('/fhir/Observation/nope')).status).toBe(404);
    const [event] = await entries();
    expect(auditColumns(event as AuditEvent).outcome).toBe('not-found');
  });

  test('when the audit entry cannot be written the request fails, no data is sent, and the NHS number in the query is not logged', async () => {
    const nhs = demoNhsNumber(1);
    await store.engine.exec(`CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test: audit storage unavailable'; END $$;
      CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()`);
    try {
      const res = await get(`/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`);
      expect(res.status).toBe(500);
      expect(res.text).not.toContain('pat-1');
      expect(res.text).not.toContain('Testperson');
      expect(res.text).not.toContain(nhs);
      expect(await entries()).toEqual([]);
      expect(logText).toContain('audit batch failed');
      expect(logText).not.toContain(nhs);
    } finally {
      await store.engine.exec('DROP TRIGGER test_refuse_audit ON audit_event; DROP FUNCTION test_refuse_audit()');
    }
    // And the trail carries on once storage is back.
    expect((await get('/fhir/Patient/pat-2')).status).toBe(200);
    expect((await entries()).map((e) => auditColumns(e).patientIds)).toEqual([['pat-2']]);
  });
});
