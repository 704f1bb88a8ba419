import type { Bundle, OperationOutcome, Parameters, Subscription } from '@medplum/fhirtypes';
import express from 'express';
import { Registry } from 'prom-client';
import request from 'supertest';
import type { Requester } from '../../gateway/access/hooks';
import { outcomeErrorHandler } from '../../gateway/api/fhir-router';
import { testAuthority } from '../support/auth';
import { createApp } from '../../gateway/app';
import { Metrics } from '../../gateway/metrics';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { createLogger } from '../../gateway/logger';
import { subscriptionRouter } from '../../gateway/notify/router';
import { startNotifications, type NotifyService } from '../../gateway/notify/service';
import { Store } from '../../gateway/store/store';
import { PLANNED_END_EXTENSION } from '../../mappings/hl7v2/tables/encounter';
import { SIGNING_SECRET_EXTENSION } from '../../mappings/notify/subscription';
import { handshakeAnswered, startReceiver, waitFor, type Receiver } from './receiver';
import { CARE_HOME_ID, communityTeam, gpSystem, notifyApp, OTHER_PRACTICE_ID, person, PRACTICE_ID, recordEvent, stay, subscriptionBody, TEAM_ID, WARD_LOCATION, ward, WORKER_ID } from './world';

/** The HTTP side: who may subscribe, the worklist views and acknowledgement, the timeliness measure. */

const NOW = new Date('2026-11-23T15:00:00Z');

