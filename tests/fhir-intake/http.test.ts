import type { Bundle, Composition, DocumentReference, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../../gateway/app';
import { documentSections, DischargeSection } from '../../gateway/fhir-intake/document';
import { FHIR_INBOX_KIND, FhirIntake } from '../../gateway/fhir-intake/intake';
import { systemOfToken } from '../../gateway/fhir-intake/router';
import { parseDirectory } from '../../gateway/auth';
import demoDirectoryJson from '../../gateway/auth/demo-directory.json';
import { testAuthority } from '../support/auth';
import { mergeSourceRecords } from '../../gateway/identity/merge';
import { samePersonIds } from '../../gateway/identity/resolver';
import { ingestResources } from '../../gateway/ingest/ingest';
import { createLogger } from '../../gateway/logger';
import { Metrics } from '../../gateway/metrics';
import type { Store } from '../../gateway/store/store';
import { resourceId } from '../../mappings/ids';
import { expectNoLeak } from '../api/harness';
import { sourcePatient } from '../support/synthetic';
import { fixtureBytes, openStore, storedResources, versionCount } from './support';

/**
 * POST /intake/fhir over HTTP on the real app and an in-memory PGlite store: status codes, content
 * types, the development system header, idempotency, all-or-nothing, documents, and identity
 * linking with a record another source sent.
 */
const CARE_HOME = 'oakview-care-home';
const CARE_HOME_SOURCE = 'https://records.oakview-care.example.org';
const FHIR_JSON = 'application/fhir+json';

let store: Store;
let app: Express;
/** Authorization headers by system name ('gp' for a person reading the record). */
const tokens = new Map<string, string>();

beforeAll(async () => {
  store = await openStore();
  const directory = parseDirectory(
    {
      ...demoDirectoryJson,
      systems: [
        ...demoDirectoryJson.systems,
        { name: CARE_HOME, displayName: 'Oakview care home records', sourceUri: CARE_HOME_SOURCE, organisation: 'https://carebridge.nhs.uk/Id/cqc-location-id|1-000000001', intake: ['fhir-bundle'] },
        { name: 'another-home', displayName: 'Another care home', sourceUri: 'https://records.another-home.example.org', intake: ['fhir-bundle'] },
        { name: 'example-hospital-edischarge', displayName: 'Example trust eDischarge', sourceUri: 'https://edischarge.example-trust.nhs.uk', intake: ['fhir-bundle'] },
        { name: 'pas-only', displayName: 'A PAS allowed HL7v2 only', sourceUri: 'https://pas.example.org', intake: ['hl7v2'], hl7Senders: ['PAS|RX9'] },
      ],
    },
    'test directory',
  );
  const authority = await testAuthority(directory);
  for (const name of [CARE_HOME, 'another-home', 'pas-only', 'example-hospital-edischarge']) tokens.set(name, `Bearer ${await authority.system(name)}`);
  tokens.set('gp', `Bearer ${await authority.person({ user: 'fhir-intake-reader', role: 'gp' })}`);
  const intake = new FhirIntake({ store, logger: createLogger('silent') });
  app = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), auth: authority.authenticator, fhirIntake: { intake, systemOf: systemOfToken } });
});

const as = (name: string): string => tokens.get(name) ?? '';
afterAll(async () => {
  await store.close();
});

const post = (name: string, system: string | null = CARE_HOME): request.Test => {
  let req = request(app).post('/intake/fhir').set('Content-Type', FHIR_JSON);
  if (system) req = req.set('Authorization', as(system));
  return req.send(fixtureBytes(name).toString('utf8'));
};

const resourceCount = (): Promise<number> => store.countResources();

test('without a sending system the request is refused (401) and nothing is read or written', async () => {
  const before = await resourceCount();
  const res = await post('transaction-care-home', null);
  expectNoLeak(res);
  expect(res.status).toBe(401);
  expect((JSON.parse(res.text) as OperationOutcome).issue[0]?.code).toBe('login');
  expect(await resourceCount()).toBe(before);
});

