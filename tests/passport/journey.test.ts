import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { MllpClient } from '../../adapters/hl7v2/mllp-client';
import { CaldicottAccess } from '../../gateway/access/caldicott-access';
import { GrantKind, recordGrant } from '../../gateway/access/grants';
import type { Requester } from '../../gateway/access/hooks';
import { loadConfig } from '../../gateway/config';
import { samePersonIds } from '../../gateway/identity/resolver';
import { ingestResources } from '../../gateway/ingest/ingest';
import { createLogger } from '../../gateway/logger';
import { PassportService } from '../../gateway/passport/service';
import { PassportKeySet, signerFromPem, type PassportSigner } from '../../gateway/passport/signing';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { listInbox } from '../../gateway/store/inbox';
import { passportView } from '../../mappings/passport/document-view';
import { readTransferForm } from '../../mappings/passport/transfer-form';
import { JOURNEY_MESSAGES } from '../fixtures/passport/journey-messages';
import { GP_PATIENT_ID, residentRecord, SOURCES, TRANSFER_FORM } from '../fixtures/passport/resident';

/**
 * The red bag's whole journey for a realistic resident (tests/fixtures/passport/resident.ts):
 * the care home's transfer form, then the hospital's messages over MLLP (an admission cancelled,
 * admission again, a ward move, pending discharge, discharge, and the discharge summary after it).
 * Every document issued is a golden file (UPDATE_GOLDEN=1 rewrites them), signed with a test key:
 * RS256 is deterministic, so the signatures are golden too.
 */

const GOLDEN = join(__dirname, '..', 'fixtures', 'passport', 'journey');
const KEY = readFileSync(join(__dirname, '..', 'fixtures', 'passport', 'test-signing-key.pem'), 'utf8');