describe('subscriptions API', () => {
  let store: Store;
  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
  });

  const post = (requester: Requester | undefined, body: unknown, allowHttp = true): Promise<request.Response> => {
    const app = express();
    app.use('/fhir/Subscription', subscriptionRouter({ db: store.engine, requester: () => requester, allowHttp, emailEnabled: false, publicBaseUrl: 'https://carebridge.test' }));
    app.use(outcomeErrorHandler(createLogger('silent')));
    return request(app).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(JSON.stringify(body));
  };

  test('without a requester the answer is 401, and the default resolver knows nobody', async () => {
    const res = await post(undefined, subscriptionBody('admission', 'https://gp.example/hook'));
    expect([res.status, (res.body as OperationOutcome).issue[0]?.code]).toEqual([401, 'login']);
  });

  test('a system may subscribe for its own organisation only; a person may not subscribe at all', async () => {
    const other = await post(gpSystem(OTHER_PRACTICE_ID), subscriptionBody('admission', 'https://gp.example/hook', PRACTICE_ID));
    expect([other.status, (other.body as OperationOutcome).issue[0]?.code]).toEqual([403, 'forbidden']);
    const human = await post({ userId: 'dr-1', organisation: PRACTICE_ID, purposeOfUse: 'TREAT' }, subscriptionBody('admission', 'https://gp.example/hook'));
    expect(human.status).toBe(403);
    const own = await post(gpSystem(), subscriptionBody('admission', 'https://gp.example/hook'));
    expect(own.status).toBe(201);
    const created = own.body as Subscription;
    expect(own.headers['location']).toBe(`https://carebridge.test/fhir/Subscription/${created.id ?? ''}`);
    // Active once its endpoint has answered the handshake (control.ts).
    expect(created.status).toBe('requested');
    expect(created.extension?.find((e) => e.url === SIGNING_SECRET_EXTENSION)?.valueString).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('bad subscriptions are refused with every problem named', async () => {
    const body = subscriptionBody('no-such-topic', 'http://gp.example/hook');
    const res = await post(gpSystem(), body, false);
    expect(res.status).toBe(400);
    const issues = (res.body as OperationOutcome).issue.map((i) => [i.expression?.[0], i.details?.text]);
    expect(issues).toEqual([
      ['Subscription.criteria', expect.stringContaining('canonical URL of one of our subscription topics')],
      ['Subscription.channel.endpoint', 'endpoint must be https (http only in development)'],
    ]);
    const full = subscriptionBody('admission', 'https://gp.example/hook');
    (full['channel'] as { _payload: unknown })._payload = { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: 'full-resource' }] };
    const fullRes = await post(gpSystem(), full);
    expect((fullRes.body as OperationOutcome).issue.map((i) => i.expression?.[0])).toEqual(['Subscription.channel.payload.extension']);
    const email = await post(gpSystem(), subscriptionBody('admission', 'mailto:practice@nhs.net'));
    expect([email.status, (email.body as OperationOutcome).issue[0]?.details?.text]).toEqual([400, 'E-mail notifications are not configured on this server']);
  });

  test('a system lists, reads and deletes its own subscriptions and cannot see another organisation\'s', async () => {
    const mine = (await post(gpSystem(), subscriptionBody('discharge', 'https://gp.example/hook'))).body as Subscription;
    const theirs = (await post(gpSystem(OTHER_PRACTICE_ID), subscriptionBody('discharge', 'https://other.example/hook', OTHER_PRACTICE_ID))).body as Subscription;
    const app = notifyApp(store, () => gpSystem());
    const list = await request(app).get('/fhir/Subscription');
    const ids = ((list.body as Bundle).entry ?? []).map((e) => e.resource?.id);
    expect(ids).toContain(mine.id);
    expect(ids).not.toContain(theirs.id);
    const read = await request(app).get(`/fhir/Subscription/${mine.id ?? ''}`);
    expect(read.status).toBe(200);
    // The secret is shown once, at creation, never again.
    expect(JSON.stringify(read.body)).not.toContain(SIGNING_SECRET_EXTENSION);
    expect((await request(app).get(`/fhir/Subscription/${theirs.id ?? ''}`)).status).toBe(404);
    expect((await request(app).delete(`/fhir/Subscription/${theirs.id ?? ''}`)).status).toBe(404);
    expect((await request(app).delete(`/fhir/Subscription/${mine.id ?? ''}`)).status).toBe(204);
    expect((await request(app).get(`/fhir/Subscription/${mine.id ?? ''}`)).status).toBe(404);
    expect((await request(app).put(`/fhir/Subscription/${mine.id ?? ''}`)).status).toBe(405);
  });

  test('$status of several subscriptions at once: all of the caller\'s, or those named by id, or those in a status; never another organisation\'s', async () => {
    const a = (await post(gpSystem(), subscriptionBody('admission', 'https://gp.example/a'))).body as Subscription;
    const b = (await post(gpSystem(), subscriptionBody('discharge', 'https://gp.example/b'))).body as Subscription;
    const theirs = (await post(gpSystem(OTHER_PRACTICE_ID), subscriptionBody('discharge', 'https://other.example/hook', OTHER_PRACTICE_ID))).body as Subscription;
    // b's endpoint gave up on its handshake (as control.ts leaves it).
    await store.engine.query(`UPDATE notify_subscription SET status = 'error', handshake_next_at = NULL, last_error = 'handshake: HTTP 404' WHERE id = $1`, [b.id]);
    const app = notifyApp(store, () => gpSystem());
    const statuses = async (query: string): Promise<[string | undefined, string | undefined][]> => {
      const res = await request(app).get(`/fhir/Subscription/$status${query}`);
      expect(res.status).toBe(200);
      const bundle = res.body as Bundle;
      expect(bundle.total).toBe(bundle.entry?.length ?? 0);
      return (bundle.entry ?? []).map((e) => {
        const params = (e.resource as Parameters).parameter ?? [];
        return [params.find((p) => p.name === 'subscription')?.valueReference?.reference?.split('/').pop(), params.find((p) => p.name === 'status')?.valueCode];
      });
    };
    const all = await statuses('');
    expect(all).toEqual(expect.arrayContaining([[a.id, 'requested'], [b.id, 'error']]));
    expect(all.map(([id]) => id)).not.toContain(theirs.id);
    expect(await statuses(`?id=${a.id ?? ''}`)).toEqual([[a.id, 'requested']]);
    expect(await statuses(`?id=${a.id ?? ''},${b.id ?? ''}&status=error`)).toEqual([[b.id, 'error']]);
    expect(await statuses(`?id=${a.id ?? ''}&id=${b.id ?? ''}`)).toEqual([[a.id, 'requested'], [b.id, 'error']]);
    expect(await statuses(`?id=${theirs.id ?? ''}`)).toEqual([]);
    const one = await request(app).get(`/fhir/Subscription/${a.id ?? ''}/$status`);
    expect(((one.body as Bundle).entry?.[0]?.resource as Parameters).parameter?.find((p) => p.name === 'handshake-attempts')?.valueUnsignedInt).toBe(0);
    // The same filter on the search.
    const errored = await request(app).get('/fhir/Subscription?status=error');
    expect(((errored.body as Bundle).entry ?? []).map((e) => e.resource?.id)).toEqual([b.id]);
    expect((await request(app).get('/fhir/Subscription?status=paused')).status).toBe(400);
    const bad = await request(app).get('/fhir/Subscription/$status?status=paused');
    expect([bad.status, (bad.body as OperationOutcome).issue[0]?.details?.text]).toEqual([400, 'status must be one of requested, active, error, off']);
  });

  test('on the gateway app the Subscription routes come before the read-only /fhir router and take the verified token', async () => {
    const authority = await testAuthority();
    const app = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), auth: authority.authenticator, notify: { allowHttp: true, emailEnabled: false } });
    const body = JSON.stringify(subscriptionBody('admission', 'https://gp.example/hook'));
    const anonymous = await request(app).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(body);
    expect([anonymous.status, (anonymous.body as OperationOutcome).issue[0]?.code]).toEqual([401, 'login']);
    const system = await request(app).post('/fhir/Subscription').set('Authorization', `Bearer ${await authority.system('demo-gp-system')}`).set('Content-Type', 'application/fhir+json').send(body);
    expect(system.status).toBe(201);
    const gp = `Bearer ${await authority.person({ user: 'gp-1', role: 'gp' })}`;
    expect((await request(app).post('/fhir/Patient').set('Authorization', gp).send('{}')).status).toBe(405);
    const bare = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), auth: authority.authenticator });
    expect((await request(bare).post('/fhir/Subscription').set('Authorization', gp).send('{}')).status).toBe(405);
  });

  test('the topic list is public and names every topic', async () => {
    const res = await request(notifyApp(store, () => undefined)).get('/notify/topics');
    expect((res.body as { topics: { code: string }[] }).topics.map((t) => t.code)).toEqual([
      'admission', 'ed-attendance', 'transfer', 'pending-discharge', 'discharge', 'cancellation', 'death',
      'red-bag-passport-issued', 'red-bag-sent', 'red-bag-received', 'red-bag-awaiting-discharge', 'red-bag-discharge-passport-issued', 'red-bag-returned',
    ]);
  });
});