test('a person, or a system not allowed FHIR bundles, may not send (403) and nothing is written', async () => {
  const before = await resourceCount();
  for (const who of ['gp', 'pas-only']) {
    const res = await request(app).post('/intake/fhir').set('Content-Type', FHIR_JSON).set('Authorization', as(who)).send(fixtureBytes('transaction-care-home').toString('utf8'));
    expect(res.status).toBe(403);
  }
  expect(await resourceCount()).toBe(before);
});

test('a body that is not FHIR JSON is 415; JSON that does not parse is 400 with an OperationOutcome', async () => {
  const wrongType = await request(app).post('/intake/fhir').set('Authorization', as(CARE_HOME)).set('Content-Type', 'text/plain').send('hello');
  expect(wrongType.status).toBe(415);
  const broken = await request(app).post('/intake/fhir').set('Authorization', as(CARE_HOME)).set('Content-Type', FHIR_JSON).send('{"resourceType": "Bundle", ');
  expectNoLeak(broken);
  expect(broken.status).toBe(400);
  expect(broken.headers['content-type']).toContain('application/fhir+json');
  expect((JSON.parse(broken.text) as OperationOutcome).issue).toEqual([{ severity: 'error', code: 'invalid', details: { text: 'The body is not valid JSON' }, expression: ['Bundle'] }]);
});

test('a malformed bundle is refused whole with entry paths; nothing is written, the refused bundle is kept for the integration team', async () => {
  const before = await resourceCount();
  const rejected = (): Promise<{ status: string; source: string; content: string }[]> =>
    store.engine.query<{ status: string; source: string; content: string }>(`SELECT status, source, convert_from(content, 'UTF8') AS content FROM inbox WHERE kind = '${FHIR_INBOX_KIND}-rejected' AND source = $1 ORDER BY id`, [CARE_HOME_SOURCE]).then((r) => r.rows);
  const keptBefore = (await rejected()).length;
  const res = await post('bad-dangling-reference');
  expect(res.status).toBe(422);
  const outcome = JSON.parse(res.text) as OperationOutcome;
  expect(outcome.issue.map((i) => i.expression?.[0])).toEqual(['Bundle.entry[2].resource.patient.reference', 'Bundle.entry[3].resource.subject.reference']);
  expect(await resourceCount()).toBe(before);
  const kept = (await rejected()).slice(keptBefore);
  expect(kept.map((k) => [k.status, k.source, k.content === fixtureBytes('bad-dangling-reference').toString('utf8')])).toEqual([['failed', CARE_HOME_SOURCE, true]]);
});

