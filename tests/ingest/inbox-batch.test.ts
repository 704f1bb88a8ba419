import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHl7 } from '../../adapters/hl7v2/parse';
import { mllpBenchTraffic } from '../../bench/mllp-data';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { hl7InboxHandler } from '../../gateway/hl7v2/apply';
import { hl7BatchHandler } from '../../gateway/hl7v2/apply-batch';
import { IntakeMappings } from '../../gateway/hl7v2/intake-mappings';
import { senderDirectory } from '../../gateway/hl7v2/senders';
import { layerIntoRounds, processInboxBatch, type InboxBatchHandler, type PreparedItem } from '../../gateway/ingest/inbox-batch';
import { PermanentInputError, processInboxItem, type InboxHandler } from '../../gateway/ingest/inbox-processor';
import { acceptIntoInbox, inboxEntry } from '../../gateway/store/inbox';
import { Store } from '../../gateway/store/store';

const FIXTURES = join(__dirname, '..', 'fixtures', 'hl7v2');

describe('layering a batch into rounds', () => {
  const item = (id: string, keys: string[], extra: Partial<PreparedItem<string>> = {}): PreparedItem<string> => ({ id, keys, unit: id, ...extra });
  const ids = (steps: ReturnType<typeof layerIntoRounds<string>>): (string | string[])[] => steps.map((s) => (Array.isArray(s) ? s.map((i) => i.id) : s.id));

  test('items of one patient or visit go to successive rounds in arrival order; unrelated ones share a round', () => {
    const steps = layerIntoRounds([item('1', ['P/a', 'V/1']), item('2', ['P/b']), item('3', ['P/a', 'V/1']), item('4', ['P/c']), item('5', ['V/1']), item('6', ['P/b'])]);
    expect(ids(steps)).toEqual([
      ['1', '2', '4'],
      ['3', '6'],
      ['5'],
    ]);
  });

  test('an item applied alone is a barrier; failures take no place', () => {
    const steps = layerIntoRounds([item('1', ['P/a']), item('2', [], { failure: 'bad' }), item('3', ['P/b']), item('4', [], { alone: true }), item('5', ['P/a']), item('6', ['P/c'])]);
    expect(ids(steps)).toEqual([['1', '3'], '4', ['5', '6']]);
  });
});

describe('applying inbox rows in batches', () => {
  let store: Store;
  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
  });

  test('a round that fails falls back to one by one: the bad item fails alone, the others are applied, the malformed never reach the round', async () => {
    await store.engine.exec('TRUNCATE inbox RESTART IDENTITY');
    const ids: string[] = [];
    for (const text of ['ok-1', 'bad', 'ok-2', 'malformed', 'ok-3']) ids.push((await acceptIntoInbox(store.engine, { source: 's', kind: 'test', dedupKey: text, content: Buffer.from(text) })).item.id);
    const applied: string[] = [];
    const batch: InboxBatchHandler<string> = {
      prepare: (items) => items.map((i) => (i.content.toString() === 'malformed' ? { id: i.id, failure: 'malformed input' } : { id: i.id, keys: [i.content.toString()], unit: i.content.toString() })),
      apply(_tx, units) {
        if (units.some((u) => u.unit === 'bad')) return Promise.reject(new Error('a write failed'));
        applied.push(...units.map((u) => u.unit));
        return Promise.resolve(new Map(units.map((u) => [u.id, { batch: true }])));
      },
    };
    const one: InboxHandler = (item) => {
      if (item.content.toString() === 'bad') return Promise.reject(new PermanentInputError('bad content'));
      applied.push(`${item.content.toString()} alone`);
      return Promise.resolve({ alone: true });
    };
    const result = await processInboxBatch(store, ids, 'test', batch, { test: one });
    expect(ids.map((id) => result.results.get(id))).toEqual(['done', 'failed', 'done', 'failed', 'done']);
    expect(applied).toEqual(['ok-1 alone', 'ok-2 alone', 'ok-3 alone']);
    expect((await inboxEntry(store.engine, ids[3] as string))?.lastError).toBe('malformed input');
    expect((await inboxEntry(store.engine, ids[1] as string))?.lastError).toBe('bad content');
    // Done rows are not applied again.
    const again = await processInboxBatch(store, ids, 'test', batch, { test: one });
    expect([...again.results.values()]).toEqual(['skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
  });
});

