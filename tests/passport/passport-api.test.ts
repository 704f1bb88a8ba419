import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Composition, OperationOutcome } from '@medplum/fhirtypes';
import type { JWK } from 'jose';
import request, { type Response } from 'supertest';
import { MllpClient } from '../../adapters/hl7v2/mllp-client';
import { DEFAULT_AUDIENCE } from '../../gateway/auth';
import { devAuthDir, loadOrCreateDevKeyPair, mintToken } from '../../gateway/auth/dev-keys';
import { loadConfig } from '../../gateway/config';
import { ingestResources } from '../../gateway/ingest/ingest';
import { createLogger } from '../../gateway/logger';
import { PassportKeySet, signerFromPem } from '../../gateway/passport/signing';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { listInbox } from '../../gateway/store/inbox';
import { SECTION_WITHHELD_EXTENSION } from '../../mappings/passport/codes';
import { JOURNEY_MESSAGES } from '../fixtures/passport/journey-messages';
import { GP_PATIENT_ID, RESIDENT, residentRecord, SOURCES, TRANSFER_FORM } from '../fixtures/passport/resident';
import { readPdfText } from './read-pdf-text';

/**
 * The passport API over HTTP against the real gateway (startGateway: PGlite in DATA_DIR, the real
 * Caldicott access, the hash-chained audit trail, MLLP): bearer tokens minted with the development
 * key the gateway trusts, the passport signed with the test key (PASSPORT_SIGNING_KEY), and a
 * directory that adds Northfield Hospitals (ODS RZZ, the sender of the journey's HL7) to the demo
 * directory so its ward nurse can sign in. The person is Margaret ELLIS (synthetic,
 * tests/fixtures/passport/resident.ts). The tests run in order: they follow one red bag.
 */

const FIXTURES = join(__dirname, '..', 'fixtures', 'passport');
const KEY_FILE = join(FIXTURES, 'test-signing-key.pem');
const DEMO_DIRECTORY = join(__dirname, '..', '..', 'gateway', 'auth', 'demo-directory.json');
const CARE_HOME = 'https://carebridge.nhs.uk/Id/cqc-location-id|1-000000001';
const HOSPITAL = 'https://fhir.nhs.uk/Id/ods-organization-code|RZZ';
const GP_PRACTICE = `https://fhir.nhs.uk/Id/ods-organization-code|${RESIDENT.gpOds}`;

/** What must never reach someone who is not signed in: who the person is and anything about their care. */
const PERSONAL = ['Ellis', 'Margaret', 'Peggy', RESIDENT.nhsNumber, '999 000 0018', RESIDENT.birthDate, '12 April 1938', 'penicillin', 'Donepezil', 'Metformin', 'Alzheimer', 'DNACPR', 'breathless', 'financial abuse', 'falls'];
const expectNothingPersonal = (text: string): void => {
  const lower = text.toLowerCase();
  expect(PERSONAL.filter((p) => lower.includes(p.toLowerCase()))).toEqual([]);
};

/** An instant `minutes` before now, as the form takes it (the API checks the form against the real clock). */
const minutesAgo = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** HL7 TS with an explicit offset, so the sender's time zone does not matter. */
const hl7Time = (date: Date): string => `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}+0000`;

/** The care home's form of tests/fixtures/passport/resident.ts, filled in tonight. */
const tonightsForm = (): Record<string, unknown> => ({
  ...TRANSFER_FORM,
  unwellSince: minutesAgo(7 * 60),
  decidedAt: minutesAgo(10),
  observations: { ...TRANSFER_FORM.observations, takenAt: minutesAgo(25) },
  lastDoses: [
    { medication: 'Donepezil 10mg tablets', givenAt: minutesAgo(5 * 60) },
    { medication: 'Metformin 500mg tablets', givenAt: minutesAgo(8 * 60) },
  ],
});

const binary = (res: Response, callback: (err: Error | null, body: Buffer) => void): void => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
};

