import type { Subscription } from '@medplum/fhirtypes';
import IORedis from 'ioredis';
import request from 'supertest';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { createLogger } from '../../gateway/logger';
import { startNotifications, type NotifyService } from '../../gateway/notify/service';
import { Store } from '../../gateway/store/store';
import { SIGNING_SECRET_EXTENSION } from '../../mappings/notify/subscription';
import { createTestDatabase } from '../support/postgres';
import { eventOf, handshakeAnswered, startReceiver, waitFor } from './receiver';
import { communityTeam, gpSystem, notifyApp, person, recordEvent, stay, subscriptionBody, WARD_LOCATION, ward } from './world';

function requireRedisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (!url) throw new Error('REDIS_URL is not set: this integration test needs a Redis server (see README, "Running the tests")');
  return url;
}

/**
 * On PostgreSQL with BullMQ workers in two "processes" (two services on one database and one
 * Redis): deliveries are rows, jobs carry their ids; retries, ordering per person and the dead
 * letter hold across workers, and a Redis emptied mid-way loses nothing.
 */
describe('notifications on PostgreSQL with BullMQ workers', () => {
  test('two workers deliver in order per person, retry, and recover after Redis loses its jobs', async () => {
    const redisUrl = requireRedisUrl();
    loadFhirDefinitions();
    const database = await createTestDatabase();
    const store = await Store.open({ databaseUrl: database.url });
    await store.migrate();
    const admin = new IORedis(redisUrl);
    await admin.flushall();
    const receiver = await startReceiver();
    const services: NotifyService[] = [];
    try {
      const options = { store, logger: createLogger('silent'), redisUrl, runWorkers: true, publicBaseUrl: 'https://carebridge.test', retry: { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 200 }, dispatchIntervalMs: 20, overduePollMs: 200, overdueGraceMs: 300, controlPollMs: 20 };
      services.push(startNotifications(options), startNotifications(options));
      await store.upsert([...ward(), WARD_LOCATION, ...[1, 2, 3, 4, 5].map((n) => person(n)), communityTeam('pat-1')]);
      const created = await request(notifyApp(store, () => gpSystem())).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(subscriptionBody('cancellation', receiver.url));
      receiver.secret = (created.body as Subscription).extension?.find((e) => e.url === SIGNING_SECRET_EXTENSION)?.valueString ?? '';
      await handshakeAnswered(receiver, store.engine, (created.body as Subscription).id ?? '');
      // Each person's first event fails twice: their second must wait.
      const firstOf = (b: object): boolean => JSON.stringify(b).includes('cancel-admission');
      receiver.script(...Array.from({ length: 10 }, () => ({ status: 500, when: firstOf })));
      for (const n of [1, 2, 3, 4, 5]) await store.upsert([stay(`enc-${String(n)}`, `pat-${String(n)}`)]);
      for (const n of [1, 2, 3, 4, 5]) {
        await recordEvent(store.engine, { kind: 'cancel-admission', patientId: `pat-${String(n)}`, encounterId: `enc-${String(n)}`, eventTime: '2026-11-23T08:00:00Z' });
        await recordEvent(store.engine, { kind: 'cancel-discharge', patientId: `pat-${String(n)}`, encounterId: `enc-${String(n)}`, eventTime: '2026-11-23T09:00:00Z' });
      }
      await waitFor(() => receiver.accepted().length >= 4, 20_000, 'the first notifications');
      // Redis loses everything mid-way: the rows are the truth and the poll hands the rest back.
      await admin.flushall();
      await waitFor(() => new Set(receiver.accepted().map((r) => r.headers['x-carebridge-idempotency-key'])).size === 10, 30_000, 'all ten notifications');
      expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
      for (const n of [1, 2, 3, 4, 5]) {
        const mine = receiver.received.filter((r) => eventOf(r).focus.endsWith(`/Encounter/enc-${String(n)}`));
        const firstAccepted = mine.findIndex((r) => r.answered === 200);
        // Nothing about the second event reached the receiver before the first was accepted.
        expect(mine.slice(0, firstAccepted + 1).every((r) => eventOf(r).kind === 'cancel-admission')).toBe(true);
        expect(mine.filter((r) => r.answered === 200).map((r) => eventOf(r).kind)[0]).toBe('cancel-admission');
      }
      // The receiver answers before the worker records the outcome: wait for the rows.
      await waitFor(async () => (await store.engine.query(`SELECT 1 FROM notify_delivery WHERE status = 'delivered'`)).rows.length === 10, 10_000, 'ten delivered rows');
      const statuses = await store.engine.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM notify_delivery GROUP BY status`);
      expect(statuses.rows).toEqual([{ status: 'delivered', n: 10 }]);
    } finally {
      for (const s of services) await s.close();
      await receiver.close();
      admin.disconnect();
      await store.close();
      await database.drop();
    }
  });
});