/** What the store holds after applying, without what depends on the clock or on the order rows were numbered in. */
async function snapshot(store: Store): Promise<Record<string, unknown>> {
  const q = async (sql: string): Promise<unknown[]> => (await store.engine.query(sql)).rows;
  const resources = (await store.engine.query<{ resource_type: string; id: string; version_id: string; content: string }>(
    `SELECT resource_type, id, version_id::text AS version_id, content::text AS content FROM resource ORDER BY resource_type, id`,
  )).rows.map((r) => {
    const content = JSON.parse(r.content) as { meta?: Record<string, unknown> };
    delete content.meta?.['lastUpdated'];
    return { ...r, content };
  });
  return {
    resources,
    history: await q(`SELECT resource_type, id, count(*)::int AS versions FROM resource_history GROUP BY 1, 2 ORDER BY 1, 2`),
    inbox: await q(`SELECT dedup_key, status, last_error, outcome - 'receivedAt' AS outcome FROM inbox ORDER BY dedup_key`),
    visits: await q(`SELECT source, visit_key, inbox_id::text, control_id FROM hl7_visit_event ORDER BY inbox_id, visit_key`),
    outbox: await q(`SELECT kind, patient_id, encounter_id, inbox_id::text, payload FROM outbox ORDER BY inbox_id, kind`),
    members: await q(`SELECT patient_id, person_key FROM identity_member ORDER BY patient_id`),
    reviews: await q(`SELECT kind, a, b, status FROM identity_review ORDER BY kind, a, b`),
    sp: await q(`SELECT (SELECT count(*) FROM sp_token)::int AS token, (SELECT count(*) FROM sp_reference)::int AS reference, (SELECT count(*) FROM sp_date)::int AS date`),
  };
}

describe('HL7v2 messages applied in batches give the same store as applied one by one', () => {
  const senders = senderDirectory();
  const messages: Buffer[] = [
    // Every fixture (one patient's whole story, a merge, quirks, messages that cannot be applied), twice over
    // interleaved with synthetic traffic of 40 patients, three messages each, in feed order.
    ...readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.hl7'))
      .sort()
      .map((f) => readFileSync(join(FIXTURES, f))),
  ];
  const traffic = mllpBenchTraffic(40, 2).perConnection.flat();
  const mixed = traffic.flatMap((m, i) => (i < messages.length ? [m, messages[i] as Buffer] : [m]));

  async function load(): Promise<{ store: Store; ids: string[] }> {
    const store = await Store.open({});
    await store.migrate();
    const ids: string[] = [];
    for (const [n, content] of mixed.entries()) ids.push((await acceptIntoInbox(store.engine, { source: 'RZZ|PAS', kind: 'hl7v2', dedupKey: String(n).padStart(4, '0'), content })).item.id);
    await store.engine.query(`UPDATE inbox SET received_at = '2025-08-01T09:00:00Z'`);
    return { store, ids };
  }

  test("with the intake's mappings handed to the worker: the same store, and no row mapped twice", async () => {
    const oneByOne = await load();
    const store = await Store.open({});
    await store.migrate();
    const kept = new IntakeMappings();
    const receivedAt = new Date('2025-08-01T09:00:00Z');
    const ids: string[] = [];
    let applicable = 0;
    try {
      for (const [n, content] of mixed.entries()) {
        // As the intake does: the check maps, the row is stored with the check's received time, then handed over.
        const parsed = parseHl7(content);
        const errors = parsed.ok ? kept.check(parsed.message, senders.senderOf(parsed.message.header), receivedAt) : ['unparsed'];
        const accepted = await acceptIntoInbox(store.engine, { source: 'RZZ|PAS', kind: 'hl7v2', dedupKey: String(n).padStart(4, '0'), content, receivedAt });
        ids.push(accepted.item.id);
        if (parsed.ok && errors.length === 0) {
          applicable++;
          kept.stored(accepted.item.id, parsed.message, content);
        }
      }
      const stamped = await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE received_at = '2025-08-01T09:00:00Z'`);
      expect(stamped.rows[0]?.n).toBe(mixed.length);
      for (const id of oneByOne.ids) await processInboxItem(oneByOne.store, id, { hl7v2: hl7InboxHandler(senders) });
      await processInboxBatch(store, ids, 'hl7v2', hl7BatchHandler(senders, kept), { hl7v2: hl7InboxHandler(senders) });
      expect(applicable).toBeGreaterThan(100);
      // Every applicable row's mapping came from the check; the rows the check refused (left pending here,
      // where the intake would have stored them failed) had none, and were mapped again and failed.
      expect(kept.stats()).toEqual({ held: 0, hits: applicable, misses: mixed.length - applicable });
      expect(await snapshot(store)).toEqual(await snapshot(oneByOne.store));
    } finally {
      await oneByOne.store.close();
      await store.close();
    }
  });

  test('same resources, versions, visit events, outbox, identity and row outcomes', async () => {
    const oneByOne = await load();
    const batched = await load();
    try {
      for (const id of oneByOne.ids) await processInboxItem(oneByOne.store, id, { hl7v2: hl7InboxHandler(senders) });
      const result = await processInboxBatch(batched.store, batched.ids, 'hl7v2', hl7BatchHandler(senders), { hl7v2: hl7InboxHandler(senders) });
      // It really was batched: far fewer transactions than messages.
      expect(result.rounds).toBeLessThan(mixed.length / 4);
      const expected = await snapshot(oneByOne.store);
      const actual = await snapshot(batched.store);
      expect((expected['inbox'] as { status: string }[]).filter((r) => r.status === 'done').length).toBeGreaterThan(100);
      expect(actual).toEqual(expected);
    } finally {
      await oneByOne.store.close();
      await batched.store.close();
    }
  });
});