describe('the passport API over HTTP', () => {
  let dir: string;
  let gateway: RunningGateway;
  let client: MllpClient;
  let baseUrl: string;
  let keys: PassportKeySet;
  let signingKid: string;
  const auth = { careHomeNurse: '', wardNurse: '', gp: '', socialWorker: '' };
  /** What the nurse's transfer gave back. */
  let issued: { redBagId: string; passportId: string; version: number; fingerprint: string; document: string };
  /** The care home nurse's copy as FHIR JSON, and the fingerprint its printed page carries. */
  let homeCopy: Bundle;
  let homeCopyText: string;
  let printedFingerprint: string;

  const api = (): request.Agent => request.agent(baseUrl);
  const permissionToView = async (authorization: string): Promise<void> => {
    const res = await api().post(`/access/Patient/${GP_PATIENT_ID}/permission-to-view`).set('Authorization', authorization).send({ decision: 'given' });
    expect(res.status).toBe(201);
  };
  const count = async (sql: string, params: unknown[] = []): Promise<number> => (await gateway.store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]?.n ?? -1;
  const passportAudit = async (userId: string): Promise<{ interaction: string; outcome: string; patient_ids: string[]; event: string }[]> =>
    (await gateway.store.engine.query<{ interaction: string; outcome: string; patient_ids: string[]; event: string }>(`SELECT interaction, outcome, patient_ids, event::text AS event FROM audit_event WHERE user_id = $1 AND interaction LIKE 'passport-%' ORDER BY seq`, [userId])).rows;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-passport-api-'));
    const directory = JSON.parse(readFileSync(DEMO_DIRECTORY, 'utf8')) as { organisations: unknown[] };
    directory.organisations.push({ id: HOSPITAL, name: 'Northfield Hospitals NHS Trust (fictional)', kind: 'acute-trust', phone: '01000 000099' });
    writeFileSync(join(dir, 'directory.json'), JSON.stringify(directory));
    process.env['PASSPORT_FOLLOW_SECONDS'] = '0';
    process.env['PASSPORT_SIGNING_KEY'] = KEY_FILE;
    process.env['DIRECTORY_FILE'] = join(dir, 'directory.json');
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, DEMO_DATA: 'false', LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    baseUrl = `http://127.0.0.1:${String(gateway.httpPort)}`;
    client = new MllpClient({ host: '127.0.0.1', port: gateway.mllpPort ?? 0, timeoutMs: 10_000 });
    await client.connect();
    await ingestResources(gateway.store, residentRecord());
    const signer = await signerFromPem(readFileSync(KEY_FILE, 'utf8'));
    signingKid = signer.kid;
    keys = await PassportKeySet.from({ signers: [signer] });
    const devKeys = await loadOrCreateDevKeyPair(devAuthDir(dir));
    const bearer = async (claims: Record<string, unknown>): Promise<string> => `Bearer ${await mintToken(devKeys, claims, { audience: DEFAULT_AUDIENCE, expiresInSeconds: 3600 })}`;
    auth.careHomeNurse = await bearer({ sub: 'ch-nurse-adeyemi', name: 'Grace Adeyemi', role: 'care_home_staff', org: CARE_HOME });
    auth.wardNurse = await bearer({ sub: 'ward-nurse-okafor', name: 'Sam Okafor', role: 'hospital_clinician', org: HOSPITAL });
    auth.gp = await bearer({ sub: 'gp-rahman', name: 'Aisha Rahman', role: 'gp', org: GP_PRACTICE });
    auth.socialWorker = await bearer({ sub: 'sw-reid', name: 'Tom Reid', role: 'social_worker', org: 'https://carebridge.nhs.uk/Id/ons-local-authority-code|E09000004' });
  });
  afterAll(async () => {
    await client.close();
    await gateway.close();
    delete process.env['PASSPORT_FOLLOW_SECONDS'];
    delete process.env['PASSPORT_SIGNING_KEY'];
    delete process.env['DIRECTORY_FILE'];
    rmSync(dir, { recursive: true, force: true });
  });

  test('without a bearer token the passport API answers 401; the public keys need none', async () => {
    expect((await api().get(`/passport/Patient/${GP_PATIENT_ID}`)).status).toBe(401);
    expect((await api().post(`/passport/Patient/${GP_PATIENT_ID}/transfer`).send(tonightsForm())).status).toBe(401);
    expect((await api().get('/passport/jwks.json')).status).toBe(200);
  });

  test('a care home nurse who has not recorded permission to view in this session is told to, with 403, and nothing is issued', async () => {
    const res = await api().post(`/passport/Patient/${GP_PATIENT_ID}/transfer`).set('Authorization', auth.careHomeNurse).send(tonightsForm());
    expect([res.status, (res.body as OperationOutcome).issue[0]?.code, (res.body as OperationOutcome).issue[0]?.details?.text]).toEqual([403, 'forbidden', 'Record whether the resident gave permission to view their record first']);
    expect(await count('passport')).toBe(0);
  });

  test('a bad form is refused with 400 and an OperationOutcome naming each bad field; nothing is issued or recorded', async () => {
    await permissionToView(auth.careHomeNurse);
    const careHomeData = await count(`resource WHERE content->'meta'->>'source' = $1`, [SOURCES.CARE_HOME]);
    const form = {
      ...tonightsForm(),
      reason: '  ',
      unwellSince: new Date(Date.now() + 3 * 3_600_000).toISOString(),
      decidedAt: 'last night',
      observations: { ...TRANSFER_FORM.observations, takenAt: minutesAgo(25), spo2Scale: 3, respiratoryRate: 400 },
      itemsSent: ['glasses', 'umbrella'],
    };
    const res = await api().post(`/passport/Patient/${GP_PATIENT_ID}/transfer`).set('Authorization', auth.careHomeNurse).send(form);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const outcome = res.body as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue.map((i) => [i.severity, i.code, i.expression?.[0], i.details?.text])).toEqual([
      ['error', 'invalid', 'reason', 'reason is required'],
      ['error', 'invalid', 'unwellSince', 'unwellSince is in the future'],
      ['error', 'invalid', 'decidedAt', 'decidedAt must be a date and time with a time zone, e.g. 2026-11-20T02:40:00Z'],
      ['error', 'invalid', 'observations.spo2Scale', 'observations.spo2Scale must be 1 or 2'],
      ['error', 'invalid', 'observations.respiratoryRate', 'observations.respiratoryRate must be between 0 and 80'],
      ['error', 'invalid', 'itemsSent[1]', expect.stringMatching(/^itemsSent\[1\] must be one of medication, glasses, /)],
    ]);
    expect(await count('passport')).toBe(0);
    expect(await count('red_bag')).toBe(0);
    expect(await count(`outbox WHERE kind LIKE 'red-bag-%'`)).toBe(0);
    expect(await count(`resource WHERE content->'meta'->>'source' = $1`, [SOURCES.CARE_HOME])).toBe(careHomeData);
    // Only the refusal of the test before (no permission to view): a form that is not read reaches no one's record.
    expect((await passportAudit('ch-nurse-adeyemi')).map((a) => [a.interaction, a.outcome])).toEqual([['passport-issue', 'deny']]);
  });

  test('only care home staff fill in the transfer form: the GP (who may see the record) and the ward nurse get 403', async () => {
    await permissionToView(auth.gp);
    for (const authorization of [auth.gp, auth.wardNurse]) {
      const res = await api().post(`/passport/Patient/${GP_PATIENT_ID}/transfer`).set('Authorization', authorization).send(tonightsForm());
      expect([res.status, (res.body as OperationOutcome).issue[0]?.code, (res.body as OperationOutcome).issue[0]?.details?.text]).toEqual([403, 'forbidden', 'Only care home staff fill in the transfer form, for their own residents']);
    }
    expect(await count('passport')).toBe(0);
    // Each refusal is audited, with why.
    for (const user of ['gp-rahman', 'ward-nurse-okafor']) {
      const refused = await passportAudit(user);
      expect(refused.map((a) => [a.interaction, a.outcome, a.patient_ids])).toEqual([['passport-issue', 'deny', [GP_PATIENT_ID]]]);
      expect(refused[0]?.event).toContain('not care home staff');
    }
  });

  test('a care home nurse issues the transfer: 201, where the document is, and a signed version 1 recorded and audited', async () => {
    const res = await api().post(`/passport/Patient/${GP_PATIENT_ID}/transfer`).set('Authorization', auth.careHomeNurse).send(tonightsForm());
    expect(res.status).toBe(201);
    issued = res.body as typeof issued;
    expect(Object.keys(issued).sort()).toEqual(['document', 'fingerprint', 'passportId', 'redBagId', 'version']);
    expect(issued.version).toBe(1);
    expect(issued.passportId).toMatch(/^[0-9a-f-]{36}$/);
    expect(issued.redBagId).toMatch(/^[0-9a-f-]{36}$/);
    expect(issued.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(issued.document).toBe(`/passport/${issued.passportId}/1`);
    expect(res.headers['location']).toBe(issued.document);
    const stored = (await gateway.store.engine.query<{ kind: string; version: number; fingerprint: string; issued_by_user: string; red_bag_id: string }>('SELECT kind, version, fingerprint, issued_by_user, red_bag_id FROM passport')).rows;
    expect(stored).toEqual([{ kind: 'transfer-passport', version: 1, fingerprint: issued.fingerprint, issued_by_user: 'ch-nurse-adeyemi', red_bag_id: issued.redBagId }]);
    expect((await gateway.store.engine.query<{ state: string }>('SELECT state FROM red_bag')).rows).toEqual([{ state: 'sent' }]);
    expect((await passportAudit('ch-nurse-adeyemi')).map((a) => [a.interaction, a.outcome, a.patient_ids])).toEqual([['passport-issue', 'deny', [GP_PATIENT_ID]], ['passport-issue', 'permit', [GP_PATIENT_ID]]]);
  });

  test('someone with no relationship (the ward nurse before admission) cannot read it: 403, audited as a denied passport read', async () => {
    await permissionToView(auth.wardNurse);
    for (const path of [`/passport/${issued.passportId}`, `/passport/${issued.passportId}/1`, `/passport/${issued.passportId}/1/html`, `/passport/${issued.passportId}/1/pdf`]) {
      const res = await api().get(path).set('Authorization', auth.wardNurse);
      expect([path, res.status, (res.body as OperationOutcome).issue[0]?.code]).toEqual([path, 403, 'forbidden']);
      expectNothingPersonal(res.text);
    }
    const audit = (await passportAudit('ward-nurse-okafor')).filter((a) => a.interaction === 'passport-read');
    expect(audit.map((a) => [a.interaction, a.outcome, a.patient_ids])).toEqual(Array.from({ length: 4 }, () => ['passport-read', 'deny', [GP_PATIENT_ID]]));
    expect(audit[0]?.event).toContain('passports are not shown to this role without a relationship');
    // A role whose table has no passport category (a social worker of the council, with no allocation here) is refused too.
    await permissionToView(auth.socialWorker);
    expect((await api().get(`/passport/${issued.passportId}/1`).set('Authorization', auth.socialWorker)).status).toBe(403);
    // The list of the person's bags is refused too, and audited: no journey, no versions.
    const bags = await api().get(`/passport/Patient/${GP_PATIENT_ID}`).set('Authorization', auth.wardNurse);
    expect([bags.status, (bags.body as OperationOutcome).issue[0]?.code]).toEqual([403, 'forbidden']);
    expectNothingPersonal(bags.text);
    expect((await passportAudit('ward-nurse-okafor')).filter((a) => a.interaction === 'passport-read')).toHaveLength(5);
  });

  test('the care home nurse reads the document as FHIR JSON: a signed document Bundle, Composition first, the safeguarding alert withheld and said so', async () => {
    const res = await api().get(`/passport/${issued.passportId}/1`).set('Authorization', auth.careHomeNurse);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-passport-latest-version']).toBe('1');
    homeCopyText = res.text;
    homeCopy = JSON.parse(res.text) as Bundle;
    expect(homeCopy.resourceType).toBe('Bundle');
    expect(homeCopy.type).toBe('document');
    const composition = homeCopy.entry?.[0]?.resource as Composition;
    expect(composition.resourceType).toBe('Composition');
    expect(composition.title).toBe('Hospital transfer passport');
    expect(homeCopy.signature?.sigFormat).toBe('application/jose');
    expect(Buffer.from(homeCopy.signature?.data ?? '', 'base64').toString('utf8')).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(await keys.verify(homeCopy)).toMatchObject({ valid: true, kid: signingKid });
    // The home's copy is signed on its own: not the issued version's fingerprint.
    const verified = await keys.verify(homeCopy);
    expect(verified.fingerprint).not.toBe(issued.fingerprint);
    // Care home staff are granted no sensitivities: the safeguarding alert is withheld, the falls alert is not.
    expect(homeCopyText).not.toContain('financial abuse');
    expect(homeCopyText).toContain('High falls risk: two falls in the last six months');
    expect(homeCopyText).toContain('Donepezil 10mg tablets');
    expect([homeCopyText.includes(RESIDENT.nhsNumber), homeCopyText.includes(RESIDENT.birthDate)]).toEqual([true, true]);
    const alerts = composition.section?.find((s) => s.code?.coding?.[0]?.code === 'alerts');
    expect(alerts?.extension?.some((e) => e.url === SECTION_WITHHELD_EXTENSION)).toBe(true);
    // Without a version, the latest: the same copy.
    const latest = await api().get(`/passport/${issued.passportId}`).set('Authorization', auth.careHomeNurse);
    expect(JSON.parse(latest.text)).toEqual(homeCopy);
  });

  test('the same copy as a printable page (HTML) carrying its verification link', async () => {
    const res = await api().get(`/passport/${issued.passportId}/1/html`).set('Authorization', auth.careHomeNurse);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toMatch(/^<!DOCTYPE html>/i);
    expect(res.text).toContain('Hospital transfer passport');
    // The signed-in reader's page shows who the person is and their care (so the public pages' absence checks mean something), less what is withheld.
    const lower = res.text.toLowerCase();
    // The page prints the NHS number spaced and the date of birth in words; the JSON carries them as stored.
    expect(PERSONAL.filter((p) => !lower.includes(p.toLowerCase()))).toEqual([RESIDENT.nhsNumber, RESIDENT.birthDate, 'financial abuse']);
    const link = /\/passport\/verify\?id=([\w.-]+)&(?:amp;)?v=1&(?:amp;)?h=([0-9a-f]{16})/.exec(res.text);
    expect(link?.[1]).toBe(issued.passportId);
    printedFingerprint = link?.[2] ?? '';
    expect(printedFingerprint).toBe((await keys.verify(homeCopy)).fingerprint?.slice(0, 16));
  });

  test('the same copy as a PDF', async () => {
    const res = await api().get(`/passport/${issued.passportId}/1/pdf`).set('Authorization', auth.careHomeNurse).buffer(true).parse(binary);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(`inline; filename="passport-${issued.passportId.slice(0, 8)}-v1.pdf"`);
    const pdf = res.body as Buffer;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = readPdfText(pdf).pages.join('');
    expect(text).toContain('Hospital transfer passport');
    expect(text).toContain('Donepezil 10mg tablets');
    expect(text).not.toContain('financial abuse');
    expect(text).toContain(printedFingerprint);
  });

  test('POST /passport/verify (public): valid for the document issued, with nothing about the person', async () => {
    const res = await api().post('/passport/verify').set('Content-Type', 'application/fhir+json').send(homeCopyText);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      authentic: true,
      unchanged: true,
      signedAt: expect.any(String),
      signer: 'CareBridge shared care record (passport signing key)',
      kid: signingKid,
      title: 'Hospital transfer passport',
      fingerprint: (await keys.verify(homeCopy)).fingerprint,
      current: true,
      version: 1,
      latestVersion: 1,
      issuedAt: homeCopy.signature?.when,
      issuedBy: 'Oakfield House Care Home (fictional)',
    });
    expectNothingPersonal(res.text);
  });

  test('POST /passport/verify: one character changed (a dose, a digit of the NHS number) is not authentic, and the answer says nothing about the person', async () => {
    const medicine = homeCopyText.indexOf('Donepezil 10mg');
    const when = homeCopyText.indexOf(homeCopy.signature?.when ?? '~');
    expect([medicine > 0, when > 0]).toEqual([true, true]);
    const changes: [string, string][] = [
      ['a medicine', `${homeCopyText.slice(0, medicine)}Donepezil 20mg${homeCopyText.slice(medicine + 'Donepezil 10mg'.length)}`],
      ['the NHS number', homeCopyText.replace(RESIDENT.nhsNumber, '9990000019')],
    ];
    for (const [what, text] of changes) {
      const differing = Array.from({ length: text.length }, (_, i) => i).filter((i) => text.charCodeAt(i) !== homeCopyText.charCodeAt(i));
      expect([what, text.length, differing.length]).toEqual([what, homeCopyText.length, 1]);
      const res = await api().post('/passport/verify').set('Content-Type', 'application/fhir+json').send(text);
      expect([what, res.status, res.body.authentic, res.body.unchanged, res.body.reason]).toEqual([what, 200, false, false, 'the signature does not match the content: the document was changed after it was signed, or the signature was']);
      expect(res.body.current).toBeUndefined();
      expectNothingPersonal(res.text);
    }
    const notADocument = await api().post('/passport/verify').send({ resourceType: 'Patient', name: [{ family: 'Ellis' }] });
    expect(notADocument.status).toBe(400);
    expectNothingPersonal(notADocument.text);
  });

  test('GET /passport/verify (the page the QR code opens, public): authentic and current, and nothing about the person; a changed fingerprint is not found', async () => {
    const page = await api().get('/passport/verify').query({ id: issued.passportId, v: '1', h: printedFingerprint });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<h1>Authentic passport</h1>');
    expect(page.text).toContain('It is the current version.');
    expect(page.text).toContain('Hospital transfer passport, version 1');
    expect(page.text).toContain('for Oakfield House Care Home (fictional) through CareBridge, as a copy for care home staff');
    expectNothingPersonal(page.text);
    const last = printedFingerprint.at(-1) === '0' ? '1' : '0';
    const altered = await api().get('/passport/verify').query({ id: issued.passportId, v: '1', h: `${printedFingerprint.slice(0, -1)}${last}` });
    expect(altered.status).toBe(404);
    expect(altered.text).toContain('Not a passport CareBridge issued');
    expectNothingPersonal(altered.text);
    const incomplete = await api().get('/passport/verify').query({ id: issued.passportId, v: '1' });
    expect(incomplete.status).toBe(400);
  });

  test('GET /passport/jwks.json (public): the signing key\'s kid, the public key only', async () => {
    const res = await api().get('/passport/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    const jwks = res.body as { keys: JWK[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual([signingKid]);
    const [key] = jwks.keys;
    expect(Object.keys(key ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect([key?.d, key?.p, key?.q, key?.dp, key?.dq, key?.qi]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(res.text).not.toMatch(/"(d|p|q|dp|dq|qi)":/);
    // Anyone can verify offline with it.
    expect(await (await PassportKeySet.fromJwks(jwks.keys)).verify(homeCopy)).toMatchObject({ valid: true, kid: signingKid });
  });

  test('GET /passport/Patient/{id}: the bag as sent, then arrived after the hospital\'s HL7 admission; the ward nurse may now read the whole passport', async () => {
    const before = await api().get(`/passport/Patient/${GP_PATIENT_ID}`).set('Authorization', auth.careHomeNurse);
    expect(before.status).toBe(200);
    const sent = (before.body as { redBags: { id: string; state: string; careHome: string; journey: { state: string }[]; passports: unknown[] }[] }).redBags;
    expect(sent.map((b) => [b.id, b.state, b.careHome, b.journey.map((s) => s.state)])).toEqual([[issued.redBagId, 'sent', 'Oakfield House Care Home (fictional)', ['sent']]]);
    expect(sent[0]?.passports).toEqual([{ id: issued.passportId, version: 1, kind: 'transfer-passport', issuedAt: homeCopy.signature?.when, issuedBy: 'Oakfield House Care Home (fictional)', document: issued.document }]);

    // The fixture's admission (A01, Northfield PAS), timed now: the bag arrives within its window.
    const fixture = JOURNEY_MESSAGES.find((m) => m.name === 'A01 admission');
    expect(fixture).toBeDefined();
    const admission = (fixture?.message ?? '').replaceAll('20261120042000', hl7Time(new Date())).replaceAll('20261120041500', hl7Time(new Date(Date.now() - 5 * 60_000)));
    const applied = (await listInbox(gateway.store.engine, ['done'], 1000)).length;
    await client.send(Buffer.from(admission, 'latin1'));
    const until = Date.now() + 20_000;
    while ((await listInbox(gateway.store.engine, ['done'], 1000)).length <= applied) {
      if (Date.now() > until) throw new Error('the admission was not applied');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await gateway.passports?.followAll();

    const after = await api().get(`/passport/Patient/${GP_PATIENT_ID}`).set('Authorization', auth.careHomeNurse);
    const arrived = (after.body as { redBags: { state: string; encounter?: string; journey: { state: string; encounterId?: string }[] }[] }).redBags;
    expect(arrived.map((b) => [b.state, b.journey.map((s) => s.state)])).toEqual([['arrived', ['sent', 'arrived']]]);
    expect(arrived[0]?.encounter).toBe(`Encounter/${arrived[0]?.journey[1]?.encounterId ?? '?'}`);
    expect((await gateway.store.engine.query<{ kind: string }>(`SELECT kind FROM outbox WHERE kind LIKE 'red-bag-%' ORDER BY id`)).rows.map((r) => r.kind)).toEqual(['red-bag-passport-issued', 'red-bag-sent', 'red-bag-received']);

    // Admitted, the hospital has an open encounter: the ward nurse sees the bag and the whole passport, safeguarding alert included.
    const wardBags = await api().get(`/passport/Patient/${GP_PATIENT_ID}`).set('Authorization', auth.wardNurse);
    expect((wardBags.body as { redBags: { state: string }[] }).redBags.map((b) => b.state)).toEqual(['arrived']);
    const ward = await api().get(`/passport/${issued.passportId}/1`).set('Authorization', auth.wardNurse);
    expect(ward.status).toBe(200);
    expect(ward.text).toContain('financial abuse');
    expect(await keys.verify(JSON.parse(ward.text))).toMatchObject({ valid: true, fingerprint: issued.fingerprint });
    expect((await passportAudit('ward-nurse-okafor')).map((a) => a.outcome).at(-1)).toBe('permit');
  });

  test('a passport showing very restricted content (the safeguarding alert) alerts the privacy officer, once per reader and person in 8 hours, as a read of the alert in the record would; a copy without it does not', async () => {
    const alerts = async (): Promise<string[][]> =>
      (await gateway.store.engine.query<{ user_id: string; patient_id: string }>(`SELECT user_id, patient_id FROM audit_alert WHERE kind = 'very-restricted-access' ORDER BY raised_at`)).rows.map((r) => [r.user_id, r.patient_id]);
    const [passportPatient] = (await gateway.store.engine.query<{ patient_id: string }>('SELECT patient_id FROM passport WHERE id = $1', [issued.passportId])).rows;
    // The ward nurse read it whole in the test before: one alert. The care home nurse's copies withheld it: none for her.
    expect(await alerts()).toEqual([['ward-nurse-okafor', passportPatient?.patient_id]]);
    expect((await api().get(`/passport/${issued.passportId}/1`).set('Authorization', auth.careHomeNurse)).status).toBe(200);
    // Read again within 8 hours: still the one alert to review.
    expect((await api().get(`/passport/${issued.passportId}/1`).set('Authorization', auth.wardNurse)).status).toBe(200);
    expect(await alerts()).toEqual([['ward-nurse-okafor', passportPatient?.patient_id]]);
  });
});