function golden(name: string, actual: unknown): void {
  const file = join(GOLDEN, `${name}.expected.json`);
  const text = `${JSON.stringify(actual, null, 2)}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
  }
  expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}

const careHomeNurse: Requester = { userId: 'ch-nurse-adeyemi', displayName: 'Grace Adeyemi', role: 'care_home_staff', organisation: 'https://carebridge.nhs.uk/Id/cqc-location-id|1-000000001', purposeOfUse: 'TREAT' };
const wardNurse: Requester = { userId: 'ward-nurse-okafor', displayName: 'Sam Okafor', role: 'hospital_clinician', organisation: 'https://fhir.nhs.uk/Id/ods-organization-code|RZZ', purposeOfUse: 'TREAT' };
const volunteer: Requester = { userId: 'vol-kim', role: 'voluntary_sector', organisation: 'https://carebridge.nhs.uk/Id/charity-number|9000001', purposeOfUse: 'TREAT' };

describe('the red bag journey, end to end', () => {
  let dir: string;
  let gateway: RunningGateway;
  let client: MllpClient;
  let service: PassportService;
  let signer: PassportSigner;
  let keys: PassportKeySet;
  let clock = new Date('2026-11-20T02:40:00Z');
  const audited: string[] = [];
  /** Each time the service says journey events are committed: the red bag events in the outbox then. */
  const woken: Promise<string[]>[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-redbag-'));
    process.env['PASSPORT_FOLLOW_SECONDS'] = '0';
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, DEMO_DATA: 'false', LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    client = new MllpClient({ host: '127.0.0.1', port: gateway.mllpPort ?? 0, timeoutMs: 10_000 });
    await client.connect();
    await ingestResources(gateway.store, residentRecord());
    signer = await signerFromPem(KEY);
    keys = await PassportKeySet.from({ signers: [signer] });
    const access = new CaldicottAccess(gateway.store.engine, { now: () => clock });
    const names: Record<string, string> = {
      [SOURCES.GP]: 'Oakfield Lane Surgery',
      [SOURCES.COUNCIL]: 'Example Borough Council',
      [SOURCES.CARE_HOME]: 'Oakfield House Care Home',
      // RZZ|PAS is the demo directory's system demo-trust-pas: its records are kept under that system's source.
      'https://pas.demo-trust.invalid/hl7v2': 'Northfield Hospitals NHS Trust',
    };
    service = new PassportService({
      store: gateway.store,
      signer,
      decide: (requester, patientId) => access.decide({ requester }, patientId),
      audit: (record) => {
        audited.push(`${record.operation} ${record.outcome} ${record.requester.userId}`);
        return Promise.resolve();
      },
      sourceName: (source) => (source ? (names[source] ?? source) : 'unknown'),
      fhirBase: 'https://carebridge.example.invalid/fhir',
      logger: createLogger('silent'),
      onEvents: () => woken.push(redBagEvents()),
      now: () => clock,
      newId: () => '5e0f6f7c-2a3b-4c5d-8e9f-0a1b2c3d4e5f',
    });
  });
  afterAll(async () => {
    await client.close();
    await gateway.close();
    delete process.env['PASSPORT_FOLLOW_SECONDS'];
    rmSync(dir, { recursive: true, force: true });
  });

  const permission = async (who: Requester): Promise<void> => {
    const personIds = await samePersonIds(gateway.store.engine, GP_PATIENT_ID);
    await recordGrant(gateway.store.engine, { kind: GrantKind.PERMISSION_TO_VIEW, requester: who, patientId: GP_PATIENT_ID, personIds, decision: 'given', requestId: 'test', now: clock });
  };
  const send = async (index: number, at: string): Promise<void> => {
    const before = (await listInbox(gateway.store.engine, ['done'], 1000)).length;
    const message = JOURNEY_MESSAGES[index];
    if (!message) throw new Error(`no message ${String(index)}`);
    await client.send(Buffer.from(message.message, 'latin1'));
    const until = Date.now() + 20_000;
    while ((await listInbox(gateway.store.engine, ['done'], 1000)).length <= before) {
      if (Date.now() > until) throw new Error(`${message.name} was not applied`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    clock = new Date(at);
    await service.followAll();
  };
  const bagState = async (): Promise<string> => (await gateway.store.engine.query<{ state: string }>('SELECT state FROM red_bag')).rows.map((r) => r.state).join(',');
  const redBagEvents = async (): Promise<string[]> => (await gateway.store.engine.query<{ kind: string }>(`SELECT kind FROM outbox WHERE kind LIKE 'red-bag-%' ORDER BY id`)).rows.map((r) => r.kind);
  const transferId = async (): Promise<string> => (await gateway.store.engine.query<{ id: string }>(`SELECT id FROM passport WHERE kind = 'transfer-passport'`)).rows[0]?.id ?? '';
  const stored = async (kind: string, version: number): Promise<Bundle> => {
    const rows = await gateway.store.engine.query<{ document: string }>('SELECT document::text AS document FROM passport WHERE kind = $1 AND version = $2', [kind, version]);
    return JSON.parse(rows.rows[0]?.document ?? '{}') as Bundle;
  };
  const rowsOf = (document: Bundle, code: string): string[] => (passportView(document, '0'.repeat(64)).sections.find((s) => s.code === code)?.rows ?? []).map((r) => `${r.label}: ${r.value}`);

  test('the care home fills in the transfer form: a signed transfer passport, the bag sent', async () => {
    const read = readTransferForm(TRANSFER_FORM, clock);
    if ('problems' in read) throw new Error(JSON.stringify(read.problems));
    await expect(service.issueTransfer({ patientId: GP_PATIENT_ID, form: read.form, requester: careHomeNurse, requestId: 't1' })).rejects.toThrow(/resident/i);
    await permission(careHomeNurse);
    const issued = await service.issueTransfer({ patientId: GP_PATIENT_ID, form: read.form, requester: careHomeNurse, requestId: 't1' });
    expect(issued.version).toBe(1);
    const document = await stored('transfer-passport', 1);
    expect(await keys.verify(document)).toMatchObject({ valid: true, kid: signer.kid });
    golden('1-transfer-passport', document);
    expect(passportView(document, '0'.repeat(64)).sections.map((s) => s.title)).toEqual([
      'Person',
      'Reason for transfer',
      'About me',
      'Baseline: how the person usually is',
      'Medications and allergies',
      'Advance care planning and legal decision-makers',
      'Contacts',
      'Current care and support',
      'Items sent with the person',
      'Alerts',
    ]);
    expect(rowsOf(document, 'reason-for-transfer')).toContain('NEWS2 score: 8: High clinical risk: emergency response');
    expect(rowsOf(document, 'medications-allergies').filter((r) => !r.startsWith('Allergy'))).toHaveLength(8);
    expect(rowsOf(document, 'medications-allergies')).toContain('Donepezil 10mg tablets: One tablet at night; last dose given 19 November 2026, 21:00');
    expect(rowsOf(document, 'advance-care-planning')).toContain('Lasting power of attorney (health and welfare): Susan Ellis, 07700 900123');
    expect(rowsOf(document, 'advance-care-planning').some((r) => r.startsWith('DNACPR decision: Do not attempt CPR'))).toBe(true);
    expect(rowsOf(document, 'about-me')).toContain("Diagnosis affecting memory and thinking: Alzheimer's disease");
    expect(rowsOf(document, 'alerts').sort()).toEqual(['Alert: Safeguarding: financial abuse concern under review (synthetic)', 'Safety: High falls risk: two falls in the last six months']);
    expect(await bagState()).toBe('sent');
    expect(await redBagEvents()).toEqual(['red-bag-passport-issued', 'red-bag-sent']);
    // Notifications are woken once the events are committed (server.ts wakes the dispatcher with this).
    expect(await Promise.all(woken)).toEqual([['red-bag-passport-issued', 'red-bag-sent']]);
  });

  test('each reader gets the copy the access rules allow, signed on its own; others get none', async () => {
    const id = await transferId();
    const home = await service.readerDocument({ passportId: id, requester: careHomeNurse, requestId: 'r1' });
    // Care home staff are granted no sensitivities: the safeguarding alert is withheld, and the copy says so.
    expect(home.withheldSections).toEqual(['alerts']);
    expect(home.view.withheldNotice).toMatch(/withheld/);
    expect(home.view.sections.find((s) => s.code === 'alerts')).toMatchObject({ withheld: true, rows: [{ label: 'Safety', value: 'High falls risk: two falls in the last six months' }] });
    expect(JSON.stringify(home.bundle)).not.toContain('financial abuse');
    expect(await keys.verify(home.bundle)).toMatchObject({ valid: true });
    golden('2-transfer-passport-care-home-copy', home.bundle);
    // The ward nurse has no relationship until the person is admitted; a volunteer never sees passports.
    await permission(wardNurse);
    await expect(service.readerDocument({ passportId: id, requester: wardNurse, requestId: 'r2' })).rejects.toThrow(/may not see/);
    await expect(service.readerDocument({ passportId: id, requester: volunteer, requestId: 'r3' })).rejects.toThrow();
    expect(audited.filter((a) => a.startsWith('passport-read'))).toEqual(['passport-read permit ch-nurse-adeyemi', 'passport-read deny ward-nurse-okafor', 'passport-read deny vol-kim']);
  });

  test('admitted, the admission cancelled, admitted again: the bag arrives, steps back, arrives', async () => {
    await send(0, '2026-11-20T03:56:00Z');
    expect(await bagState()).toBe('arrived');
    await send(1, '2026-11-20T04:11:00Z');
    expect(await bagState()).toBe('sent');
    await send(2, '2026-11-20T04:21:00Z');
    expect(await bagState()).toBe('arrived');
    expect((await redBagEvents()).slice(2)).toEqual(['red-bag-received', 'red-bag-cancelled', 'red-bag-received']);
    // Each step the journey took woke notifications with its event already committed.
    expect((await Promise.all(woken)).slice(1).map((events) => events.at(-1))).toEqual(['red-bag-received', 'red-bag-cancelled', 'red-bag-received']);
    // Admitted, the ward nurse's organisation has an open encounter: the hospital's copy shows the safeguarding alert.
    await permission(wardNurse);
    const ward = await service.readerDocument({ passportId: await transferId(), requester: wardNurse, requestId: 'r4' });
    expect(ward.withheldSections).toEqual([]);
    expect(JSON.stringify(ward.bundle)).toContain('financial abuse');
  });

  test('a ward move, then pending discharge with the expected date, then the discharge: a discharge passport', async () => {
    await send(3, '2026-11-21T10:01:00Z');
    expect(await bagState()).toBe('arrived');
    await send(4, '2026-11-24T10:01:00Z');
    expect(await bagState()).toBe('awaiting-discharge');
    const bag = (await gateway.store.engine.query<{ journey: { expectedDischarge?: string } }>('SELECT journey FROM red_bag')).rows[0];
    expect(bag?.journey.expectedDischarge?.startsWith('2026-11-25T11:00')).toBe(true);
    await send(5, '2026-11-25T14:31:00Z');
    expect(await bagState()).toBe('returned');
    expect((await redBagEvents()).slice(5)).toEqual(['red-bag-awaiting-discharge', 'red-bag-returned', 'red-bag-discharge-passport-issued']);
    const document = await stored('discharge-passport', 1);
    expect(await keys.verify(document)).toMatchObject({ valid: true });
    golden('3-discharge-passport', document);
    expect(rowsOf(document, 'admission-discharge')).toEqual(expect.arrayContaining(['Admitted: 20 November 2026, 04:15', 'Discharged: 25 November 2026, 14:30']));
    expect(rowsOf(document, 'diagnoses')).toEqual(expect.arrayContaining([expect.stringMatching(/^Pneumonia, unspecified/)]));
    expect(rowsOf(document, 'medication-changes')).toEqual([expect.stringMatching(/^Discharge medication list: Not received/)]);
    expect(rowsOf(document, 'items-returned')).toContain('Glasses: Sent in the red bag: check it has come back');
  });

  test('the discharge summary after the discharge: a new version that uses it; the first still verifies and is no longer current', async () => {
    await send(6, '2026-11-25T17:01:00Z');
    const versions = (await gateway.store.engine.query<{ version: number; reason: string | null }>(`SELECT version, reason FROM passport WHERE kind = 'discharge-passport' ORDER BY version`)).rows;
    expect(versions.map((v) => [v.version, v.reason])).toEqual([
      [1, null],
      [2, "The hospital's discharge summary arrived after the discharge"],
    ]);
    const document = await stored('discharge-passport', 2);
    golden('4-discharge-passport-v2', document);
    expect(rowsOf(document, 'follow-up-gp')).toEqual(['From the discharge summary: Follow-up: GP review in 2 weeks, repeat chest X-ray in 6 weeks.']);
    expect(rowsOf(document, 'follow-up-care-home')).toEqual(['From the discharge summary: Follow-up: care home to encourage fluids and watch for returning confusion.']);
    const id = (await gateway.store.engine.query<{ id: string }>(`SELECT id FROM passport WHERE kind = 'discharge-passport' LIMIT 1`)).rows[0]?.id ?? '';
    expect(await keys.verify(await stored('discharge-passport', 1))).toMatchObject({ valid: true });
    expect(await service.lookup(`${id}/1`)).toMatchObject({ current: false, version: 1, latestVersion: 2 });
    expect(await service.lookup(`${id}/2`)).toMatchObject({ current: true, version: 2 });
  });

  test('an issued version is never changed: the database refuses', async () => {
    await expect(gateway.store.engine.query(`UPDATE passport SET reason = 'tampered'`)).rejects.toThrow(/never changed/);
    await expect(gateway.store.engine.query(`DELETE FROM passport`)).rejects.toThrow(/never changed/);
  });

  test("the care home's form is the care home's own source in the record", async () => {
    const rows = await gateway.store.engine.query<{ resource_type: string }>(`SELECT DISTINCT resource_type FROM resource WHERE content->'meta'->>'source' = $1 ORDER BY resource_type`, [SOURCES.CARE_HOME]);
    expect(rows.rows.map((r) => r.resource_type)).toEqual(['List', 'MedicationAdministration', 'Observation', 'QuestionnaireResponse', 'ServiceRequest']);
  });
});
