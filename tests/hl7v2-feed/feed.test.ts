import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Encounter } from '@medplum/fhirtypes';
import request from 'supertest';
import { MllpClient } from '../../adapters/hl7v2/mllp-client';
import { DEFAULT_AUDIENCE } from '../../gateway/auth';
import { devAuthDir, loadOrCreateDevKeyPair, mintToken } from '../../gateway/auth/dev-keys';
import { loadConfig } from '../../gateway/config';
import { createLogger } from '../../gateway/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { listInbox } from '../../gateway/store/inbox';

const FIXTURES = join(__dirname, '..', 'fixtures', 'hl7v2');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, `${name}.hl7`));

/**
 * MSA-1 and MSA-2 of an ACK, and its ERR-3 codes, read as a sender would: leniently (an ACK to
 * garbage has no trigger event to echo, which our strict parser would refuse).
 */
function ackOf(ack: Buffer): { code: string; controlId: string; errors: string[] } {
  const segments = ack.toString('latin1').split('\r').filter(Boolean).map((s) => s.split('|'));
  const msa = segments.find((s) => s[0] === 'MSA') ?? [];
  const errors = segments.filter((s) => s[0] === 'ERR').map((s) => (s[3] ?? '').split('^')[0] ?? '');
  return { code: msa[1] ?? '', controlId: msa[2] ?? '', errors };
}

