import IORedis from 'ioredis';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { processInboxItem, type InboxHandler } from '../../gateway/ingest/inbox-processor';
import { createLogger } from '../../gateway/logger';
import { BullMqInboxQueue } from '../../gateway/queue/bullmq-queue';
import { acceptIntoInbox, listInbox } from '../../gateway/store/inbox';
import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';

function requireRedisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (!url) throw new Error('REDIS_URL is not set: this integration test needs a Redis server (see README, "Running the tests")');
  return url;
}

const waitFor = async (check: () => Promise<boolean>, ms = 15_000): Promise<void> => {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('BullMQ workers on Redis', () => {
  test('rows enqueued are applied by workers; after Redis loses everything, pending rows are re-enqueued and applied', async () => {
    const redisUrl = requireRedisUrl();
    loadFhirDefinitions();
    const database = await createTestDatabase();
    const store = await Store.open({ databaseUrl: database.url });
    await store.migrate();
    const admin = new IORedis(redisUrl);
    await admin.flushall();
    const applied: string[] = [];
    const handler: InboxHandler = (item) => {
      applied.push(item.id);
      return Promise.resolve({});
    };
    const accept = async (key: string): Promise<string> => (await acceptIntoInbox(store.engine, { source: 's', kind: 'test', dedupKey: key, content: Buffer.from(key) })).item.id;
    let queue: BullMqInboxQueue | undefined;
    try {
      // Rows accepted while no worker runs, then Redis is wiped: nothing but the inbox knows of them.
      const producer = new BullMqInboxQueue(redisUrl, store, createLogger('silent'));
      const first = [await accept('a'), await accept('b'), await accept('c')];
      for (const id of first) await producer.enqueue(id);
      await producer.close();
      await admin.flushall();

      queue = new BullMqInboxQueue(redisUrl, store, createLogger('silent'));
      queue.startWorkers((id) => processInboxItem(store, id, { test: handler }), { concurrency: 2, pollMs: 200 });
      const later = [await accept('d'), await accept('e')];
      for (const id of later) await queue.enqueue(id);
      await waitFor(async () => (await listInbox(store.engine, ['done'])).length === 5);
      expect([...applied].sort()).toEqual([...first, ...later].sort());
    } finally {
      await queue?.close();
      admin.disconnect();
      await store.close();
      await database.drop();
    }
  });
});
