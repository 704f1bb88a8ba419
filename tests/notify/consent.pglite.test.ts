import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CareTeam, Consent, Parameters, Subscription } from '@medplum/fhirtypes';
import { Registry } from 'prom-client';
import request from 'supertest';
import { objectionConsent, sharingConsent } from '../../consent/consent-builders';
import type { Requester } from '../../gateway/access/hooks';
import { parseDirectory } from '../../gateway/auth';
import { loadConfig } from '../../gateway/config';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { createLogger } from '../../gateway/logger';
import { consentNotificationAccess } from '../../gateway/notify/consent-access';
import { startNotifications, type NotifyService } from '../../gateway/notify/service';
import { startGateway, type RunningGateway } from '../../gateway/server';
import type { SqlClient } from '../../gateway/store/engine';
import { Store } from '../../gateway/store/store';
import { ODS_ORGANIZATION_SYSTEM, ONS_LOCAL_AUTHORITY_SYSTEM, sourceTeamSystem } from '../../mappings/identifiers';
import { SIGNING_SECRET_EXTENSION } from '../../mappings/notify/subscription';
import { securityLabels } from '../../mappings/security/labels';
import { eventOf, handshakeAnswered, startReceiver, waitFor, type Receiver } from './receiver';
import { CARE_HOME_ID, COUNCIL, communityTeam, gpSystem, HOSPITAL_SOURCE, notifyApp, person, PRACTICE_ID, recordEvent, stay, subscriptionBody, TEAM_ID, WARD_LOCATION, ward, WORKER_ID } from './world';

/**
 * Notifications decided by the person's own decisions and the Caldicott rules (the check server.ts
 * composes, gateway/notify/consent-access.ts), end to end: Consents in the store, outbox rows as
 * the hospital feed writes them, subscriptions through the HTTP API, delivery to real webhook
 * receivers on loopback (one per recipient, each verifying its own signing secret).
 */

const COUNCIL_ORG = `${ONS_LOCAL_AUTHORITY_SYSTEM}|E09000004`;
const directory = parseDirectory(
  {
    organisations: [
      { id: PRACTICE_ID, name: 'Test practice', kind: 'gp-practice' },
      { id: `${ODS_ORGANIZATION_SYSTEM}|RZZ`, name: 'Test hospital', kind: 'acute-trust' },
      { id: COUNCIL_ORG, name: 'Test council', kind: 'council', teams: [{ id: TEAM_ID, name: 'Community team north' }] },
      { id: CARE_HOME_ID, name: 'Test care home', kind: 'care-home' },
    ],
    systems: [
      { name: 'council-extract', sourceUri: COUNCIL, organisation: COUNCIL_ORG, intake: ['social-care-extract'] },
      { name: 'hospital-pas', sourceUri: HOSPITAL_SOURCE, organisation: `${ODS_ORGANIZATION_SYSTEM}|RZZ`, intake: ['hl7v2'], hl7Senders: ['RZZ|PAS'] },
    ],
  },
  'notify-consent-directory.json',
);

const teamSystem: Requester = { userId: 'council-system', system: 'council-case-system', organisation: COUNCIL_ORG, teams: [TEAM_ID], purposeOfUse: 'TREAT' };
const homeSystem: Requester = { userId: 'home-system', system: 'care-home-records', organisation: CARE_HOME_ID, purposeOfUse: 'TREAT' };
const decided = (patientId: string): { patient: { reference: string }; dateTime: string; decisionMaker: 'person'; source: string } => ({
  patient: { reference: `Patient/${patientId}` },
  dateTime: '2026-11-01',
  decisionMaker: 'person',
  source: COUNCIL,
});

interface WithheldRow {
  encounter_id: string;
  recipient: string;
  reason: string;
  detail: string | null;
}

async function withheldRows(db: SqlClient): Promise<WithheldRow[]> {
  const rows = await db.query<WithheldRow>(
    `SELECT e.encounter_id, w.recipient, w.reason, w.detail FROM notify_withheld w JOIN notify_event e ON e.outbox_id = w.outbox_id ORDER BY e.encounter_id, w.recipient`,
  );
  // Sorted here, not by the database's collation.
  return rows.rows.sort((a, b) => (a.encounter_id + a.recipient < b.encounter_id + b.recipient ? -1 : 1));
}

async function worklistRecipients(db: SqlClient, encounterId: string): Promise<string[]> {
  const rows = await db.query<{ recipient: string }>(`SELECT w.recipient FROM notify_worklist_item w JOIN notify_event e ON e.outbox_id = w.outbox_id WHERE e.encounter_id = $1 ORDER BY w.recipient`, [encounterId]);
  return rows.rows.map((r) => r.recipient).sort();
}

