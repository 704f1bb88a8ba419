import type { Resource } from '@medplum/fhirtypes';
import IORedis from 'ioredis';
import { Registry } from 'prom-client';
import { MllpClient } from '../../adapters/hl7v2/mllp-client';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { hl7InboxHandler } from '../../gateway/hl7v2/apply';
import { hl7BatchHandler } from '../../gateway/hl7v2/apply-batch';
import { startHl7Feed } from '../../gateway/hl7v2/feed';
import { HL7_INBOX_KIND } from '../../gateway/hl7v2/intake';
import { loadSenderDirectory } from '../../gateway/hl7v2/senders';
import { processInboxBatch } from '../../gateway/ingest/inbox-batch';
import { processInboxItem } from '../../gateway/ingest/inbox-processor';
import { createLogger } from '../../gateway/logger';
import { acceptIntoInbox, listInbox } from '../../gateway/store/inbox';
import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';

/**
 * Several workers applying one visit's messages at the same time (BullMQ workers with concurrency,
 * worker processes on other machines, two processes' batches) must leave the record exactly as
 * applying the messages one by one in arrival order does: no message's change lost to another's
 * write made from an older reading of the visit. Real PostgreSQL, real connections in parallel.
 *
 * Each visit is told in three messages (A01 to one ward, A02 to another, A03 discharge); invented
 * people, no NHS numbers.
 */
const VISITS = 60;
const SENDER = { facility: 'RZZ', application: 'RACEPAS' } as const;