describe('worklists and the timeliness of discharge notice', () => {
  let store: Store;
  let receiver: Receiver;
  let service: NotifyService;
  let registry: Registry;
  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    receiver = await startReceiver();
    registry = new Registry();
    service = startNotifications({ store, logger: createLogger('silent'), registry, runWorkers: true, publicBaseUrl: 'https://carebridge.test', dispatchIntervalMs: 20, overduePollMs: 100, overdueGraceMs: 200, controlPollMs: 20 });
    await store.upsert([...ward(), WARD_LOCATION, person(1, { careHome: true }), person(2), person(3), communityTeam('pat-1')]);
  });
  afterAll(async () => {
    await service.close();
    await receiver.close();
    await store.close();
  });

  const gpUser: Requester = { userId: 'dr-1', role: 'gp', organisation: PRACTICE_ID, purposeOfUse: 'TREAT' };

  test('admitted today, discharges expected this week, discharged and not followed up, each acknowledged once', async () => {
    await store.upsert([
      stay('enc-1', 'pat-1'),
      stay('enc-2', 'pat-2', { extension: [{ url: PLANNED_END_EXTENSION, valueDateTime: '2026-11-26' }] }),
      stay('enc-3', 'pat-3', { status: 'finished' }),
    ]);
    await recordEvent(store.engine, { kind: 'admission', patientId: 'pat-1', encounterId: 'enc-1', eventTime: '2026-11-23T09:00:00Z' });
    // Yesterday's admission is not "today".
    await recordEvent(store.engine, { kind: 'admission', patientId: 'pat-2', encounterId: 'enc-2', eventTime: '2026-11-22T09:00:00Z' });
    await recordEvent(store.engine, { kind: 'pending-discharge', patientId: 'pat-2', encounterId: 'enc-2', eventTime: '2026-11-23T10:00:00Z' });
    await recordEvent(store.engine, { kind: 'discharge', patientId: 'pat-3', encounterId: 'enc-3', eventTime: '2026-11-23T11:00:00Z' });
    await service.dispatchNow();
    const app = notifyApp(store, () => gpUser, { now: () => NOW });
    const view = async (name: string, query = 'org=Y90001'): Promise<{ items: { id: string; encounter: { reference: string }; expectedDischarge: string | null }[] }> => {
      const res = await request(app).get(`/worklist?view=${name}&${query}`);
      expect(res.status).toBe(200);
      return res.body as { items: { id: string; encounter: { reference: string }; expectedDischarge: string | null }[] };
    };
    expect((await view('admitted-today')).items.map((i) => i.encounter.reference)).toEqual(['Encounter/enc-1']);
    expect((await view('discharges-expected')).items.map((i) => [i.encounter.reference, i.expectedDischarge])).toEqual([['Encounter/enc-2', '2026-11-26T00:00:00.000Z']]);
    const notFollowed = (await view('discharged-not-followed-up')).items;
    expect(notFollowed.map((i) => i.encounter.reference)).toEqual(['Encounter/enc-3']);

    const ack = await request(app).post(`/worklist/items/${notFollowed[0]?.id ?? ''}/acknowledge`);
    expect(ack.status).toBe(200);
    expect((ack.body as { acknowledged: { by: string } }).acknowledged.by).toBe('dr-1');
    expect((await view('discharged-not-followed-up')).items).toEqual([]);

    // The care home sees its resident; the co-ordinator's caseload has the same person.
    const home = notifyApp(store, () => ({ userId: 'carer-1', role: 'care_home_staff', organisation: CARE_HOME_ID, purposeOfUse: 'TREAT' }), { now: () => NOW });
    const homeView = await request(home).get(`/worklist?view=admitted-today&org=${encodeURIComponent(CARE_HOME_ID)}`);
    expect((homeView.body as { items: { patient: { reference: string } }[] }).items.map((i) => i.patient.reference)).toEqual(['Patient/pat-1']);
    const coordinator = notifyApp(store, () => ({ userId: 'sw-17', role: 'care_coordinator', workerId: WORKER_ID, teams: [TEAM_ID], purposeOfUse: 'TREAT' }), { now: () => NOW });
    const caseload = await request(coordinator).get(`/worklist?view=admitted-today&worker=${encodeURIComponent(WORKER_ID)}`);
    expect((caseload.body as { items: unknown[] }).items).toHaveLength(1);
  });

  test('another organisation\'s worklist and items are refused', async () => {
    const app = notifyApp(store, () => gpUser, { now: () => NOW });
    const res = await request(app).get(`/worklist?view=admitted-today&org=${encodeURIComponent(OTHER_PRACTICE_ID)}`);
    expect(res.status).toBe(403);
    const homeItem = await store.engine.query<{ id: string }>(`SELECT id::text AS id FROM notify_worklist_item WHERE recipient = $1 LIMIT 1`, [CARE_HOME_ID]);
    expect((await request(app).post(`/worklist/items/${homeItem.rows[0]?.id ?? ''}/acknowledge`)).status).toBe(404);
    expect((await request(app).get('/worklist?view=everything&org=Y90001')).status).toBe(400);
    expect((await request(notifyApp(store, () => undefined)).get('/worklist?view=admitted-today&org=Y90001')).status).toBe(401);
  });

  test('for each discharge, how long before it the practice was told of the pending discharge and of the discharge, per hospital and ward', async () => {
    for (const topic of ['pending-discharge', 'discharge']) {
      const sub = await request(notifyApp(store, () => gpSystem())).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(subscriptionBody(topic, receiver.url));
      expect(sub.status).toBe(201);
      await handshakeAnswered(receiver, store.engine, (sub.body as Subscription).id ?? '');
    }
    await store.upsert([stay('enc-4', 'pat-2')]);
    await recordEvent(store.engine, { kind: 'pending-discharge', patientId: 'pat-2', encounterId: 'enc-4', eventTime: new Date().toISOString() });
    await waitFor(() => receiver.accepted().length === 1, 15_000, 'the pending discharge');
    // The discharge happens after the practice was told it was coming; its own notification goes afterwards.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const dischargedAt = new Date().toISOString();
    await store.upsert([stay('enc-4', 'pat-2', { status: 'finished' })]);
    await recordEvent(store.engine, { kind: 'discharge', patientId: 'pat-2', encounterId: 'enc-4', eventTime: dischargedAt });
    await waitFor(() => receiver.accepted().length === 2, 15_000, 'the discharge');
    await waitFor(async () => (await store.engine.query(`SELECT 1 FROM notify_delivery WHERE status = 'delivered'`)).rows.length === 2, 5_000, 'both delivered');

    const ops = notifyApp(store, () => ({ userId: 'ops-1', role: 'admin', purposeOfUse: 'HOPERAT' }));
    const res = await request(ops).get(`/notify/timeliness?from=2026-11-01&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(res.status).toBe(200);
    const body = res.body as { discharges: { encounterId: string; recipient: string; recipientRole: string; hospital: string; ward: string; pendingLeadSeconds?: number; actualLeadSeconds?: number }[]; summary: { hospital: string; ward: string; recipientRole: string; notice: string; discharges: number; inTime: number; late: number; notTold: number }[] };
    const enc4 = body.discharges.filter((d) => d.encounterId === 'enc-4');
    expect(enc4.map((d) => [d.recipient, d.recipientRole, d.hospital, d.ward])).toEqual([[PRACTICE_ID, 'gp-practice', 'RZZ', 'Ward 7']]);
    expect(enc4[0]?.pendingLeadSeconds).toBeGreaterThan(0);
    expect(enc4[0]?.actualLeadSeconds).toBeLessThan(0);
    // enc-3 (earlier test): the practice acknowledged it in the worklist at NOW, 4 hours after the discharge; nobody told of a pending discharge.
    const enc3 = body.discharges.find((d) => d.encounterId === 'enc-3' && d.recipientRole === 'gp-practice');
    expect([enc3?.pendingLeadSeconds, enc3?.actualLeadSeconds]).toEqual([undefined, -4 * 3600]);
    const gpWard = body.summary.filter((s) => s.recipientRole === 'gp-practice' && s.ward === 'Ward 7');
    expect(gpWard.map((s) => [s.notice, s.discharges, s.inTime, s.late, s.notTold])).toEqual([
      ['actual', 2, 0, 2, 0],
      ['pending', 2, 1, 0, 1],
    ]);
    const metrics = await registry.metrics();
    expect(metrics).toContain('carebridge_notify_discharges_told_late{hospital="RZZ",ward="Ward 7",recipient="gp-practice",notice="actual"} 2');
    expect(metrics).toMatch(/carebridge_notify_discharge_notice_median_seconds\{hospital="RZZ",ward="Ward 7",recipient="gp-practice",notice="pending"\} \d/);
    expect(metrics).toMatch(/carebridge_notify_deliveries_total\{channel="rest-hook",outcome="delivered"\} 2/);

    const refused = await request(notifyApp(store, () => gpUser)).get('/notify/timeliness');
    expect(refused.status).toBe(403);
  });
});