describe('the hospital feed end to end (MLLP → inbox → worker → FHIR)', () => {
  let dir: string;
  let gateway: RunningGateway;
  let client: MllpClient;
  let baseUrl: string;
  /** Development tokens from the key the gateway created in DATA_DIR (development auth is on outside production). */
  const tokens = { reader: '', admin: '', pas: '' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-feed-'));
    const config = loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, DEMO_DATA: 'false', LOG_LEVEL: 'silent' });
    gateway = await startGateway(config, 'all', createLogger('silent'));
    client = new MllpClient({ host: '127.0.0.1', port: gateway.mllpPort ?? 0, timeoutMs: 10_000 });
    await client.connect();
    baseUrl = `http://127.0.0.1:${String(gateway.httpPort)}`;
    const keys = await loadOrCreateDevKeyPair(devAuthDir(dir));
    const mint = (claims: Record<string, unknown>): Promise<string> => mintToken(keys, claims, { audience: DEFAULT_AUDIENCE, expiresInSeconds: 600 });
    tokens.reader = `Bearer ${await mint({ sub: 'feed-reader', role: 'hospital_clinician', org: 'X9Z' })}`;
    tokens.admin = `Bearer ${await mint({ sub: 'feed-admin', role: 'admin', org: 'X9Z' })}`;
    tokens.pas = `Bearer ${await mint({ sub: 'system:demo-trust-pas', system: 'demo-trust-pas' })}`;
  });
  afterAll(async () => {
    await client.close();
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const applied = async (count: number): Promise<void> => {
    const until = Date.now() + 20_000;
    while ((await listInbox(gateway.store.engine, ['done'], 1000)).length < count) {
      if (Date.now() > until) throw new Error('messages were not applied in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  test('a discharge that arrives before its admission and transfer gives the same finished encounter', async () => {
    // Enhanced mode (MSH-15 AL): the accept ACK is CA once the message is safe in the inbox.
    for (const name of ['adt-a03-discharge', 'adt-a01-admission', 'adt-a02-transfer']) {
      const ack = ackOf(await client.send(fixture(name)));
      expect([ack.code, ack.errors]).toEqual(['CA', []]);
    }
    await applied(3);
    // The patient, with the NHS number the sender traced (PID-32 01), is found by NHS number; the
    // reader (no relationship with this person) opens the record by break-glass, as in an emergency.
    const patients = await request(baseUrl).get('/fhir/Patient').set('Authorization', tokens.reader).query({ identifier: 'https://fhir.nhs.uk/Id/nhs-number|9990000018' });
    expect((patients.body as Bundle).total).toBe(1);
    const patientId = (patients.body as Bundle).entry?.[0]?.resource?.id ?? '';
    const glass = await request(baseUrl).post(`/access/Patient/${patientId}/break-glass`).set('Authorization', tokens.reader).send({ reason: 'Feed test: emergency review' });
    expect(glass.status).toBe(201);
    const search = await request(baseUrl).get('/fhir/Encounter').set('Authorization', tokens.reader).query({ patient: patientId, identifier: 'https://pas.demo-trust.invalid/hl7v2/visit-number|V100001' });
    const encounters = ((search.body as Bundle).entry ?? []).map((e) => e.resource as Encounter);
    expect(encounters.length).toBe(1);
    const encounter = encounters[0] as Encounter;
    expect(encounter.status).toBe('finished');
    expect(encounter.period?.start?.startsWith('2025-07-14T10:25')).toBe(true);
    expect(encounter.period?.end?.startsWith('2025-07-18')).toBe(true);
    expect(encounter.location?.map((l) => [l.location.display, l.status])).toEqual([
      ['Ward 7 Bay 2 Bed 3', 'completed'],
      ['Ward 9 Bed 1', 'completed'],
    ]);
    // Every applied event reaches the outbox; only the discharge changed the current state, since it came first.
    const outbox = await gateway.store.engine.query<{ kind: string; changed: boolean }>(`SELECT kind, (payload->>'changedState')::boolean AS changed FROM outbox ORDER BY kind`);
    expect(outbox.rows.map((r) => [r.kind, r.changed])).toEqual([
      ['admission', false],
      ['discharge', true],
      ['transfer', false],
    ]);
  });

  test("each row's received time is the time the intake mapped it with, so mapping the row again gives the intake's mapping", async () => {
    await applied(1);
    const rows = await gateway.store.engine.query<{ received_at: Date; outcome: { receivedAt?: string } }>(`SELECT received_at, outcome FROM inbox WHERE kind = 'hl7v2' AND status = 'done'`);
    expect(rows.rows.length).toBeGreaterThan(0);
    for (const row of rows.rows) expect(new Date(row.received_at).toISOString()).toBe(row.outcome.receivedAt);
  });

  test('the same message again is acknowledged as before and not applied twice; a reused control id is refused', async () => {
    const before = (await listInbox(gateway.store.engine, ['done', 'pending', 'failed'], 1000)).length;
    const again = ackOf(await client.send(fixture('adt-a01-admission')));
    expect([again.code, again.controlId]).toEqual(['CA', 'A01-0001']);
    expect((await listInbox(gateway.store.engine, ['done', 'pending', 'failed'], 1000)).length).toBe(before);
    const altered = Buffer.from(fixture('adt-a01-admission').toString('latin1').replace('Ada', 'Adeline'), 'latin1');
    const conflict = ackOf(await client.send(altered));
    expect([conflict.code, conflict.errors]).toEqual(['CE', ['205']]);
  });

  test('an unsupported event is rejected (CR) and a message without a patient identifier is an error (CE), both kept, neither applied', async () => {
    const unsupported = ackOf(await client.send(fixture('quirk-unsupported-event')));
    expect([unsupported.code, unsupported.controlId, unsupported.errors]).toEqual(['CR', 'Q-A17-0001', ['201']]);
    const noId = ackOf(await client.send(fixture('quirk-no-patient-identifier')));
    expect([noId.code, noId.errors[0]]).toEqual(['CE', '101']);
    const failed = await listInbox(gateway.store.engine, ['failed'], 100);
    expect(failed.map((f) => f.kind).sort()).toEqual(['hl7v2', 'hl7v2-rejected']);
  });

  test('garbage in a frame still gets exactly one reject, and POST /hl7v2 (a system allowed to send HL7v2) answers with the same ACK as MLLP', async () => {
    const garbage = ackOf(await client.send(Buffer.from('this is not HL7')));
    expect(garbage.code).toBe('AR');
    const anonymous = await request(baseUrl).post('/hl7v2').set('Content-Type', 'x-application/hl7-v2+er7').send(fixture('adt-a08-update').toString('latin1'));
    expect(anonymous.status).toBe(401);
    const person = await request(baseUrl).post('/hl7v2').set('Authorization', tokens.reader).set('Content-Type', 'x-application/hl7-v2+er7').send(fixture('adt-a08-update').toString('latin1'));
    expect(person.status).toBe(403);
    const http = await request(baseUrl).post('/hl7v2').set('Authorization', tokens.pas).set('Content-Type', 'x-application/hl7-v2+er7').send(fixture('adt-a08-update').toString('latin1'));
    expect(http.status).toBe(200);
    expect(ackOf(Buffer.from(http.text, 'latin1')).code).toBe('CA');
    expect((await request(baseUrl).get('/hl7v2/status').set('Authorization', tokens.pas)).status).toBe(403);
    const status = await request(baseUrl).get('/hl7v2/status').set('Authorization', tokens.admin);
    expect((status.body as { senders: { sender: string; received: number }[] }).senders.map((s) => s.sender)).toContain('RZZ|PAS');
  });
});
