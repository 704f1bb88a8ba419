import type { Bundle } from '@medplum/fhirtypes';
import request from 'supertest';
import { body, expectNoLeak, expectOutcome, matchIds, nhsNumber, patient, startHarness, type Harness } from './harness';

/** What the API refuses: every write, malformed searches, and attempts at SQL injection. */

const people = [
  patient({ id: 'pat-x1', family: 'Quinn', given: 'Ada', birthDate: '1947-08-08', nhs: nhsNumber(20) }),
  patient({ id: 'pat-x2', family: 'Rowe', given: 'Bill', birthDate: '1949-09-09', nhs: nhsNumber(21) }),
  patient({ id: 'pat-x3', family: 'Shaw', given: 'Cara', birthDate: '1951-10-10', nhs: nhsNumber(22) }),
];

let h: Harness;

beforeAll(async () => {
  h = await startHarness([{ resources: people }]);
});

afterAll(async () => {
  await h.close();
});

/** The store still holds and serves all three people. */
async function expectDataIntact(): Promise<void> {
  const res = await h.get('/fhir/Patient?_sort=_id');
  expect(res.status).toBe(200);
  expect(body<Bundle>(res).total).toBe(3);
  expect(matchIds(res)).toEqual(['pat-x1', 'pat-x2', 'pat-x3']);
  expect(await h.store.countResources()).toBe(3);
}

describe('writes are refused', () => {
  const newPatient = JSON.stringify(patient({ id: 'pat-new', family: 'Intruder' }));
  const readOnlyText = (method: string): string =>
    `${method} is not allowed: the shared record is read-only. Source systems write through the intake endpoints.`;

  it.each([
    ['POST', '/fhir/Patient'],
    ['POST', '/fhir'],
    ['PUT', '/fhir/Patient/pat-x1'],
    ['PUT', '/fhir/Patient/pat-new'],
    ['PATCH', '/fhir/Patient/pat-x1'],
    ['DELETE', '/fhir/Patient/pat-x1'],
    ['DELETE', '/fhir/Patient?family=Quinn'],
    ['POST', '/fhir/Patient/_search'],
    ['POST', '/fhir/Patient/pat-x1/$everything'],
  ])('%s %s → 405 not-supported', async (method, path) => {
    const agent = request(h.app);
    const req = method === 'POST' ? agent.post(path) : method === 'PUT' ? agent.put(path) : method === 'PATCH' ? agent.patch(path) : agent.delete(path);
    const res = await req.set('Authorization', h.authorization).set('Content-Type', 'application/fhir+json').send(method === 'DELETE' ? '' : newPatient);
    expectNoLeak(res);
    const issue = expectOutcome(res, 405, 'not-supported');
    expect(issue.details?.text).toBe(readOnlyText(method));
  });

  it('names the allowed methods in an Allow header on 405 (RFC 9110 §15.5.6)', async () => {
    const res = await request(h.app).delete('/fhir/Patient/pat-x1').set('Authorization', h.authorization);
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD');
  });

  it('refuses a malformed JSON body with an OperationOutcome and no stack trace', async () => {
    const res = await request(h.app).post('/fhir/Patient').set('Authorization', h.authorization).set('Content-Type', 'application/fhir+json').send('{"resourceType": "Patient", "id": ');
    expectNoLeak(res);
    // 405 while /fhir takes no writes at all; 400 if a body parser ever runs first.
    expect([400, 405]).toContain(res.status);
    const issue = expectOutcome(res, res.status, res.status === 405 ? 'not-supported' : 'invalid');
    expect(issue.details?.text).toBe(res.status === 405 ? readOnlyText('POST') : 'The request body is not valid JSON');
  });

  it('leaves the data unchanged after every refused write', async () => {
    await expectDataIntact();
    expectOutcome(await h.get('/fhir/Patient/pat-new'), 404, 'not-found');
    const res = await h.get('/fhir/Patient/pat-x1');
    expect(res.headers['etag']).toBe('W/"1"');
  });
});