function hl7Time(minutes: number): string {
  return new Date(Date.UTC(2025, 4, 1) + minutes * 60_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

function message(visit: number, step: 0 | 1 | 2): Buffer {
  const trigger = (['A01', 'A02', 'A03'] as const)[step];
  const eventTime = hl7Time(visit * 13 + step * 180);
  const messageTime = hl7Time(visit * 13 + step * 180 + 1);
  const ward = step === 0 ? `WARDA${String(visit % 3)}^BAY1^BED${String(1 + (visit % 4))}^RZZ` : `WARDB${String(visit % 5)}^^BED${String(1 + (visit % 2))}^RZZ`;
  const prior = step === 1 ? `WARDA${String(visit % 3)}^BAY1^BED${String(1 + (visit % 4))}^RZZ` : '';
  const segments = [
    `MSH|^~\\&|${SENDER.application}|${SENDER.facility}|CAREBRIDGE|CAREBRIDGE|${messageTime}||ADT^${trigger}^ADT_${trigger}|RACE-${String(visit)}-${String(step)}|P|2.4`,
    `EVN|${trigger}|${messageTime}||||${eventTime}`,
    `PID|1||RC${String(visit).padStart(6, '0')}^^^RZZ^MR||RACEPERSON${String(visit)}^Jo^^^Mx^^L||1941050${String(1 + (visit % 9))}|${visit % 2 === 0 ? 'F' : 'M'}|||${String(1 + visit)} Example Lane^Testtown^^^ZZ9 9ZZ^GBR^H`,
    `PV1|1|I|${ward}|21||${prior}|C2000001^Consultant^Casey^^^Dr^^^RZZ||||||||||||RV${String(visit).padStart(6, '0')}^^^RZZ^VN|||||||||||||||||${step === 2 ? '1|54' : '|'}|||||||${hl7Time(visit * 13)}${step === 2 ? `|${eventTime}` : ''}`,
  ];
  return Buffer.from(`${segments.join('\r')}\r`, 'latin1');
}

/** Every visit's messages, accepted in arrival order: each visit's A01, A02, A03 in turn. */
async function acceptAll(store: Store): Promise<string[][]> {
  const ids: string[][] = [];
  for (let v = 0; v < VISITS; v++) {
    const visit: string[] = [];
    for (const step of [0, 1, 2] as const) {
      const accepted = await acceptIntoInbox(store.engine, { source: `${SENDER.facility}|${SENDER.application}`, kind: HL7_INBOX_KIND, dedupKey: `RACE-${String(v)}-${String(step)}`, content: message(v, step) });
      visit.push(accepted.item.id);
    }
    ids.push(visit);
  }
  return ids;
}

/** The record as a reader sees it: every current resource of the types a visit writes, without meta. */
async function record(store: Store): Promise<Map<string, unknown>> {
  const rows = await store.engine.query<{ content: string }>(
    `SELECT content::text AS content FROM resource WHERE resource_type IN ('Encounter', 'Patient', 'Location', 'Practitioner', 'Organization') ORDER BY resource_type, id`,
  );
  const out = new Map<string, unknown>();
  for (const row of rows.rows) {
    const { meta: _meta, ...rest } = JSON.parse(row.content) as Resource;
    out.set(`${rest.resourceType}/${rest.id ?? ''}`, rest);
  }
  return out;
}

/** Which events were recorded, per visit. Not their changedState: that depends on the order the messages were applied in. */
async function outboxKinds(store: Store): Promise<string[]> {
  const rows = await store.engine.query<{ kind: string; encounter_id: string }>(`SELECT kind, encounter_id FROM outbox ORDER BY encounter_id, kind`);
  return rows.rows.map((r) => `${r.encounter_id} ${r.kind}`);
}

describe('one visit applied by several workers at once (PostgreSQL)', () => {
  const senders = loadSenderDirectory({});
  const handlers = { [HL7_INBOX_KIND]: hl7InboxHandler(senders) };
  let expected: Map<string, unknown>;
  let expectedOutbox: string[];

  beforeAll(async () => {
    loadFhirDefinitions();
    // The reference: one worker, one message at a time, in arrival order.
    const database = await createTestDatabase();
    const store = await Store.open({ databaseUrl: database.url });
    try {
      await store.migrate();
      for (const visit of await acceptAll(store)) for (const id of visit) expect(await processInboxItem(store, id, handlers)).toBe('done');
      expected = await record(store);
      expectedOutbox = await outboxKinds(store);
    } finally {
      await store.close();
      await database.drop();
    }
    const encounters = [...expected.values()].filter((r) => (r as Resource).resourceType === 'Encounter') as { status?: string; location?: unknown[] }[];
    expect(encounters).toHaveLength(VISITS);
    for (const e of encounters) {
      expect(e.status).toBe('finished');
      expect(e.location).toHaveLength(2);
    }
  }, 120_000);

  const withStore = async (run: (store: Store, ids: string[][]) => Promise<void>, options: { accept: boolean } = { accept: true }): Promise<void> => {
    const database = await createTestDatabase();
    const store = await Store.open({ databaseUrl: database.url });
    try {
      await store.migrate();
      const ids = options.accept ? await acceptAll(store) : [];
      await run(store, ids);
      expect(await listInbox(store.engine, ['pending', 'retry', 'failed', 'dead'], 1000)).toEqual([]);
      expect(await record(store)).toEqual(expected);
      expect(await outboxKinds(store)).toEqual(expectedOutbox);
    } finally {
      await store.close();
      await database.drop();
    }
  };

  test('every message applied on its own, all at once (as BullMQ workers with concurrency do)', async () => {
    await withStore(async (store, ids) => {
      const results = await Promise.all(ids.flat().map((id) => processInboxItem(store, id, handlers)));
      expect(results.filter((r) => r !== 'done')).toEqual([]);
    });
  }, 120_000);

  test('two processes applying batches of the same visits at once', async () => {
    await withStore(async (store, ids) => {
      const batch = hl7BatchHandler(senders);
      // One process took the admissions and discharges, the other the transfers in between.
      const first = ids.flatMap((visit) => [visit[0] ?? '', visit[2] ?? '']);
      const second = ids.map((visit) => visit[1] ?? '');
      const [a, b] = await Promise.all([processInboxBatch(store, first, HL7_INBOX_KIND, batch, handlers), processInboxBatch(store, second, HL7_INBOX_KIND, batch, handlers)]);
      expect([...a.results.values(), ...b.results.values()].filter((r) => r !== 'done')).toEqual([]);
      // Every round committed as a round: none fell back to one by one (a deadlock between the two would).
      expect(a.oneByOne + b.oneByOne).toBe(0);
    });
  }, 120_000);

  test('the feed on BullMQ workers (Redis): four MLLP senders, every row applied in batches, the record as one by one', async () => {
    const redisUrl = process.env['REDIS_URL'];
    if (!redisUrl) throw new Error('REDIS_URL is not set: this integration test needs a Redis server (see README, "Running the tests")');
    const redis = new IORedis(redisUrl);
    await redis.flushall();
    redis.disconnect();
    await withStore(
      async (store) => {
        const feed = await startHl7Feed({ store, logger: createLogger('silent'), registry: new Registry(), redisUrl, listenMllp: true, mllpPort: 0, runWorkers: true });
        const clients = Array.from({ length: 4 }, () => new MllpClient({ host: '127.0.0.1', port: feed.mllpPort ?? 0, timeoutMs: 20_000 }));
        try {
          await Promise.all(clients.map((c) => c.connect()));
          // Each sender has its own visits, sent as a PAS does: a block's admissions, then its transfers, then its discharges.
          await Promise.all(
            clients.map(async (client, c) => {
              const visits = Array.from({ length: VISITS }, (_, v) => v).filter((v) => v % clients.length === c);
              for (const step of [0, 1, 2] as const) {
                for (const v of visits) expect((await client.send(message(v, step))).toString('latin1')).toContain('\rMSA|AA|');
              }
            }),
          );
          const until = Date.now() + 60_000;
          while ((await listInbox(store.engine, ['done'], 1000)).length < VISITS * 3) {
            if (Date.now() > until) throw new Error('the BullMQ workers did not apply every row in time');
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        } finally {
          await Promise.all(clients.map((c) => c.close()));
          await feed.close();
        }
        // Applied in batches, not one job at a time: fewer applications than rows.
        const batches = await store.engine.query<{ n: number }>(`SELECT count(DISTINCT processed_at)::int AS n FROM inbox WHERE status = 'done'`);
        expect(batches.rows[0]?.n).toBeLessThan(VISITS * 3);
      },
      { accept: false },
    );
  }, 120_000);
});
