import type { Bundle, Parameters, Subscription } from '@medplum/fhirtypes';
import request from 'supertest';
import { Registry } from 'prom-client';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { createLogger } from '../../gateway/logger';
import { redeliver, listDeadDeliveries } from '../../gateway/notify/dead-letters';
import { sendDueControls } from '../../gateway/notify/control';
import { startNotifications, type NotifyService } from '../../gateway/notify/service';
import { verifySignature } from '../../gateway/notify/webhook';
import { type Store } from '../../gateway/store/store';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { securityLabels } from '../../mappings/security/labels';
import { SIGNING_SECRET_EXTENSION } from '../../mappings/notify/subscription';
import { eventOf, handshakeAnswered, notificationOf, startReceiver, waitFor, type Receiver } from './receiver';
import { communityTeam, gpSystem, notifyApp, OTHER_PRACTICE_ID, person, PRACTICE_ID, recordEvent, stay, subscriptionBody, subscriptionStatus, TEAM_ID, WARD_LOCATION, ward, WORKER_ID } from './world';

/**
 * Notifications end to end, run on each engine (delivery.pglite.test.ts, delivery.postgres.int.test.ts):
 * outbox rows as the hospital feed writes them, subscriptions created through the HTTP API, delivery
 * to a real webhook receiver on loopback. Retries are fast here (50 ms base) so failures play out
 * within a test.
 */

export interface OpenedStore {
  readonly store: Store;
  drop(): Promise<void>;
}

const RETRY = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 };

interface World {
  store: Store;
  drop: () => Promise<void>;
  receiver: Receiver;
  service: NotifyService;
  registry: Registry;
  app: ReturnType<typeof notifyApp>;
}

async function world(open: () => Promise<OpenedStore>): Promise<World> {
  loadFhirDefinitions();
  const { store, drop } = await open();
  await store.migrate();
  const receiver = await startReceiver();
  const registry = new Registry();
  const service = startNotifications({
    store,
    logger: createLogger('silent'),
    registry,
    runWorkers: true,
    publicBaseUrl: 'https://carebridge.test',
    retry: RETRY,
    dispatchIntervalMs: 20,
    overduePollMs: 100,
    overdueGraceMs: 200,
    controlPollMs: 20,
  });
  return { store, drop, receiver, service, registry, app: notifyApp(store, () => gpSystem()) };
}

async function close(w: World): Promise<void> {
  await w.service.close();
  await w.receiver.close();
  await w.store.close();
  await w.drop();
}

async function subscribe(w: World, topic: string, recipient = PRACTICE_ID, requester = gpSystem(), timeoutSeconds = 10): Promise<Subscription> {
  const app = notifyApp(w.store, () => requester);
  const res = await request(app).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(subscriptionBody(topic, w.receiver.url, recipient, {}, timeoutSeconds));
  expect(res.status).toBe(201);
  const sub = res.body as Subscription;
  w.receiver.secret = sub.extension?.find((e) => e.url === SIGNING_SECRET_EXTENSION)?.valueString ?? '';
  await handshakeAnswered(w.receiver, w.store.engine, sub.id ?? '');
  return sub;
}


const isHandshake = (b: Bundle): boolean => ((b.entry?.[0]?.resource as Parameters).parameter ?? []).some((p) => p.name === 'type' && p.valueCode === 'handshake');

async function deliveryStatuses(w: World): Promise<string[]> {
  const rows = await w.store.engine.query<{ status: string }>(`SELECT status FROM notify_delivery ORDER BY id`);
  return rows.rows.map((r) => r.status);
}

