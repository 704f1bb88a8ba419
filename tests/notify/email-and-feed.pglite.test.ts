import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Subscription } from '@medplum/fhirtypes';
import { SMTPServer } from 'smtp-server';
import request from 'supertest';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { hl7InboxHandler } from '../../gateway/hl7v2/apply';
import { HL7_INBOX_KIND } from '../../gateway/hl7v2/intake';
import { senderDirectory } from '../../gateway/hl7v2/senders';
import { processInboxItem } from '../../gateway/ingest/inbox-processor';
import { ingestResources } from '../../gateway/ingest/ingest';
import { createLogger } from '../../gateway/logger';
import { createMailer } from '../../gateway/notify/email';
import { startNotifications, type NotifyService } from '../../gateway/notify/service';
import { acceptIntoInbox } from '../../gateway/store/inbox';
import { Store } from '../../gateway/store/store';
import { ODS_ORGANIZATION_SYSTEM } from '../../mappings/identifiers';
import { SIGNING_SECRET_EXTENSION } from '../../mappings/notify/subscription';
import { sourcePatient } from '../support/synthetic';
import { eventOf, handshakeAnswered, startReceiver, waitFor, type Receiver } from './receiver';
import { gpSystem, notifyApp, PRACTICE_ID, person, recordEvent, stay, subscriptionBody } from './world';

/** The e-mail channel against a real local SMTP server, and the whole path from an HL7 message to a webhook. */

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

async function startSmtp(): Promise<{ port: number; mails: Mail[]; close: () => Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disableReverseLookup: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the e-mail channel', () => {
  test('an e-mail subscription gets a message that says only what happened and links to the record', async () => {
    loadFhirDefinitions();
    const smtp = await startSmtp();
    const store = await Store.open({});
    await store.migrate();
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${String(smtp.port)}`, from: 'CareBridge <notifications@carebridge.test>' });
    const service = startNotifications({ store, logger: createLogger('silent'), runWorkers: true, publicBaseUrl: 'https://carebridge.test', mailer, dispatchIntervalMs: 20 });
    try {
      await store.upsert([person(1), stay('enc-1', 'pat-1')]);
      const app = notifyApp(store, () => gpSystem(), { emailEnabled: true });
      const created = await request(app).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(subscriptionBody('admission', 'mailto:practice.y90001@nhs.net'));
      expect(created.status).toBe(201);
      await recordEvent(store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await waitFor(() => smtp.mails.length === 1, 15_000, 'the e-mail');
      const [mail] = smtp.mails;
      // Quoted-printable soft line breaks undone, so the text reads as sent.
      const text = (mail?.raw ?? '').replace(/=\r?\n/g, '');
      expect(mail?.to).toEqual(['practice.y90001@nhs.net']);
      expect(mail?.from).toBe('notifications@carebridge.test');
      expect(text).toContain('Subject: CareBridge: admission for one of your patients or residents');
      expect(text).toContain('Open the record (sign-in required): https://carebridge.test/fhir/Patient/pat-1');
      expect(text.toLowerCase()).toContain(`x-carebridge-idempotency-key: ${(created.body as Subscription).id ?? ''}-1`);
      expect(text).not.toContain('Testperson');
      expect(text).not.toContain('Ward');
      expect(text).not.toContain(person(1).identifier?.[0]?.value ?? 'no number');
      await waitFor(async () => (await store.engine.query(`SELECT 1 FROM notify_delivery WHERE status = 'delivered'`)).rows.length === 1, 5_000, 'delivered');
    } finally {
      await service.close();
      await store.close();
      await smtp.close();
    }
  });
});

describe('from the hospital feed to the practice', () => {
  let store: Store;
  let receiver: Receiver;
  let service: NotifyService;
  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    receiver = await startReceiver();
    service = startNotifications({ store, logger: createLogger('silent'), runWorkers: true, publicBaseUrl: 'https://carebridge.test', dispatchIntervalMs: 20, controlPollMs: 20 });
  });
  afterAll(async () => {
    await service.close();
    await receiver.close();
    await store.close();
  });

  test('an A01 applied by the feed reaches the practice named in PD1, found through the Organization it refers to', async () => {
    const app = notifyApp(store, () => gpSystem());
    const sub = await request(app).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(subscriptionBody('admission', receiver.url));
    receiver.secret = (sub.body as Subscription).extension?.find((e) => e.url === SIGNING_SECRET_EXTENSION)?.valueString ?? '';
    await handshakeAnswered(receiver, store.engine, (sub.body as Subscription).id ?? '');
    const message = readFileSync(join(__dirname, '..', 'fixtures', 'hl7v2', 'adt-a01-admission.hl7'));
    const accepted = await acceptIntoInbox(store.engine, { source: 'RZZ|PAS', kind: HL7_INBOX_KIND, dedupKey: 'A01-0001', content: message });
    const senders = senderDirectory({ 'RZZ|PAS': { source: 'https://pas.northfield-trust.invalid/hl7v2', timeZone: 'Europe/London', nhsNumberVerified: true } });
    expect(await processInboxItem(store, accepted.item.id, { [HL7_INBOX_KIND]: hl7InboxHandler(senders) })).toBe('done');
    await waitFor(() => receiver.accepted().length === 1, 15_000, 'the admission from the feed');
    const got = receiver.received[0]!;
    expect(got.signatureValid).toBe(true);
    expect(eventOf(got).kind).toBe('admission');
    expect(eventOf(got).focus).toMatch(/^https:\/\/carebridge\.test\/fhir\/Encounter\/[0-9a-f-]{36}$/);
    const event = await store.engine.query<{ hospital: string; ward: string; expected: Date }>(`SELECT hospital, ward, expected_discharge AS expected FROM notify_event`);
    expect([event.rows[0]?.hospital, event.rows[0]?.ward, new Date(event.rows[0]!.expected).toISOString()]).toEqual(['RZZ', 'WARD7', '2025-07-21T00:00:00.000Z']);
  });

  test('the practice known only from another source\'s record of the same person is told', async () => {
    // The hospital's record names no GP; the GP system's record of the same person (same verified NHS number) does.
    const nhs = '9990000042';
    const hospital = sourcePatient('hosp-42', 'https://pas.example.invalid', nhs, { verified: true });
    const gp = { ...sourcePatient('gp-42', 'https://gp.example.invalid', nhs, { verified: true }), generalPractitioner: [{ reference: 'Organization/p', identifier: { system: ODS_ORGANIZATION_SYSTEM, value: PRACTICE_ID.split('|')[1] as string } }] };
    await ingestResources(store, [hospital, gp]);
    await store.upsert([stay('enc-42', 'hosp-42')]);
    const before = receiver.accepted().length;
    await recordEvent(store.engine, { kind: 'admission', patientId: 'hosp-42', encounterId: 'enc-42', eventTime: '2026-11-23T08:00:00Z' });
    await waitFor(() => receiver.accepted().length === before + 1, 15_000, 'the linked person\'s admission');
    expect(eventOf(receiver.accepted()[before]!).focus).toBe('https://carebridge.test/fhir/Encounter/enc-42');
  });
});