describe('notifications under the person\'s decisions and the Caldicott rules (PGlite, webhook receivers)', () => {
  let store: Store;
  let service: NotifyService;
  let registry: Registry;
  const receivers: Record<'practice' | 'team' | 'home', Receiver | undefined> = { practice: undefined, team: undefined, home: undefined };
  const receiver = (name: keyof typeof receivers): Receiver => receivers[name] as Receiver;

  beforeEach(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    for (const name of Object.keys(receivers) as (keyof typeof receivers)[]) receivers[name] = await startReceiver();
    registry = new Registry();
    service = startNotifications({
      store,
      logger: createLogger('silent'),
      registry,
      runWorkers: true,
      publicBaseUrl: 'https://carebridge.test',
      access: consentNotificationAccess({ directory }),
      dispatchIntervalMs: 20,
      overduePollMs: 100,
      overdueGraceMs: 200,
      controlPollMs: 20,
    });
    await store.upsert([...ward(), WARD_LOCATION]);
  });
  afterEach(async () => {
    await service.close();
    for (const r of Object.values(receivers)) await r?.close();
    await store.close();
  });

  async function subscribe(name: keyof typeof receivers, topic: string, recipient: string, requester: Requester): Promise<Subscription> {
    const res = await request(notifyApp(store, () => requester)).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(subscriptionBody(topic, receiver(name).url, recipient));
    expect(res.status).toBe(201);
    const sub = res.body as Subscription;
    receiver(name).secret = sub.extension?.find((e) => e.url === SIGNING_SECRET_EXTENSION)?.valueString ?? '';
    await handshakeAnswered(receiver(name), store.engine, sub.id ?? '');
    return sub;
  }

  async function withheldStatus(sub: Subscription, requester: Requester): Promise<number | undefined> {
    const res = await request(notifyApp(store, () => requester)).get(`/fhir/Subscription/${sub.id ?? ''}/$status`);
    expect(res.status).toBe(200);
    const status = (res.body as { entry: { resource: Parameters }[] }).entry[0]?.resource;
    return status?.parameter?.find((p) => p.name === 'withheld')?.valueUnsignedInt;
  }

  const focuses = (name: keyof typeof receivers): string[] => receiver(name).accepted().map((r) => eventOf(r).focus.replace('https://carebridge.test/fhir/', '')).sort();

  test('a person who refused sharing with social care: the council team hears nothing of their admission, the practice does', async () => {
    const practiceSub = await subscribe('practice', 'admission', PRACTICE_ID, gpSystem());
    const teamSub = await subscribe('team', 'admission', TEAM_ID, teamSystem);
    const refusal: Consent = sharingConsent({ ...decided('pat-1'), id: 'refuse-social-care-1', recipient: 'social-care', decision: 'refused' });
    await store.upsert([person(1), person(2), communityTeam('pat-1'), communityTeam('pat-2'), refusal, stay('enc-1', 'pat-1'), stay('enc-2', 'pat-2')]);
    await recordEvent(store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
    await recordEvent(store.engine, { kind: 'admission', patientId: 'pat-2', encounterId: 'enc-2', eventTime: '2026-11-23T08:01:00Z' });
    await waitFor(() => receiver('practice').accepted().length === 2 && receiver('team').accepted().length === 1, 15_000, 'the admissions');
    await service.dispatchNow();
    await service.settled();

    expect(focuses('practice')).toEqual(['Encounter/enc-1', 'Encounter/enc-2']);
    expect(focuses('team')).toEqual(['Encounter/enc-2']);
    expect(receiver('team').received.every((r) => r.signatureValid)).toBe(true);
    // Nor is the team (or the co-ordinator's caseload) given a worklist item for the refused person.
    expect(await worklistRecipients(store.engine, 'enc-1')).toEqual([PRACTICE_ID]);
    expect(await worklistRecipients(store.engine, 'enc-2')).toEqual([PRACTICE_ID, TEAM_ID, WORKER_ID].sort());
    // Recorded: who was not told and why, in the decision's words, nothing about the person.
    const withheld = await withheldRows(store.engine);
    expect(withheld.map((w) => [w.encounter_id, w.recipient, w.reason])).toEqual([
      ['enc-1', TEAM_ID, 'denied'],
      ['enc-1', WORKER_ID, 'denied'],
    ]);
    expect(withheld.every((w) => w.detail?.startsWith('denied: the person refused sharing with social-care'))).toBe(true);
    expect(JSON.stringify(withheld)).not.toContain(demoNhsNumber(1));
    expect(JSON.stringify(withheld)).not.toContain('Testperson');
    // The subscription's status says how many it was not sent; the metric counts by reason.
    expect(await withheldStatus(teamSub, teamSystem)).toBe(1);
    expect(await withheldStatus(practiceSub, gpSystem())).toBe(0);
    expect(await registry.metrics()).toContain('carebridge_notify_withheld_total{reason="denied"} 2');
  });

  test('a person who objects to sharing: neither the practice nor the council team is told; someone who does not object still is', async () => {
    await subscribe('practice', 'admission', PRACTICE_ID, gpSystem());
    await subscribe('team', 'admission', TEAM_ID, teamSystem);
    const councilTeam = (patientId: string): CareTeam => ({ ...communityTeam(patientId), meta: { source: COUNCIL } });
    await store.upsert([person(1), person(2), councilTeam('pat-1'), councilTeam('pat-2'), objectionConsent({ ...decided('pat-1'), id: 'objection-1' }), stay('enc-1', 'pat-1'), stay('enc-2', 'pat-2')]);
    await recordEvent(store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
    await recordEvent(store.engine, { kind: 'admission', patientId: 'pat-2', encounterId: 'enc-2', eventTime: '2026-11-23T08:01:00Z' });
    await waitFor(() => receiver('practice').accepted().length === 1 && receiver('team').accepted().length === 1, 15_000, 'the admission of the person who does not object');
    await service.dispatchNow();
    await service.settled();

    expect(focuses('practice')).toEqual(['Encounter/enc-2']);
    expect(focuses('team')).toEqual(['Encounter/enc-2']);
    expect(await worklistRecipients(store.engine, 'enc-1')).toEqual([]);
    // The practice holds none of the person's data: denied. The council holds its care team, not the hospital's stay: withheld by source.
    expect((await withheldRows(store.engine)).map((w) => [w.encounter_id, w.recipient, w.reason])).toEqual([
      ['enc-1', PRACTICE_ID, 'denied'],
      ['enc-1', TEAM_ID, 'source'],
      ['enc-1', WORKER_ID, 'source'],
    ]);
  });

  test('a safeguarding-labelled admission: the care home, not cleared for it, receives nothing; the practice, which is, does', async () => {
    const homeSub = await subscribe('home', 'admission', CARE_HOME_ID, homeSystem);
    await subscribe('practice', 'admission', PRACTICE_ID, gpSystem());
    await store.upsert([
      person(3, { careHome: true }),
      person(4, { careHome: true }),
      stay('enc-3', 'pat-3', { meta: { security: securityLabels(['safeguarding']) } }),
      stay('enc-4', 'pat-4'),
    ]);
    await recordEvent(store.engine, { kind: 'admission', patientId: 'pat-3', encounterId: 'enc-3', eventTime: '2026-11-23T08:00:00Z' });
    await recordEvent(store.engine, { kind: 'admission', patientId: 'pat-4', encounterId: 'enc-4', eventTime: '2026-11-23T08:01:00Z' });
    await waitFor(() => receiver('practice').accepted().length === 2 && receiver('home').accepted().length === 1, 15_000, 'the admissions');
    await service.dispatchNow();
    await service.settled();

    expect(focuses('home')).toEqual(['Encounter/enc-4']);
    expect(focuses('practice')).toEqual(['Encounter/enc-3', 'Encounter/enc-4']);
    expect(await worklistRecipients(store.engine, 'enc-3')).toEqual([PRACTICE_ID]);
    expect((await withheldRows(store.engine)).map((w) => [w.encounter_id, w.recipient, w.reason, w.detail])).toEqual([['enc-3', CARE_HOME_ID, 'label', null]]);
    expect(await withheldStatus(homeSub, homeSystem)).toBe(1);
    expect(await registry.metrics()).toContain('carebridge_notify_withheld_total{reason="label"} 1');
  });
});

describe('the gateway as started decides notifications with the person\'s decisions', () => {
  let dir: string;
  let gateway: RunningGateway;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-notify-consent-'));
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, DEMO_DATA: 'false', LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a refusal of sharing with social care keeps the demo council\'s discharge team from the admission; the demo practice is told', async () => {
    // The demo directory's practice and the council's hospital discharge team (gateway/auth/demo-directory.json).
    const demoTeam = `${sourceTeamSystem('https://social-care.demo-council.invalid/carefirst')}|T-HD`;
    const [teamSystemUri, teamValue] = demoTeam.split('|') as [string, string];
    const careTeam: CareTeam = {
      resourceType: 'CareTeam',
      id: 'ct-demo-1',
      status: 'active',
      subject: { reference: 'Patient/pat-1' },
      participant: [{ member: { reference: 'Organization/t-hd', identifier: { system: teamSystemUri, value: teamValue } } }],
    };
    await gateway.store.upsert([
      ...ward(),
      WARD_LOCATION,
      person(1),
      careTeam,
      sharingConsent({ ...decided('pat-1'), id: 'refuse-social-care-demo', recipient: 'social-care', decision: 'refused' }),
      stay('enc-1', 'pat-1'),
    ]);
    await recordEvent(gateway.store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: new Date().toISOString() });
    await waitFor(async () => (await gateway.store.engine.query(`SELECT 1 FROM notify_event WHERE encounter_id = 'enc-1'`)).rows.length === 1, 20_000, 'the dispatch');
    expect(await worklistRecipients(gateway.store.engine, 'enc-1')).toEqual([PRACTICE_ID]);
    expect((await withheldRows(gateway.store.engine)).map((w) => [w.recipient, w.reason])).toEqual([[demoTeam, 'denied']]);
  });
});