export function deliverySuite(engine: string, open: () => Promise<OpenedStore>): void {
  describe(`notifications to a webhook receiver (${engine})`, () => {
    let w: World;
    beforeEach(async () => {
      w = await world(open);
      await w.store.upsert([...ward(), WARD_LOCATION, person(1), person(2), communityTeam('pat-1')]);
    });
    afterEach(async () => {
      await close(w);
    });

    test('an admission reaches the practice once, signed, id-only, with its idempotency key and event number', async () => {
      const sub = await subscribe(w, 'admission');
      await w.store.upsert([stay('enc-1', 'pat-1')]);
      await recordEvent(w.store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await waitFor(() => w.receiver.accepted().length === 1, 15_000, 'the admission');
      await w.service.settled();
      const [got] = w.receiver.received;
      expect(got?.signatureValid).toBe(true);
      expect(got?.headers['x-carebridge-idempotency-key']).toBe(`${sub.id ?? ''}-1`);
      expect(got?.headers['x-carebridge-event-number']).toBe('1');
      expect(eventOf(got!)).toEqual({ number: 1, kind: 'admission', focus: 'https://carebridge.test/fhir/Encounter/enc-1', topic: 'https://carebridge.nhs.uk/fhir/SubscriptionTopic/admission' });
      const bundle = got!.bundle;
      expect(bundle.type).toBe('history');
      expect(bundle.entry?.map((e) => e.fullUrl)).toEqual([expect.stringMatching(/^urn:uuid:/), 'https://carebridge.test/fhir/Encounter/enc-1', 'https://carebridge.test/fhir/Patient/pat-1']);
      // Nothing about the person travels: no name, no NHS number, no resource content.
      const text = got!.body.toString('utf8');
      expect(text).not.toContain('Testperson');
      expect(text).not.toContain(demoNhsNumber(1));
      expect(bundle.entry?.slice(1).every((e) => e.resource === undefined)).toBe(true);
      // A tampered body fails the receiver's check.
      expect(verifySignature(w.receiver.secret, Buffer.from(text.replace('enc-1', 'enc-9')), got?.headers['x-carebridge-signature'] as string)).toBe(false);
      expect(verifySignature('another-secret-another-secret-another', got!.body, got?.headers['x-carebridge-signature'] as string)).toBe(false);
      expect(await deliveryStatuses(w)).toEqual(['delivered']);
    });

    test('a new rest-hook subscription is sent a signed handshake first; an event waits for it and goes once it is answered', async () => {
      w.receiver.script({ status: 503, when: isHandshake });
      const res = await request(w.app).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(subscriptionBody('admission', w.receiver.url));
      expect(res.status).toBe(201);
      const sub = res.body as Subscription;
      expect(sub.status).toBe('requested');
      const secret = sub.extension?.find((e) => e.url === SIGNING_SECRET_EXTENSION)?.valueString ?? '';
      await w.store.upsert([stay('enc-1', 'pat-1')]);
      await recordEvent(w.store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await waitFor(() => w.receiver.accepted().some((r) => notificationOf(r).type === 'event-notification'), 15_000, 'the admission after the handshake');
      expect(w.receiver.received.map((r) => [notificationOf(r).type, r.answered])).toEqual([
        ['handshake', 503],
        ['handshake', 200],
        ['event-notification', 200],
      ]);
      const [first, second] = w.receiver.received;
      for (const r of [first!, second!]) {
        expect(verifySignature(secret, r.body, r.headers['x-carebridge-signature'] as string)).toBe(true);
        expect(r.headers['x-carebridge-idempotency-key']).toBe(`${sub.id ?? ''}-handshake`);
        expect(r.headers['x-carebridge-event-number']).toBeUndefined();
        // (events-since-subscription-start counts the admission once it is dispatched, which may be before either attempt.)
        expect([notificationOf(r).type, notificationOf(r).subscription]).toEqual(['handshake', `https://carebridge.test/fhir/Subscription/${sub.id ?? ''}`]);
        // Only the status: no event, no reference to anyone's record.
        expect(r.bundle.entry?.length).toBe(1);
        expect(((r.bundle.entry?.[0]?.resource as Parameters).parameter ?? []).map((p) => p.name)).toEqual(['subscription', 'topic', 'status', 'type', 'events-since-subscription-start']);
      }
      expect(eventOf(w.receiver.received[2]!).number).toBe(1);
      await waitFor(async () => (await deliveryStatuses(w))[0] === 'delivered', 5_000, 'the delivered row');
      expect(await subscriptionStatus(w.store.engine, sub.id ?? '')).toBe('active');
    });

    test('a handshake never answered leaves the subscription in error; its events are still tried, and the first delivered makes it active', async () => {
      w.receiver.script({ status: 500, when: isHandshake }, { status: 500, when: isHandshake }, { status: 500, when: isHandshake });
      const res = await request(w.app).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(subscriptionBody('admission', w.receiver.url));
      const id = (res.body as Subscription).id ?? '';
      await waitFor(async () => (await subscriptionStatus(w.store.engine, id)) === 'error', 15_000, 'the failed handshake');
      expect(w.receiver.received.map((r) => [notificationOf(r).type, r.answered])).toEqual([
        ['handshake', 500],
        ['handshake', 500],
        ['handshake', 500],
      ]);
      const status = await request(w.app).get(`/fhir/Subscription/${id}/$status`);
      const params = ((status.body as Bundle).entry?.[0]?.resource as Parameters).parameter ?? [];
      expect(params.find((p) => p.name === 'status')?.valueCode).toBe('error');
      expect(params.find((p) => p.name === 'error')?.valueCodeableConcept?.text).toBe('handshake: HTTP 500');
      // No more handshakes once it has given up.
      await w.service.settled();
      expect(w.receiver.received.length).toBe(3);
      // Counted on /metrics once the round that gave up has finished.
      await waitFor(async () => (await w.registry.metrics()).includes('carebridge_notify_subscription_checks_total{type="handshake",outcome="failed"} 3'), 5_000, 'the failed handshakes counted');

      await w.store.upsert([stay('enc-1', 'pat-1')]);
      await recordEvent(w.store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await waitFor(() => w.receiver.accepted().length === 1, 15_000, 'the admission');
      expect(notificationOf(w.receiver.accepted()[0]!).type).toBe('event-notification');
      await waitFor(async () => (await subscriptionStatus(w.store.engine, id)) === 'active', 5_000, 'the subscription active again');
    });

    test('a subscription that asked for heartbeats is sent one after each quiet period, and none before', async () => {
      const extra = { channel: { ...(subscriptionBody('admission', w.receiver.url).channel as Record<string, unknown>), extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period', valueUnsignedInt: 60 }] } };
      const res = await request(w.app).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(subscriptionBody('admission', w.receiver.url, PRACTICE_ID, extra));
      expect(res.status).toBe(201);
      const sub = res.body as Subscription;
      expect(sub.channel.extension?.find((e) => e.url.endsWith('/backport-heartbeat-period'))?.valueUnsignedInt).toBe(60);
      w.receiver.secret = sub.extension?.find((e) => e.url === SIGNING_SECRET_EXTENSION)?.valueString ?? '';
      await handshakeAnswered(w.receiver, w.store.engine, sub.id ?? '');
      const controls = (ahead: number): ReturnType<typeof sendDueControls> =>
        sendDueControls({ engine: w.store.engine, logger: createLogger('silent'), retry: RETRY, fhirBase: 'https://carebridge.test/fhir', now: () => new Date(Date.now() + ahead) });
      expect(await controls(30_000)).toEqual({ handshakes: 0, heartbeats: 0, failedHandshakes: 0, failedHeartbeats: 0, released: [] });
      expect(await controls(61_000)).toEqual({ handshakes: 0, heartbeats: 1, failedHandshakes: 0, failedHeartbeats: 0, released: [] });
      // The heartbeat counts as the last notification: the next is a period after it.
      expect((await controls(100_000)).heartbeats).toBe(0);
      expect((await controls(122_000)).heartbeats).toBe(1);
      expect(w.receiver.received.map((r) => [notificationOf(r).type, notificationOf(r).eventsSinceStart, r.signatureValid, r.answered])).toEqual([
        ['heartbeat', '0', true, 200],
        ['heartbeat', '0', true, 200],
      ]);
      const keys = w.receiver.received.map((r) => r.headers['x-carebridge-idempotency-key']);
      expect(new Set(keys).size).toBe(2);
    });

    test('a receiver failing twice gets the notification on the third attempt, with the same idempotency key each time', async () => {
      await subscribe(w, 'discharge');
      w.receiver.script(500, 503);
      await w.store.upsert([stay('enc-1', 'pat-1', { status: 'finished' })]);
      await recordEvent(w.store.engine, { kind: 'discharge', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await waitFor(() => w.receiver.accepted().length === 1, 15_000, 'the retried discharge');
      expect(w.receiver.received.map((r) => r.answered)).toEqual([500, 503, 200]);
      expect(new Set(w.receiver.received.map((r) => r.headers['x-carebridge-idempotency-key'])).size).toBe(1);
      expect(w.receiver.received.every((r) => r.signatureValid)).toBe(true);
      await waitFor(async () => (await deliveryStatuses(w))[0] === 'delivered', 5_000, 'the delivered row');
    });

    test('a receiver that does not answer within the timeout is tried again', async () => {
      await subscribe(w, 'admission', PRACTICE_ID, gpSystem(), 2);
      w.receiver.script({ status: 200, delayMs: 6_000 });
      await w.store.upsert([stay('enc-1', 'pat-1')]);
      await recordEvent(w.store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await waitFor(() => w.receiver.accepted().length === 1, 15_000, 'the admission after a timeout');
      expect(w.receiver.received.map((r) => r.answered)).toEqual(['timeout', 200]);
      const row = await w.store.engine.query<{ attempts: number }>(`SELECT attempts FROM notify_delivery`);
      expect(row.rows[0]?.attempts).toBe(2);
    });

    test('after the last attempt the delivery is dead and the subscription in error; redelivery sends it and clears the error', async () => {
      const sub = await subscribe(w, 'admission');
      w.receiver.script(500, 500, 500);
      await w.store.upsert([stay('enc-1', 'pat-1')]);
      await recordEvent(w.store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await waitFor(async () => (await deliveryStatuses(w))[0] === 'dead', 15_000, 'the dead letter');
      expect(w.receiver.received.length).toBe(3);
      const dead = await listDeadDeliveries(w.store.engine);
      expect(dead.map((d) => [d.subscriptionId, d.kind, d.attempts, d.lastError])).toEqual([[sub.id, 'admission', 3, 'HTTP 500']]);
      const status = await request(w.app).get(`/fhir/Subscription/${sub.id ?? ''}/$status`);
      expect(status.status).toBe(200);
      const params = ((status.body as Bundle).entry?.[0]?.resource as Parameters).parameter ?? [];
      const value = (name: string): unknown => {
        const p = params.find((x) => x.name === name);
        return p?.valueCode ?? p?.valueUnsignedInt ?? p?.valueString;
      };
      expect([value('status'), value('type'), value('events-since-subscription-start'), value('backlog'), value('dead-letters')]).toEqual(['error', 'query-status', '1', 0, 1]);

      expect(await redeliver(w.store.engine, 'all-dead')).toEqual([dead[0]?.id]);
      await waitFor(() => w.receiver.accepted().length === 1, 15_000, 'the redelivery');
      expect(eventOf(w.receiver.accepted()[0]!).number).toBe(1);
      await waitFor(async () => (await deliveryStatuses(w))[0] === 'delivered', 5_000, 'the delivered row');
      const after = await request(w.app).get(`/fhir/Subscription/${sub.id ?? ''}`);
      expect((after.body as Subscription).status).toBe('active');
    });

    test('one person\'s failing notification holds back nobody else\'s', async () => {
      // Same receiver, two subscriptions: pat-1's admission fails twice; the ordering is per subscription and person.
      await subscribe(w, 'admission');
      await subscribe(w, 'discharge');
      const isPat1Admission = (b: Bundle): boolean => JSON.stringify(b).includes('Encounter/enc-1') && JSON.stringify(b).includes('SubscriptionTopic/admission');
      w.receiver.script({ status: 500, when: isPat1Admission }, { status: 500, when: isPat1Admission });
      await w.store.upsert([stay('enc-1', 'pat-1'), stay('enc-2', 'pat-2')]);
      await recordEvent(w.store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await recordEvent(w.store.engine, { kind: 'admission', patientId: 'pat-2', encounterId: 'enc-2', eventTime: '2026-11-23T08:05:00Z' });
      await recordEvent(w.store.engine, { kind: 'discharge', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T09:00:00Z' });
      await waitFor(() => w.receiver.accepted().length === 3, 15_000, 'three notifications');
      const seen = w.receiver.received.map((r) => `${eventOf(r).focus.replace('https://carebridge.test/fhir/', '')} ${eventOf(r).kind} ${String(r.answered)}`);
      // pat-2's admission went while pat-1's was failing.
      expect(seen.indexOf('Encounter/enc-2 admission 200')).toBeLessThan(seen.indexOf('Encounter/enc-1 admission 200'));
      // The admission and discharge subscriptions are separate lanes; within the admission lane pat-1 saw 500, 500, 200.
      expect(seen.filter((s) => s.startsWith('Encounter/enc-1 admission'))).toEqual(['Encounter/enc-1 admission 500', 'Encounter/enc-1 admission 500', 'Encounter/enc-1 admission 200']);
    });

    test('within one subscription a person\'s later event never overtakes an earlier one that is failing', async () => {
      // A cancellation subscription receives every cancellation kind: two for pat-1 in order, the first failing twice.
      await subscribe(w, 'cancellation');
      const first = (b: Bundle): boolean => JSON.stringify(b).includes('cancel-transfer');
      w.receiver.script({ status: 500, when: first }, { status: 503, when: first });
      await w.store.upsert([stay('enc-1', 'pat-1')]);
      await recordEvent(w.store.engine, { kind: 'cancel-transfer', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await recordEvent(w.store.engine, { kind: 'cancel-discharge', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T09:00:00Z' });
      await waitFor(() => w.receiver.accepted().length === 2, 15_000, 'both cancellations');
      expect(w.receiver.received.map((r) => [eventOf(r).kind, eventOf(r).number, r.answered])).toEqual([
        ['cancel-transfer', 1, 500],
        ['cancel-transfer', 1, 503],
        ['cancel-transfer', 1, 200],
        ['cancel-discharge', 2, 200],
      ]);
    });

    test('a restricted encounter produces no notification and no worklist item; an unrestricted one does', async () => {
      await subscribe(w, 'admission');
      await w.store.upsert([stay('enc-r', 'pat-1', { meta: { security: securityLabels([], 'R') } }), stay('enc-2', 'pat-2')]);
      await recordEvent(w.store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-r', eventTime: '2026-11-23T08:00:00Z' });
      await recordEvent(w.store.engine, { kind: 'admission', patientId: 'pat-2', encounterId: 'enc-2', eventTime: '2026-11-23T08:01:00Z' });
      await waitFor(() => w.receiver.accepted().length === 1, 15_000, 'the unrestricted admission');
      await w.service.dispatchNow();
      await w.service.settled();
      expect(w.receiver.received.map((r) => eventOf(r).focus)).toEqual(['https://carebridge.test/fhir/Encounter/enc-2']);
      const events = await w.store.engine.query<{ encounter_id: string; restricted: boolean; recipients: string[]; items: number }>(
        `SELECT e.encounter_id, e.restricted, e.recipients, (SELECT count(*)::int FROM notify_worklist_item w WHERE w.outbox_id = e.outbox_id) AS items FROM notify_event e ORDER BY e.outbox_id`,
      );
      expect(events.rows).toEqual([
        { encounter_id: 'enc-r', restricted: true, recipients: [PRACTICE_ID, TEAM_ID, WORKER_ID], items: 0 },
        { encounter_id: 'enc-2', restricted: false, recipients: [PRACTICE_ID], items: 1 },
      ]);
    });

    test('a practice the record does not name is told nothing, even with a subscription', async () => {
      const other = gpSystem(OTHER_PRACTICE_ID);
      await subscribe(w, 'admission', OTHER_PRACTICE_ID, other);
      await w.store.upsert([stay('enc-1', 'pat-1')]);
      await recordEvent(w.store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await waitFor(async () => (await w.store.engine.query(`SELECT 1 FROM notify_event`)).rows.length === 1, 5_000, 'dispatch');
      await w.service.settled();
      expect(w.receiver.received).toEqual([]);
      expect(await deliveryStatuses(w)).toEqual([]);
    });

    test('the community team on the care team is told through its own subscription', async () => {
      const team = { userId: 'council-system', system: 'council-case-system', organisation: 'https://carebridge.nhs.uk/Id/ons-local-authority-code|E09000004', teams: [TEAM_ID], purposeOfUse: 'TREAT' as const };
      await subscribe(w, 'pending-discharge', TEAM_ID, team);
      await w.store.upsert([stay('enc-1', 'pat-1', { extension: [{ url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate', valueDateTime: '2026-11-25' }] })]);
      await recordEvent(w.store.engine, { kind: 'pending-discharge', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T08:00:00Z' });
      await waitFor(() => w.receiver.accepted().length === 1, 15_000, 'the pending discharge');
      const status = w.receiver.received[0]!.bundle.entry?.[0]?.resource as Parameters;
      const event = status.parameter?.find((p) => p.name === 'notification-event');
      expect(event?.extension?.map((e) => e.valueCode ?? e.valueDateTime)).toEqual(['pending-discharge', '2026-11-25T00:00:00.000Z']);
    });
  });
}
