import type { QueryResult, SqlClient } from '../store/engine';
import { acceptIntoInbox, acceptManyIntoInbox } from '../store/inbox';
import { Store } from '../store/store';
import { InboxGroupCommit } from './inbox-group-commit';

const input = (dedupKey: string, content: string, extra: Partial<Parameters<typeof acceptIntoInbox>[1]> = {}): Parameters<typeof acceptIntoInbox>[1] => ({
  source: 'RZZ|PAS',
  kind: 'hl7v2',
  dedupKey,
  content: Buffer.from(content, 'latin1'),
  ...extra,
});

describe('the inbox group commit', () => {
  let store: Store;
  beforeEach(async () => {
    store = await Store.open({});
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
  });

  const rows = async (): Promise<{ id: string; dedup_key: string; content: string; status: string; outcome: unknown; last_error: string | null; received_at: Date }[]> =>
    (await store.engine.query<{ id: string; dedup_key: string; content: Uint8Array; status: string; outcome: unknown; last_error: string | null; received_at: Date }>(
      `SELECT id::text AS id, dedup_key, content, status, outcome, last_error, received_at FROM inbox ORDER BY id`,
    )).rows.map((r) => ({ ...r, content: Buffer.from(r.content).toString('latin1') }));

  test('many inputs in one statement answer as one acceptIntoInbox after another: new, duplicate, conflict; rows in the order given', async () => {
    await acceptIntoInbox(store.engine, input('M1', 'first'));
    const receivedAt = new Date('2025-08-01T09:00:00.123Z');
    const results = await acceptManyIntoInbox(store.engine, [
      input('M2', 'é\r\\x00 bytes', { receivedAt, outcome: { ack: 'AA' } }),
      input('M1', 'first'),
      input('M1x', 'refused', { status: 'failed', error: '101 no patient identifier' }),
      input('M3', 'third'),
    ]);
    // The key M1 again: a duplicate when the content is the same; a conflict otherwise (checked below).
    expect(results.map((r) => r.accepted)).toEqual(['new', 'duplicate', 'new', 'new']);
    const conflict = await acceptManyIntoInbox(store.engine, [input('M1', 'other'), input('M4', 'fourth')]);
    expect(conflict.map((r) => r.accepted)).toEqual(['conflict', 'new']);
    const stored = await rows();
    expect(stored.map((r) => [r.dedup_key, r.content, r.status, r.last_error])).toEqual([
      ['M1', 'first', 'pending', null],
      ['M2', 'é\r\\x00 bytes', 'pending', null],
      ['M1x', 'refused', 'failed', '101 no patient identifier'],
      ['M3', 'third', 'pending', null],
      ['M4', 'fourth', 'pending', null],
    ]);
    expect(stored[1]?.outcome).toEqual({ ack: 'AA' });
    expect(new Date(stored[1]?.received_at ?? 0).toISOString()).toBe('2025-08-01T09:00:00.123Z');
    expect(results[1]?.item.id).toBe(stored[0]?.id);
    expect(results.map((r) => r.item.id)).toEqual([stored[1]?.id, stored[0]?.id, stored[2]?.id, stored[3]?.id]);
  });

  test('inputs that arrive while an insert is in flight share the next statement; a key repeated waits for the group after', async () => {
    const group = new InboxGroupCommit(store.engine);
    const accepted = await Promise.all([
      group.accept(input('A', 'a')),
      group.accept(input('B', 'b')),
      group.accept(input('C', 'c')),
      group.accept(input('B', 'b')),
      group.accept(input('D', 'd')),
    ]);
    expect(accepted.map((r) => r.accepted)).toEqual(['new', 'new', 'new', 'duplicate', 'new']);
    expect(accepted[3].item.id).toBe(accepted[1].item.id);
    // A alone (nothing in flight), then B C D together, then the repeated B.
    expect(group.stats()).toEqual({ groups: 3, inputs: 5 });
    expect((await rows()).map((r) => r.dedup_key)).toEqual(['A', 'B', 'C', 'D']);
  });

  test('a group with an input that cannot be inserted is inserted one by one, so only that input fails', async () => {
    const group = new InboxGroupCommit(store.engine);
    const first = group.accept(input('A', 'a'));
    // B, C and D arrive while A is in flight; C (an invalid received time) fails the group's statement, then alone.
    const results = await Promise.allSettled([first, group.accept(input('B', 'b')), group.accept(input('C', 'c', { receivedAt: new Date(Number.NaN) })), group.accept(input('D', 'd'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((await rows()).map((r) => r.dedup_key)).toEqual(['A', 'B', 'D']);
  });

  test('when the database refuses a group statement, its inputs are still each committed on their own', async () => {
    let refused = 0;
    const flaky: SqlClient = {
      query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
        if (refused === 0 && sql.includes('WITH ORDINALITY')) {
          refused++;
          return Promise.reject(new Error('connection reset'));
        }
        return store.engine.query<R>(sql, params);
      },
    };
    const group = new InboxGroupCommit(flaky);
    const results = await Promise.all([group.accept(input('A', 'a')), group.accept(input('B', 'b')), group.accept(input('C', 'c'))]);
    expect(refused).toBe(1);
    expect(results.map((r) => r.accepted)).toEqual(['new', 'new', 'new']);
    expect((await rows()).map((r) => r.dedup_key)).toEqual(['A', 'B', 'C']);
  });
});