test('a transaction is applied and answered with a transaction-response; the same bundle again writes nothing new', async () => {
  const first = await post('transaction-care-home');
  expectNoLeak(first);
  expect(first.status).toBe(200);
  expect(first.headers['content-type']).toContain('application/fhir+json');
  const response = JSON.parse(first.text) as Bundle;
  expect(response.type).toBe('transaction-response');
  const patientId = resourceId('Patient', CARE_HOME_SOURCE, 'Patient?identifier=https://carehome.example.org/Id/resident|R-0042');
  expect(response.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created', '201 Created', '201 Created']);
  expect(response.entry?.[0]?.response?.location).toBe(`Patient/${patientId}/_history/1`);
  expect(response.entry?.[2]?.response?.location).toBe(`AllergyIntolerance/${resourceId('AllergyIntolerance', CARE_HOME_SOURCE, 'id:ch-allergy-7')}/_history/1`);

  const resources = await storedResources(store, CARE_HOME_SOURCE);
  const versions = await versionCount(store);
  const again = await post('transaction-care-home');
  expect(again.status).toBe(200);
  expect(JSON.parse(again.text)).toEqual(response);
  expect(await storedResources(store, CARE_HOME_SOURCE)).toEqual(resources);
  expect(await versionCount(store)).toBe(versions);
  // Nothing applied twice: one inbox row for the two sends.
  const rows = await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE kind = '${FHIR_INBOX_KIND}' AND source = $1`, [CARE_HOME_SOURCE]);
  expect(rows.rows[0]?.n).toBe(1);
});

test('a later bundle may refer to what the same system sent before; another system may not', async () => {
  const send = (bundle: unknown, system = CARE_HOME): request.Test => request(app).post('/intake/fhir').set('Authorization', as(system)).set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  const flag = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:7a7a7a7a-1111-4222-8333-444455556666', resource: { resourceType: 'Flag', status: 'active', code: { text: 'Falls risk' }, subject: { reference: 'Patient/unknown-resident' } } }] };
  expect((await send(flag)).status).toBe(422);

  const provenance = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:7a7a7a7a-1111-4222-8333-444455556667', resource: { resourceType: 'Provenance', target: [{ reference: 'AllergyIntolerance/ch-allergy-7' }], recorded: '2026-11-21T10:00:00Z', agent: [{ who: { display: 'Night carer' } }] } }] };
  const ok = await send(provenance);
  expect(ok.status).toBe(200);
  const provenanceId = /Provenance\/([^/]+)/.exec((JSON.parse(ok.text) as Bundle).entry?.[0]?.response?.location ?? '')?.[1] ?? '';
  const stored = (await storedResources(store, CARE_HOME_SOURCE)).find((r) => r.id === provenanceId) as { target: { reference: string }[] } | undefined;
  expect(stored?.target).toEqual([{ reference: `AllergyIntolerance/${resourceId('AllergyIntolerance', CARE_HOME_SOURCE, 'id:ch-allergy-7')}` }]);

  const otherSystem = await send(provenance, 'another-home');
  expect(otherSystem.status).toBe(422);
  expect((JSON.parse(otherSystem.text) as OperationOutcome).issue[0]?.details?.text).toBe('AllergyIntolerance/ch-allergy-7 is neither in this Bundle nor something this system sent before');
});

test('a conditional reference finds what the same system sent before (one match only); another system finds nothing', async () => {
  const send = (bundle: unknown, system = CARE_HOME): request.Test => request(app).post('/intake/fhir').set('Authorization', as(system)).set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  const MRN = 'https://records.oakview-care.example.org/resident';
  const resident = (id: string, mrn: string) => ({ resourceType: 'Patient', id, identifier: [{ system: MRN, value: mrn }], name: [{ family: 'Conditional', given: ['Test'] }], birthDate: '1937-02-03' });
  expect((await send({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:5b5b5b5b-1111-4222-8333-444455556661', resource: resident('cond-resident-1', 'R-0001') }] })).status).toBe(200);
  const flag = (mrn: string, n: string) => ({
    resourceType: 'Bundle',
    type: 'collection',
    entry: [{ fullUrl: `urn:uuid:5b5b5b5b-1111-4222-8333-44445555${n}`, resource: { resourceType: 'Flag', status: 'active', code: { text: 'Needs two carers to move' }, subject: { reference: `Patient?identifier=${MRN}|${mrn}` } } }],
  });
  const ok = await send(flag('R-0001', '7771'));
  expect(ok.status).toBe(200);
  const flagId = /Flag\/([^/]+)/.exec((JSON.parse(ok.text) as Bundle).entry?.[0]?.response?.location ?? '')?.[1] ?? '';
  const stored = (await storedResources(store, CARE_HOME_SOURCE)).find((r) => r.resourceType === 'Flag' && r.id === flagId) as { subject?: { reference?: string } } | undefined;
  expect(stored?.subject?.reference).toBe(`Patient/${resourceId('Patient', CARE_HOME_SOURCE, 'id:cond-resident-1')}`);

  // Another home's record of the same identifier is not this system's: no match.
  const other = await send(flag('R-0001', '7772'), 'another-home');
  expect(other.status).toBe(422);
  expect((JSON.parse(other.text) as OperationOutcome).issue.map((i) => [i.details?.text, i.expression])).toEqual([
    [`The conditional reference Patient?identifier=${MRN}|R-0001 matches no entry of this Bundle and nothing this system sent before`, ['Bundle.entry[0].resource.subject.reference']],
  ]);

  // Two of this system's records with one identifier: ambiguous, refused, nothing written.
  expect((await send({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:5b5b5b5b-1111-4222-8333-444455556662', resource: resident('cond-resident-2', 'R-0001') }] })).status).toBe(200);
  const before = await resourceCount();
  const ambiguous = await send(flag('R-0001', '7773'));
  expect(ambiguous.status).toBe(422);
  expect((JSON.parse(ambiguous.text) as OperationOutcome).issue[0]?.details?.text).toBe(`The conditional reference Patient?identifier=${MRN}|R-0001 matches 2 resources this system sent before, not one`);
  expect(await resourceCount()).toBe(before);

  // Once the home merges the two, the identifier stands for the survivor: the reference goes there.
  await mergeSourceRecords(store, { mergedId: resourceId('Patient', CARE_HOME_SOURCE, 'id:cond-resident-2'), survivorId: resourceId('Patient', CARE_HOME_SOURCE, 'id:cond-resident-1'), reason: 'duplicate resident record', mergedBy: 'test' });
  const afterMerge = await send(flag('R-0001', '7775'));
  expect(afterMerge.status).toBe(200);
  const afterMergeId = /Flag\/([^/]+)/.exec((JSON.parse(afterMerge.text) as Bundle).entry?.[0]?.response?.location ?? '')?.[1] ?? '';
  const afterMergeFlag = (await storedResources(store, CARE_HOME_SOURCE)).find((r) => r.resourceType === 'Flag' && r.id === afterMergeId) as { subject?: { reference?: string } } | undefined;
  expect(afterMergeFlag?.subject?.reference).toBe(`Patient/${resourceId('Patient', CARE_HOME_SOURCE, 'id:cond-resident-1')}`);

  // An NHS number written with spaces finds the record, as every NHS number lookup does.
  const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
  expect((await send({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:5b5b5b5b-1111-4222-8333-444455556663', resource: { ...resident('cond-resident-3', 'R-0003'), identifier: [{ system: NHS, value: '9990022003' }] } }] })).status).toBe(200);
  const spaced = await send({
    resourceType: 'Bundle',
    type: 'collection',
    entry: [{ fullUrl: 'urn:uuid:5b5b5b5b-1111-4222-8333-444455557774', resource: { resourceType: 'Flag', status: 'active', code: { text: 'Hard of hearing' }, subject: { reference: `Patient?identifier=${NHS}|999 002 2003` } } }],
  });
  expect(spaced.status).toBe(200);
  const spacedId = /Flag\/([^/]+)/.exec((JSON.parse(spaced.text) as Bundle).entry?.[0]?.response?.location ?? '')?.[1] ?? '';
  const spacedFlag = (await storedResources(store, CARE_HOME_SOURCE)).find((r) => r.resourceType === 'Flag' && r.id === spacedId) as { subject?: { reference?: string } } | undefined;
  expect(spacedFlag?.subject?.reference).toBe(`Patient/${resourceId('Patient', CARE_HOME_SOURCE, 'id:cond-resident-3')}`);
});

test("a patient is linked to another source's record of the same person (verified NHS number, same birth date)", async () => {
  const hospital = 'https://pas.example-trust.nhs.uk';
  await ingestResources(store, [sourcePatient('hospital-patient-1', hospital, '9990001146', { verified: true, birthDate: '1935-01-22' })]);
  const res = await post('document-edischarge', 'example-hospital-edischarge');
  expect(res.status).toBe(200);
  const patientLocation = (JSON.parse(res.text) as Bundle).entry?.[1]?.response?.location ?? '';
  const patientId = patientLocation.split('/')[1] ?? '';
  expect(patientId).toBe(resourceId('Patient', 'https://edischarge.example-trust.nhs.uk', 'fullUrl:urn:uuid:0000aaaa-1111-4222-8333-000000000001'));
  const same = await samePersonIds(store.engine, patientId);
  expect(same).toContain('hospital-patient-1');
  expect(same).toContain(patientId);
  // The person-level record is there, tagged and linking both sources.
  const person = (await storedResources(store)).find((r) => r.resourceType === 'Patient' && (r).link?.some((l) => l.other.reference === `Patient/${patientId}`)) as Patient | undefined;
  expect(person?.link?.map((l) => l.other.reference).sort()).toEqual([`Patient/${patientId}`, 'Patient/hospital-patient-1'].sort());
});

test('an eDischarge document keeps its Composition sections and is stored whole, found through a DocumentReference', async () => {
  const source = 'https://edischarge.example-trust.nhs.uk';
  const stored = await storedResources(store, source);
  const composition = stored.find((r) => r.resourceType === 'Composition') as Composition;
  const sections = documentSections(composition);
  expect(sections.map((s) => s.section)).toEqual([
    DischargeSection.DIAGNOSES,
    DischargeSection.PROCEDURES,
    DischargeSection.MEDICATIONS,
    DischargeSection.ALLERGIES,
    DischargeSection.PLAN,
    DischargeSection.DISCHARGE,
    DischargeSection.PERSON_COMPLETING,
  ]);
  const conditionId = resourceId('Condition', source, 'fullUrl:urn:uuid:0000aaaa-1111-4222-8333-000000000005');
  expect(sections[0]?.entries).toEqual([{ reference: `Condition/${conditionId}` }]);
  expect(stored.some((r) => r.resourceType === 'Condition' && r.id === conditionId)).toBe(true);

  const documentReference = stored.find((r) => r.resourceType === 'DocumentReference') as DocumentReference;
  const bundleRef = documentReference.content[0]?.attachment.url ?? '';
  const documentBundle = stored.find((r) => `Bundle/${r.id ?? ''}` === bundleRef) as Bundle<Composition>;
  expect(documentBundle.type).toBe('document');
  expect(documentBundle.identifier).toEqual({ system: 'https://trust.example.nhs.uk/Id/document', value: 'DS-2026-0001842' });
  const storedComposition = documentBundle.entry?.[0]?.resource as Composition;
  expect(storedComposition.section?.[0]?.entry).toEqual([{ reference: `urn:uuid:${conditionId}` }]);
  expect(documentBundle.entry?.map((e) => e.fullUrl)).toContain(`urn:uuid:${conditionId}`);
  expect(documentReference.subject?.reference).toBe(composition.subject?.reference);
  // The patient's documents are found by patient search.
  const found = await request(app).get(`/fhir/DocumentReference?patient=${(composition.subject?.reference ?? '').split('/')[1] ?? ''}`).set('Authorization', as('gp'));
  expect((JSON.parse(found.text) as Bundle).entry?.map((e) => e.resource?.id)).toEqual([documentReference.id]);
});

test('the status of an accepted bundle is readable by its sender only', async () => {
  const rows = await store.engine.query<{ id: string }>(`SELECT id::text AS id FROM inbox WHERE kind = '${FHIR_INBOX_KIND}' AND source = $1 ORDER BY id LIMIT 1`, [CARE_HOME_SOURCE]);
  const id = rows.rows[0]?.id ?? '';
  const mine = await request(app).get(`/intake/fhir/status/${id}`).set('Authorization', as(CARE_HOME));
  expect(mine.status).toBe(200);
  expect((JSON.parse(mine.text) as Bundle).type).toBe('transaction-response');
  const theirs = await request(app).get(`/intake/fhir/status/${id}`).set('Authorization', as('another-home'));
  expect(theirs.status).toBe(404);
});
