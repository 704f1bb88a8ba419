import type { CapabilityStatement } from '@medplum/fhirtypes';
import request from 'supertest';
import { body, FHIR_JSON, patient, startHarness, type Harness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness([{ resources: [patient({ id: 'pat-meta', family: 'Metcalfe', birthDate: '1950-01-01' })] }]);
});

afterAll(async () => {
  await h.close();
});

describe('GET /fhir/metadata', () => {
  it('returns a CapabilityStatement for FHIR 4.0.1 as application/fhir+json', async () => {
    const res = await h.get('/fhir/metadata');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(FHIR_JSON);
    const cs = body<CapabilityStatement>(res);
    expect(cs.resourceType).toBe('CapabilityStatement');
    expect(cs.fhirVersion).toBe('4.0.1');
    expect(cs.kind).toBe('instance');
    expect(cs.status).toBe('active');
    expect(cs.format).toEqual(['application/fhir+json', 'json']);
    expect(cs.implementation?.url).toBe('https://carebridge.test/fhir');
    expect(cs.rest).toHaveLength(1);
    expect(cs.rest?.[0]?.mode).toBe('server');
  });

  it('lists Patient with the identifier search parameter and the everything operation', async () => {
    const cs = body<CapabilityStatement>(await h.get('/fhir/metadata'));
    const patientEntry = cs.rest?.[0]?.resource?.find((r) => r.type === 'Patient');
    expect(patientEntry?.type).toBe('Patient');
    const identifier = patientEntry?.searchParam?.find((p) => p.name === 'identifier');
    expect(identifier).toEqual({ name: 'identifier', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Patient-identifier' });
    expect(patientEntry?.searchParam?.filter((p) => p.name === '_id')).toEqual([{ name: '_id', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id' }]);
    expect(patientEntry?.operation).toEqual([{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }]);
    expect(patientEntry?.searchInclude).toContain('Patient:general-practitioner');
  });

  it('offers only read interactions, for every resource type and at system level', async () => {
    const cs = body<CapabilityStatement>(await h.get('/fhir/metadata'));
    const rest = cs.rest?.[0];
    expect(rest?.interaction).toBeUndefined(); // no system-level interactions, and FHIR JSON has no empty arrays
    const resources = rest?.resource ?? [];
    expect(resources.length).toBeGreaterThan(140);
    const writeCodes = ['create', 'update', 'patch', 'delete', 'history-type', 'transaction', 'batch'];
    for (const resource of resources.filter((r) => r.type !== 'Subscription')) {
      expect(resource.interaction?.map((i) => i.code)).toEqual(['read', 'vread', 'history-instance', 'search-type']);
      expect(resource.interaction?.some((i) => writeCodes.includes(i.code as string))).toBe(false);
      expect(resource.updateCreate).toBe(false);
    }
    expect(resources.map((r) => r.type)).toEqual(expect.arrayContaining(['Encounter', 'Condition', 'Observation', 'Organization']));
  });

  it('lists Subscription as the one write, topic-based (Backport IG), with $status and every topic offered', async () => {
    const cs = body<CapabilityStatement>(await h.get('/fhir/metadata'));
    const subscription = cs.rest?.[0]?.resource?.find((r) => r.type === 'Subscription');
    expect(subscription?.interaction?.map((i) => i.code)).toEqual(['create', 'read', 'delete', 'search-type']);
    expect(subscription?.supportedProfile).toEqual(['http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription']);
    expect(subscription?.operation?.map((o) => o.name)).toEqual(['status']);
    const topics = (subscription?.extension ?? []).map((e) => e.valueCanonical);
    expect(topics).toContain('https://carebridge.nhs.uk/fhir/SubscriptionTopic/admission');
    expect(topics).toContain('https://carebridge.nhs.uk/fhir/SubscriptionTopic/discharge');
    expect(topics).toHaveLength(new Set(topics).size);
  });
});

describe('operational endpoints', () => {
  it('GET /healthz answers 200 {status: ok}', async () => {
    const res = await h.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 with ok true, engine pglite and no pending migrations', async () => {
    const res = await h.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, engine: 'pglite', pendingMigrations: [] });
  });

  it('GET /metrics counts FHIR requests by route pattern, never by URL', async () => {
    await h.get('/fhir/Patient/pat-meta');
    await h.get('/fhir/Patient/pat-meta');
    const res = await h.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('# TYPE carebridge_http_requests_total counter');
    expect(res.text).toMatch(/carebridge_http_requests_total\{method="GET",route="\/fhir\/:type\/:id",status="200"\} 2\n/);
    expect(res.text).not.toContain('pat-meta');
  });
});

describe('request ids', () => {
  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const kept = await request(h.app).get('/fhir/metadata').set('X-Request-Id', 'trace-123.abc');
    expect(kept.headers['x-request-id']).toBe('trace-123.abc');
    const replaced = await request(h.app).get('/fhir/metadata').set('X-Request-Id', 'bad id; with spaces');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
