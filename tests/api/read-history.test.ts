import type { Bundle, Patient } from '@medplum/fhirtypes';
import { body, expectOutcome, FHIR_JSON, nhsNumber, patient, startHarness, type Harness } from './harness';

const T1 = new Date('2026-01-10T09:00:00.000Z');
const T2 = new Date('2026-02-20T15:30:00.000Z');
const T3 = new Date('2026-03-01T08:00:00.000Z');

const v1 = patient({ id: 'pat-read', family: 'Ashworth', given: 'Eleanor', birthDate: '1942-05-17', gender: 'female', nhs: nhsNumber(0) });
const v2 = patient({ id: 'pat-read', family: 'Ashworth-Kerr', given: 'Eleanor', birthDate: '1942-05-17', gender: 'female', nhs: nhsNumber(0) });
const stable = patient({ id: 'pat-stable', family: 'Brennan', birthDate: '1950-11-02', nhs: nhsNumber(1) });

let h: Harness;

beforeAll(async () => {
  h = await startHarness([
    { resources: [v1, stable], now: T1 },
    { resources: [v2], now: T2 },
    // The same content again, at a later instant: no new version may be made.
    { resources: [{ ...stable }], now: T3 },
  ]);
});

afterAll(async () => {
  await h.close();
});

describe('read', () => {
  it('returns the current version with a weak ETag and Last-Modified', async () => {
    const res = await h.get('/fhir/Patient/pat-read');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(FHIR_JSON);
    expect(res.headers['etag']).toBe('W/"2"');
    expect(res.headers['last-modified']).toBe('Fri, 20 Feb 2026 15:30:00 GMT');
    const p = body<Patient>(res);
    expect(p.id).toBe('pat-read');
    expect(p.meta).toEqual({ versionId: '2', lastUpdated: '2026-02-20T15:30:00.000Z' });
    expect(p.name?.[0]?.family).toBe('Ashworth-Kerr');
    expect(p.identifier).toEqual([{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber(0) }]);
  });

  it('puts resourceType, id and meta first in the JSON', async () => {
    const res = await h.get('/fhir/Patient/pat-read');
    expect(Object.keys(body<Patient>(res)).slice(0, 3)).toEqual(['resourceType', 'id', 'meta']);
  });

  it('answers 404 with an OperationOutcome for an id that does not exist', async () => {
    const res = await h.get('/fhir/Patient/no-such-patient');
    const issue = expectOutcome(res, 404, 'not-found');
    expect(issue.details?.text).toBe('Not found');
  });

  it('answers 404 for a resource of the right id but another type', async () => {
    expectOutcome(await h.get('/fhir/Observation/pat-read'), 404, 'not-found');
  });

  it('answers 404 naming an unknown resource type', async () => {
    const issue = expectOutcome(await h.get('/fhir/Wibble/pat-read'), 404, 'not-found');
    expect(issue.details?.text).toBe("Unknown resource type 'Wibble'");
    const lower = expectOutcome(await h.get('/fhir/patient/pat-read'), 404, 'not-found');
    expect(lower.details?.text).toBe("Unknown resource type 'patient'");
  });

  it.each([
    ['an encoded slash', '/fhir/Patient/a%2Fb', 'a/b'],
    ['an encoded parent path', '/fhir/Patient/..%2F..%2Fetc', '../../etc'],
    ['a space', '/fhir/Patient/a%20b', 'a b'],
    ['a quote and semicolon', "/fhir/Patient/x';--", "x';--"],
    ['65 characters', `/fhir/Patient/${'a'.repeat(65)}`, 'a'.repeat(65)],
  ])('answers 400 for an id with %s', async (_label, path, id) => {
    const issue = expectOutcome(await h.get(path), 400, 'invalid');
    expect(issue.details?.text).toBe(`'${id}' is not a valid resource id: expected 1-64 of A-Z a-z 0-9 - .`);
    expect(issue.expression).toEqual(['id']);
  });

  it('accepts an id of exactly 64 characters (and finds nothing)', async () => {
    expectOutcome(await h.get(`/fhir/Patient/${'a'.repeat(64)}`), 404, 'not-found');
  });
});

