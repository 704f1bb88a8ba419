import type { Subscription } from '@medplum/fhirtypes';
import request from 'supertest';
import { HANDSHAKE_ATTEMPTS, sendDueControls } from '../../gateway/notify/control';
import { createLogger } from '../../gateway/logger';
import { Store } from '../../gateway/store/store';
import { notificationOf, startReceiver, type Receiver } from './receiver';
import { gpSystem, notifyApp, subscriptionBody, subscriptionStatus } from './world';

/**
 * The handshake on its own, with no notification service running (the test drives each round):
 * a receiver that never answers one holds the subscription's events back for HANDSHAKE_ATTEMPTS
 * tries, not for the delivery policy's ten.
 */
describe('subscription handshakes', () => {
  let store: Store;
  let receiver: Receiver;
  beforeAll(async () => {
    store = await Store.open({});
    await store.migrate();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await store.close();
  });

  test('a receiver that refuses handshakes is given three, whatever the delivery policy allows, and is then in error (its events no longer wait)', async () => {
    const res = await request(notifyApp(store, () => gpSystem())).post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(subscriptionBody('admission', receiver.url));
    const id = (res.body as Subscription).id ?? '';
    receiver.script(400, 400, 400, 400, 400);
    const retry = { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 1_000 };
    const rounds: { failedHandshakes: number; status: string | undefined }[] = [];
    // Each round a little later than the backoff (at most a second here), on the test's clock.
    for (let round = 1; round <= 5; round++) {
      const result = await sendDueControls({ engine: store.engine, logger: createLogger('silent'), retry, fhirBase: 'https://carebridge.test/fhir', now: () => new Date(Date.now() + round * 2_000) });
      rounds.push({ failedHandshakes: result.failedHandshakes, status: await subscriptionStatus(store.engine, id) });
    }
    expect(HANDSHAKE_ATTEMPTS).toBe(3);
    expect(rounds).toEqual([
      { failedHandshakes: 1, status: 'requested' },
      { failedHandshakes: 1, status: 'requested' },
      { failedHandshakes: 1, status: 'error' },
      { failedHandshakes: 0, status: 'error' },
      { failedHandshakes: 0, status: 'error' },
    ]);
    expect(receiver.received.map((r) => [notificationOf(r).type, r.answered])).toEqual([
      ['handshake', 400],
      ['handshake', 400],
      ['handshake', 400],
    ]);
    const row = await store.engine.query<{ handshake_attempts: number; handshake_next_at: Date | null; last_error: string }>(`SELECT handshake_attempts, handshake_next_at, last_error FROM notify_subscription WHERE id = $1`, [id]);
    expect(row.rows[0]).toEqual({ handshake_attempts: 3, handshake_next_at: null, last_error: 'handshake: HTTP 400' });
  });
});
