import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, BundleEntry, Composition, Encounter, Resource } from '@medplum/fhirtypes';
import { MllpClient } from '../../adapters/hl7v2/mllp-client';
import { demoDirectory } from '../../gateway/auth/authenticator';
import { CaldicottAccess } from '../../gateway/access/caldicott-access';
import { loadConfig } from '../../gateway/config';
import { FhirIntake } from '../../gateway/fhir-intake/intake';
import { ingestResources } from '../../gateway/ingest/ingest';
import { createLogger } from '../../gateway/logger';
import { PassportService } from '../../gateway/passport/service';
import { signerFromPem } from '../../gateway/passport/signing';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { listInbox } from '../../gateway/store/inbox';
import { careHomeSource } from '../../mappings/passport/codes';
import { passportView } from '../../mappings/passport/document-view';
import { readTransferForm, transferFormResources } from '../../mappings/passport/transfer-form';
import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';
import { JOURNEY_MESSAGES } from '../fixtures/passport/journey-messages';
import { RESIDENT, residentRecord, TRANSFER_FORM } from '../fixtures/passport/resident';

/**
 * The red bag through the FHIR intake: a care home's own record system sends the transfer request
 * (the same FHIR the viewer's form records: a ServiceRequest of category hospital-transfer, its
 * observations, doses, items sent and answers), and a hospital's eDischarge system sends the
 * discharge summary as a FHIR document after the HL7 discharge. Through the real FhirIntake (the
 * HTTP route is tested in tests/fhir-intake) and the real feed over MLLP.
 */

const KEY = readFileSync(join(__dirname, '..', 'fixtures', 'passport', 'test-signing-key.pem'), 'utf8');
const CARE_HOME_SYSTEM = { system: 'demo-care-home-records', sourceUri: 'https://records.oakfield-care.invalid/fhir' };
const GP_SYSTEM = { system: 'demo-gp-system', sourceUri: 'https://gp.demo.invalid/fhir' };
const EDISCHARGE = { system: 'northfield-edischarge', sourceUri: 'https://edischarge.northfield.invalid/fhir' };
const CARE_HOME = { identifier: { system: 'https://carebridge.nhs.uk/Id/cqc-location-id', value: RESIDENT.cqc }, display: 'Oakfield House Care Home (fictional)' };

/** The care home system's Bundle: its Patient (with the NHS number) and the transfer request, as it would send them. */
function transferBundle(identifier: string, patientFullUrl = 'urn:uuid:0b6c1f3e-0000-4000-8000-000000000001'): Bundle {
  const read = readTransferForm(TRANSFER_FORM, new Date('2026-11-20T02:40:00Z'));
  if (!('form' in read)) throw new Error('fixture form is invalid');
  const resources = transferFormResources(read.form, { patient: { reference: 'Patient/ellis' }, careHome: CARE_HOME, source: careHomeSource(RESIDENT.cqc), transferKey: identifier, recordedBy: 'Grace Adeyemi' });
  const patient: Resource = {
    resourceType: 'Patient', id: 'ellis',
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: RESIDENT.nhsNumber }], name: [{ family: 'Ellis', given: ['Margaret'] }], birthDate: '1938-04-12', gender: 'female',
  };
  const entries: BundleEntry[] = [patient, ...resources].map((r) => {
    const { meta: _meta, ...resource } = r;
    const text = JSON.stringify(resource).replaceAll('"reference":"Patient/ellis"', `"reference":"${patientFullUrl}"`);
    return { fullUrl: r.resourceType === 'Patient' ? patientFullUrl : `urn:uuid:${r.resourceType}-${r.id ?? ''}`.toLowerCase(), resource: JSON.parse(text) as Resource, request: { method: 'PUT', url: `${r.resourceType}/${r.id ?? ''}` } };
  });
  return { resourceType: 'Bundle', type: 'transaction', identifier: { system: 'https://records.oakfield-care.invalid/transfers', value: identifier }, entry: entries };
}