describe('malformed searches', () => {
  it('answers 400 naming an unknown search parameter', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient?shoe-size=9'), 400, 'invalid');
    expect(issue.details?.text).toBe("Unknown search parameter 'shoe-size' for Patient");
    expect(issue.expression).toEqual(['shoe-size']);
  });

  it('answers 400 for a parameter of another resource type', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient?class=IMP'), 400, 'invalid');
    expect(issue.details?.text).toBe("Unknown search parameter 'class' for Patient");
    expect(issue.expression).toEqual(['class']);
  });

  it('answers 400 for a chained search, which is not supported', async () => {
    const issue = expectOutcome(await h.get('/fhir/Encounter?subject.name=Quinn'), 400, 'invalid');
    expect(issue.details?.text).toBe("Chained search ('subject.name') is not supported");
    expect(issue.expression).toEqual(['subject.name']);
  });

  it('answers 400 for an empty value', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient?family='), 400, 'invalid');
    expect(issue.details?.text).toBe("Empty value for search parameter 'family'");
    expect(issue.expression).toEqual(['family']);
  });

  it.each(['1947-13', '1947-02-30', 'yesterday', 'xx1947', '1947-08-08T25:00', '19470808'])('answers 400 for birthdate=%s', async (value) => {
    const issue = expectOutcome(await h.get(`/fhir/Patient?birthdate=${value}`), 400, 'invalid');
    expect(issue.details?.text).toBe(`'${value}' is not a valid date for birthdate: expected [prefix]YYYY[-MM[-DD[Thh:mm[:ss][zone]]]]`);
    expect(issue.expression).toEqual(['birthdate']);
  });

  it('answers 400 for an unsupported date modifier', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient?birthdate:exact=1947'), 400, 'invalid');
    expect(issue.details?.text).toBe("Modifier ':exact' is not supported on birthdate");
  });

  it('answers 400 for a non-numeric or huge _count', async () => {
    expect(expectOutcome(await h.get('/fhir/Patient?_count=ten'), 400, 'invalid').expression).toEqual(['_count']);
    expect(expectOutcome(await h.get('/fhir/Patient?_count=123456789012345678901234567890'), 400, 'invalid').expression).toEqual(['_count']);
  });

  it('answers 404 for a search of an unknown resource type', async () => {
    const issue = expectOutcome(await h.get('/fhir/Wibble?name=x'), 404, 'not-found');
    expect(issue.details?.text).toBe("Unknown resource type 'Wibble'");
  });

  it('answers 404 for a path that is no FHIR interaction', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient/pat-x1/_history/1/extra'), 404, 'not-found');
    expect(issue.details?.text).toBe('No FHIR interaction at this path');
  });

  it('answers 400 for a _format other than JSON', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient?_format=xml'), 400, 'invalid');
    expect(issue.details?.text).toBe('Only JSON is served (_format=xml)');
  });
});

describe('SQL injection attempts are inert', () => {
  const enc = encodeURIComponent;

  it.each([
    ['name', `name=${enc("';drop table resource;--")}`],
    ['name:exact', `name:exact=${enc("Quinn' OR '1'='1")}`],
    ['name:contains', `name:contains=${enc("%' OR 1=1 --")}`],
    ['identifier value', `identifier=${enc(`https://fhir.nhs.uk/Id/nhs-number|${nhsNumber(20)}' OR '1'='1`)}`],
    ['identifier system', `identifier=${enc("x' OR 1=1;--|1")}`],
    ['gender', `gender=${enc("male'); DELETE FROM resource; --")}`],
  ])('a quote in %s finds nothing', async (_label, query) => {
    const res = await h.get(`/fhir/Patient?${query}`);
    expect(res.status).toBe(200);
    expect(body<Bundle>(res).total).toBe(0);
    expect(matchIds(res)).toEqual([]);
  });

  it.each([
    ['_sort', `_sort=${enc('birthdate;drop table resource')}`, '_sort'],
    ['_sort with a subquery', `_sort=${enc('(select 1)')}`, '_sort'],
    ['_id', `_id=${enc("pat-x1';drop table resource;--")}`, '_id'],
    ['_include', `_include=${enc("Patient:general-practitioner';drop table resource;--")}`, '_include'],
    ['_revinclude', `_revinclude=${enc("Encounter:subject' OR 1=1")}`, '_revinclude'],
    ['a parameter name', `${enc("family' OR 1=1 --")}=x`, "family' OR 1=1 --"],
    ['birthdate', `birthdate=${enc("1947' OR '1'='1")}`, 'birthdate'],
    ['_count', `_count=${enc('10; drop table resource')}`, '_count'],
  ])('a quote in %s is refused with 400', async (_label, query, expression) => {
    const issue = expectOutcome(await h.get(`/fhir/Patient?${query}`), 400, 'invalid');
    expect(issue.expression).toEqual([expression]);
  });

  it('an injection attempt in a read id is refused with 400', async () => {
    expectOutcome(await h.get(`/fhir/Patient/${encodeURIComponent("pat-x1' OR '1'='1")}`), 400, 'invalid');
  });

  it('the resource table still answers afterwards', async () => {
    await expectDataIntact();
    const res = await h.get(`/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${nhsNumber(21)}`);
    expect(matchIds(res)).toEqual(['pat-x2']);
  });
});
