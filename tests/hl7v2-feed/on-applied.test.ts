import { Registry } from 'prom-client';
import { MllpClient } from '../../adapters/hl7v2/mllp-client';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { startHl7Feed } from '../../gateway/hl7v2/feed';
import { createLogger } from '../../gateway/logger';
import { Store } from '../../gateway/store/store';

/**
 * The feed tells its process when the worker has committed what it applied (the server wakes the
 * notification dispatcher with it): by the time it is called, the admission's outbox event is
 * there to dispatch. Over real MLLP, on PGlite; a synthetic patient with no NHS number.
 */

const adt = (controlId: string): Buffer =>
  Buffer.from(
    [
      `MSH|^~\\&|WAKEPAS|RZZ|CAREBRIDGE|CAREBRIDGE|20250301101500||ADT^A01^ADT_A01|${controlId}|P|2.5.1`,
      'EVN|A01|20250301101500||||20250301101000',
      `PID|1||WAKE${controlId}^^^RZZ^MR||TESTPERSON^Wake^^^Mx^^L||19700101|F`,
      `PV1|1|I|WARD1^BAY1^BED1^RZZ|21|||||||||||||||V${controlId}^^^RZZ^VN|||||||||||||||||||||||||20250301101000`,
    ].join('\r') + '\r',
    'latin1',
  );

test('onApplied is called after the applied message is committed, its outbox event in place', async () => {
  loadFhirDefinitions();
  const store = await Store.open({});
  await store.migrate();
  const seen: Promise<{ done: number; events: number }>[] = [];
  const feed = await startHl7Feed({
    store,
    logger: createLogger('silent'),
    registry: new Registry(),
    listenMllp: true,
    mllpPort: 0,
    runWorkers: true,
    onApplied: () => {
      seen.push(
        (async () => {
          const done = await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE dedup_key = 'WAKE-1' AND status = 'done'`);
          const events = await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE kind = 'admission'`);
          return { done: done.rows[0]?.n ?? 0, events: events.rows[0]?.n ?? 0 };
        })(),
      );
    },
  });
  const client = new MllpClient({ host: '127.0.0.1', port: feed.mllpPort ?? 0, timeoutMs: 10_000 });
  try {
    const ack = (await client.send(adt('WAKE-1'))).toString('latin1');
    expect(ack).toContain('MSA|AA|WAKE-1');
    const deadline = Date.now() + 20_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(seen.length).toBeGreaterThan(0);
    expect(await seen[0]).toEqual({ done: 1, events: 1 });
  } finally {
    await client.close();
    await feed.close();
    await store.close();
  }
});
