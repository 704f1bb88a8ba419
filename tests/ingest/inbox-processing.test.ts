import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { PermanentInputError, processInboxItem, type InboxHandler } from '../../gateway/ingest/inbox-processor';
import { createLogger } from '../../gateway/logger';
import { BatchingInboxQueue } from '../../gateway/ingest/batching-queue';
import { acceptIntoInbox, dueInboxIds, inboxEntry, listInbox, pendingInboxIds, replayInboxItems } from '../../gateway/store/inbox';
import { Store } from '../../gateway/store/store';

describe('applying inbox rows', () => {
  let store: Store;
  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
  });
  beforeEach(async () => {
    await store.engine.exec('TRUNCATE inbox RESTART IDENTITY');
  });
  afterAll(async () => {
    await store.close();
  });

  const accept = async (key: string, kind = 'test'): Promise<string> =>
    (await acceptIntoInbox(store.engine, { source: 'sender-a', kind, dedupKey: key, content: Buffer.from(`payload ${key}`) })).item.id;

  test('the oldest pending rows come first by row number, not by its text (row 9 before row 10)', async () => {
    const ids: string[] = [];
    for (let n = 1; n <= 12; n++) ids.push(await accept(`order-${String(n)}`));
    expect(ids.slice(8, 10)).toEqual(['9', '10']);
    expect(await dueInboxIds(store.engine, 10)).toEqual(ids.slice(0, 10));
    expect(await pendingInboxIds(store.engine, 10)).toEqual(ids.slice(0, 10));
  });

  test('a handled row is done and keeps the outcome recorded at acceptance', async () => {
    const id = await accept('m1');
    await store.engine.query(`UPDATE inbox SET outcome = '{"ack":"AA"}' WHERE id = $1::bigint`, [id]);
    const handler: InboxHandler = (item) => Promise.resolve({ applied: item.content.toString() });
    expect(await processInboxItem(store, id, { test: handler })).toBe('done');
    const entry = await inboxEntry(store.engine, id);
    expect([entry?.status, entry?.outcome]).toEqual(['done', { ack: 'AA', applied: 'payload m1' }]);
    expect(await processInboxItem(store, id, { test: handler })).toBe('skipped');
  });

  test('malformed input fails once and is never retried; a row of an unknown kind fails', async () => {
    const id = await accept('m2');
    const calls: string[] = [];
    const handler: InboxHandler = () => {
      calls.push('called');
      return Promise.reject(new PermanentInputError('PV1-19 missing'));
    };
    expect(await processInboxItem(store, id, { test: handler })).toBe('failed');
    expect(await processInboxItem(store, id, { test: handler })).toBe('skipped');
    expect(calls).toEqual(['called']);
    expect((await inboxEntry(store.engine, id))?.lastError).toBe('PV1-19 missing');
    const other = await accept('m3', 'unknown-kind');
    expect(await processInboxItem(store, other, { test: handler })).toBe('failed');
  });

  test('a transient failure is retried with backoff; after the last attempt the row is dead, and a replay applies it', async () => {
    const id = await accept('m4');
    let healthy = false;
    const handler: InboxHandler = () => (healthy ? Promise.resolve({ ok: true }) : Promise.reject(new Error('connection reset')));
    const now = new Date('2026-11-20T10:00:00Z');
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await processInboxItem(store, id, { test: handler }, { maxAttempts: 3, backoffMs: 1000, now: () => now }));
    expect(results).toEqual(['retry', 'retry', 'dead']);
    const notBefore = await store.engine.query<{ not_before: Date }>('SELECT not_before FROM inbox WHERE id = $1::bigint', [id]);
    // Second retry waits 2 × 1000 ms.
    expect(new Date(notBefore.rows[0]?.not_before ?? 0).toISOString()).toBe('2026-11-20T10:00:02.000Z');
    expect((await listInbox(store.engine, ['dead'])).map((e) => [e.id, e.attempts, e.lastError])).toEqual([[id, 3, 'connection reset']]);
    healthy = true;
    expect(await replayInboxItems(store.engine, 'all-dead')).toEqual([id]);
    expect(await processInboxItem(store, id, { test: handler })).toBe('done');
  });

  /** A batch applied row by row, recording each batch it was handed. */
  const rowByRow = (handler: InboxHandler, batches: string[][]) => async (ids: readonly string[]): Promise<void> => {
    batches.push([...ids]);
    for (const id of ids) await processInboxItem(store, id, { test: handler });
  };

  test('the in-process queue applies rows in arrival order and picks up rows left pending before it started', async () => {
    const leftOver = [await accept('early-1'), await accept('early-2')];
    const applied: string[] = [];
    const handler: InboxHandler = (item) => {
      applied.push(item.id);
      return Promise.resolve({});
    };
    const queue = new BatchingInboxQueue(store, rowByRow(handler, []), createLogger('silent'), { pollMs: 20, maxBatch: 4 });
    try {
      const fresh: string[] = [];
      for (let i = 0; i < 30; i++) {
        const id = await accept(`m-${String(i)}`);
        fresh.push(id);
        await queue.enqueue(id);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      await queue.settled();
      expect(applied).toEqual([...leftOver, ...fresh]);
      expect((await listInbox(store.engine, ['pending', 'retry'])).length).toBe(0);
    } finally {
      await queue.close();
    }
  });

  test('jobs handed over together (BullMQ workers) are applied as one batch, each job waiting for its own row', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await accept(`job-${String(i)}`));
    const applied: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler: InboxHandler = async (item) => {
      // The first row waits at the gate, so the other nine arrive while its batch is being applied.
      if (item.id === ids[0]) await gate;
      applied.push(item.id);
      return {};
    };
    const batches: string[][] = [];
    const queue = new BatchingInboxQueue(store, rowByRow(handler, batches), createLogger('silent'), { poll: false, maxBatch: 64 });
    try {
      const finished: string[] = [];
      const first = queue.applyNow(ids[0] ?? '').then(() => finished.push(ids[0] ?? ''));
      // Later jobs arrive newest first: the batch still applies them in arrival (row) order.
      const rest = [...ids.slice(1)].reverse().map((id) => queue.applyNow(id).then(() => finished.push(id)));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(finished).toEqual([]);
      release();
      await Promise.all([first, ...rest]);
      expect(batches).toEqual([[ids[0]], ids.slice(1)]);
      expect(applied).toEqual(ids);
      // Each job resolved only once its own row was done.
      expect((await listInbox(store.engine, ['done'])).map((e) => e.id).sort()).toEqual([...ids].sort());
      expect(finished[0]).toBe(ids[0]);
      expect([...finished].sort()).toEqual([...ids].sort());
      // A row already handed over is applied once, and the second job waits for the same batch.
      const again = await accept('job-again');
      await Promise.all([queue.applyNow(again), queue.applyNow(again)]);
      expect(batches.at(-1)).toEqual([again]);
      expect(applied.filter((id) => id === again)).toEqual([again]);
    } finally {
      await queue.close();
    }
    // After close a job is not left waiting: the row stays pending for the next worker.
    const late = await accept('job-late');
    await queue.applyNow(late);
    expect((await inboxEntry(store.engine, late))?.status).toBe('pending');
  });
});