describe('vread', () => {
  it('returns version 1 as it was before the update', async () => {
    const res = await h.get('/fhir/Patient/pat-read/_history/1');
    expect(res.status).toBe(200);
    expect(res.headers['etag']).toBe('W/"1"');
    expect(res.headers['last-modified']).toBe('Sat, 10 Jan 2026 09:00:00 GMT');
    const p = body<Patient>(res);
    expect(p.meta).toEqual({ versionId: '1', lastUpdated: '2026-01-10T09:00:00.000Z' });
    expect(p.name?.[0]?.family).toBe('Ashworth');
  });

  it('returns version 2 equal to the current read', async () => {
    const [vread, read] = await Promise.all([h.get('/fhir/Patient/pat-read/_history/2'), h.get('/fhir/Patient/pat-read')]);
    expect(vread.status).toBe(200);
    expect(body(vread)).toEqual(body(read));
  });

  it('answers 404 for a version that does not exist', async () => {
    expectOutcome(await h.get('/fhir/Patient/pat-read/_history/3'), 404, 'not-found');
  });

  it('answers 400 for a version id that is not a positive number', async () => {
    for (const vid of ['0', 'abc', '-1', '1.5']) {
      const issue = expectOutcome(await h.get(`/fhir/Patient/pat-read/_history/${vid}`), 400, 'invalid');
      expect(issue.details?.text).toBe(`'${vid}' is not a valid version id`);
      expect(issue.expression).toEqual(['vid']);
    }
  });
});

describe('instance history', () => {
  it('lists every version newest first with the total', async () => {
    const res = await h.get('/fhir/Patient/pat-read/_history');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(FHIR_JSON);
    const bundle = body<Bundle>(res);
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('history');
    expect(bundle.total).toBe(2);
    expect(bundle.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2', '1']);
    expect(bundle.entry?.map((e) => (e.resource as Patient).name?.[0]?.family)).toEqual(['Ashworth-Kerr', 'Ashworth']);
    expect(bundle.entry?.map((e) => e.fullUrl)).toEqual(['https://carebridge.test/fhir/Patient/pat-read', 'https://carebridge.test/fhir/Patient/pat-read']);
    expect(bundle.entry?.map((e) => e.response)).toEqual([
      { status: '200 OK', etag: 'W/"2"', lastModified: '2026-02-20T15:30:00.000Z' },
      { status: '201 Created', etag: 'W/"1"', lastModified: '2026-01-10T09:00:00.000Z' },
    ]);
    expect(bundle.entry?.map((e) => e.request)).toEqual([
      { method: 'PUT', url: 'Patient/pat-read' },
      { method: 'POST', url: 'Patient' },
    ]);
  });

  it('pages with _count and a next link', async () => {
    const res = await h.get('/fhir/Patient/pat-read/_history?_count=1');
    const bundle = body<Bundle>(res);
    expect(bundle.total).toBe(2);
    expect(bundle.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2']);
    expect(bundle.link).toEqual([
      { relation: 'self', url: 'https://carebridge.test/fhir/Patient/pat-read/_history?_count=1' },
      { relation: 'next', url: 'https://carebridge.test/fhir/Patient/pat-read/_history?_count=1&_before_version=2' },
    ]);
    const next = body<Bundle>(await h.get('/fhir/Patient/pat-read/_history?_count=1&_before_version=2'));
    expect(next.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['1']);
    expect(next.link?.map((l) => l.relation)).toEqual(['self']);
  });

  it('answers 404 for the history of a resource that never existed', async () => {
    expectOutcome(await h.get('/fhir/Patient/never-was/_history'), 404, 'not-found');
  });
});

describe('idempotent writes', () => {
  it('writing the same content twice makes no new version', async () => {
    const history = body<Bundle>(await h.get('/fhir/Patient/pat-stable/_history'));
    expect(history.total).toBe(1);
    expect(history.entry?.map((e) => e.resource?.meta)).toEqual([{ versionId: '1', lastUpdated: '2026-01-10T09:00:00.000Z' }]);
    const read = await h.get('/fhir/Patient/pat-stable');
    expect(read.headers['etag']).toBe('W/"1"');
    expect(read.headers['last-modified']).toBe('Sat, 10 Jan 2026 09:00:00 GMT');
  });

  it('the store reports the repeated write as unchanged', async () => {
    const written = await h.store.upsert([{ ...stable }], { now: new Date('2026-04-01T00:00:00Z') });
    expect(written).toEqual([{ resourceType: 'Patient', id: 'pat-stable', versionId: '1', changed: false }]);
    expect(body<Bundle>(await h.get('/fhir/Patient/pat-stable/_history')).total).toBe(1);
  });
});