/** The hospital's eDischarge document: Composition first, its own Encounter carrying the PAS visit number. */
function dischargeDocument(visit: { system: string; value: string }, encounter = 'urn:uuid:8f0e0000-0000-4000-8000-0000000000bb'): Bundle {
  const patient = 'urn:uuid:8f0e0000-0000-4000-8000-0000000000aa';
  const heading = (code: string, display: string, text: string): NonNullable<Composition['section']>[number] => ({
    title: display, code: { coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-RecordStandardHeadings', code, display }] },
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${text}</p></div>` },
  });
  const composition: Composition = {
    resourceType: 'Composition', id: 'ds-1', status: 'final', date: '2026-11-25T18:00:00Z', title: 'Discharge summary', author: [{ display: 'Dr Daniel Okoro, Ward 7' }],
    type: { coding: [{ system: 'http://snomed.info/sct', code: '373942005', display: 'Discharge summary' }] },
    subject: { reference: patient }, encounter: { reference: encounter },
    section: [
      heading('clinical-summary', 'Clinical summary', 'Treated for community acquired pneumonia with doxycycline (penicillin allergy); delirium resolved by day 4.'),
      heading('plan-and-requested-actions', 'Plan and requested actions', 'Care home to encourage fluids and watch for returning confusion.'),
    ],
  };
  return {
    resourceType: 'Bundle', type: 'document', identifier: { system: 'https://edischarge.northfield.invalid/documents', value: 'DS-9001' }, timestamp: '2026-11-25T18:00:00Z',
    entry: [
      { fullUrl: 'urn:uuid:8f0e0000-0000-4000-8000-0000000000cc', resource: composition },
      { fullUrl: patient, resource: { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: RESIDENT.nhsNumber }], name: [{ family: 'Ellis', given: ['Margaret'] }], birthDate: '1938-04-12', gender: 'female' } },
      { fullUrl: encounter, resource: { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' }, identifier: [visit], subject: { reference: patient } } },
    ],
  };
}

describe('the red bag through the FHIR intake', () => {
  let dir: string;
  let gateway: RunningGateway;
  let client: MllpClient;
  let service: PassportService;
  let intake: FhirIntake;
  let clock = new Date('2026-11-20T02:40:00Z');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-redbag-fhir-'));
    process.env['PASSPORT_FOLLOW_SECONDS'] = '0';
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, DEMO_DATA: 'false', LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    client = new MllpClient({ host: '127.0.0.1', port: gateway.mllpPort ?? 0, timeoutMs: 10_000 });
    await client.connect();
    await ingestResources(gateway.store, residentRecord());
    intake = new FhirIntake({ store: gateway.store, logger: createLogger('silent') });
    const access = new CaldicottAccess(gateway.store.engine, { now: () => clock });
    const directory = demoDirectory();
    service = new PassportService({
      store: gateway.store,
      signer: await signerFromPem(KEY),
      decide: (requester, patientId) => access.decide({ requester }, patientId),
      audit: () => Promise.resolve(),
      sourceName: (source) => source ?? 'unknown',
      sourceOrganisation: (source) => directory.systems.find((s) => s.sourceUri === source)?.organisation,
      fhirBase: 'https://carebridge.example.invalid/fhir',
      logger: createLogger('silent'),
      now: () => clock,
    });
  });
  afterAll(async () => {
    await client.close();
    await gateway.close();
    delete process.env['PASSPORT_FOLLOW_SECONDS'];
    rmSync(dir, { recursive: true, force: true });
  });

  const send = async (index: number, at: string): Promise<void> => {
    const before = (await listInbox(gateway.store.engine, ['done'], 1000)).length;
    await client.send(Buffer.from(JOURNEY_MESSAGES[index]?.message ?? '', 'latin1'));
    const until = Date.now() + 20_000;
    while ((await listInbox(gateway.store.engine, ['done'], 1000)).length <= before) {
      if (Date.now() > until) throw new Error(`message ${String(index)} was not applied`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    clock = new Date(at);
    await service.followAll();
  };
  const passports = async (): Promise<{ kind: string; version: number; issued_by_user: string; document: string }[]> =>
    (await gateway.store.engine.query<{ kind: string; version: number; issued_by_user: string; document: string }>('SELECT kind, version, issued_by_user, document::text AS document FROM passport ORDER BY kind DESC, version')).rows;
  const rowsOf = (document: string, code: string): string[] => (passportView(JSON.parse(document) as Bundle, '0'.repeat(64)).sections.find((s) => s.code === code)?.rows ?? []).map((r) => `${r.label}: ${r.value}`);

  test("a transfer request from a system that is not the resident's care home (her GP's) is kept in the record but issues no passport", async () => {
    const answer = await intake.receive(Buffer.from(JSON.stringify(transferBundle('T-OTHER', 'urn:uuid:0b6c1f3e-0000-4000-8000-0000000000ff'))), GP_SYSTEM);
    expect(answer.status).toBe(200);
    await service.followAll();
    expect(await passports()).toEqual([]);
    const kept = await gateway.store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource WHERE resource_type = 'ServiceRequest' AND content::text LIKE '%hospital-transfer%'`);
    expect(kept.rows[0]?.n).toBe(1);
  });

  test("the care home's system sends the transfer request: a signed transfer passport under the home, with its SBAR and observations", async () => {
    const answer = await intake.receive(Buffer.from(JSON.stringify(transferBundle('T-0001'))), CARE_HOME_SYSTEM);
    expect(answer.status).toBe(200);
    const events = await gateway.store.engine.query<{ kind: string }>(`SELECT kind FROM outbox WHERE kind = 'red-bag-transfer-requested'`);
    expect(events.rows).toHaveLength(2);
    await service.followAll();
    const issued = await passports();
    expect(issued.map((p) => [p.kind, p.version, p.issued_by_user])).toEqual([['transfer-passport', 1, `system:${CARE_HOME_SYSTEM.sourceUri}`]]);
    const doc = issued[0]?.document ?? '';
    expect(rowsOf(doc, 'reason-for-transfer')).toEqual(expect.arrayContaining(['Reason for transfer: Increasing breathlessness and new confusion overnight', 'NEWS2 score: 8: High clinical risk: emergency response']));
    expect(JSON.parse(doc)).toMatchObject({ resourceType: 'Bundle', type: 'document', signature: { sigFormat: 'application/jose' } });
    expect((await gateway.store.engine.query<{ state: string; care_home: string }>('SELECT state, care_home FROM red_bag')).rows).toEqual([{ state: 'sent', care_home: `https://carebridge.nhs.uk/Id/cqc-location-id|${RESIDENT.cqc}` }]);

    // The same Bundle again (a retry) writes nothing and issues nothing.
    expect((await intake.receive(Buffer.from(JSON.stringify(transferBundle('T-0001'))), CARE_HOME_SYSTEM)).status).toBe(200);
    await service.followAll();
    expect(await passports()).toHaveLength(1);
  });

  test('after the HL7 discharge, the eDischarge document for the same visit makes discharge passport version 2, which uses it', async () => {
    await send(2, '2026-11-20T04:30:00Z');
    await send(5, '2026-11-25T14:31:00Z');
    expect((await passports()).map((p) => [p.kind, p.version])).toEqual([['transfer-passport', 1], ['discharge-passport', 1]]);
    const stay = (await gateway.store.engine.query<{ content: string }>(`SELECT content::text AS content FROM resource WHERE resource_type = 'Encounter'`)).rows.map((r) => JSON.parse(r.content) as Encounter).find((e) => e.status === 'finished');
    const visit = stay?.identifier?.find((i) => i.system?.endsWith('/visit-number'));
    expect(visit?.value).toBe('V7000002');

    // A summary for another visit is not this stay's.
    clock = new Date('2026-11-25T18:01:00Z');
    const other = dischargeDocument({ system: visit?.system ?? '', value: 'V0000001' }, 'urn:uuid:8f0e0000-0000-4000-8000-0000000000dd');
    other.identifier = { system: 'https://edischarge.northfield.invalid/documents', value: 'DS-OTHER' };
    (other.entry?.[0]?.resource as Composition).id = 'ds-other';
    expect((await intake.receive(Buffer.from(JSON.stringify(other)), EDISCHARGE)).status).toBe(200);
    await service.followAll();
    expect(await passports()).toHaveLength(2);

    expect((await intake.receive(Buffer.from(JSON.stringify(dischargeDocument({ system: visit?.system ?? '', value: visit?.value ?? '' }))), EDISCHARGE)).status).toBe(200);
    await service.followAll();
    const all = await passports();
    expect(all.map((p) => [p.kind, p.version])).toEqual([['transfer-passport', 1], ['discharge-passport', 1], ['discharge-passport', 2]]);
    const v2 = all[2]?.document ?? '';
    expect(rowsOf(v2, 'what-was-done').join('\n')).toContain('Treated for community acquired pneumonia with doxycycline');
    expect(rowsOf(v2, 'follow-up-care-home').join('\n')).toContain('Care home to encourage fluids and watch for returning confusion.');
    expect(rowsOf(all[1]?.document ?? '', 'what-was-done').join('\n')).not.toContain('doxycycline');
  });
});
