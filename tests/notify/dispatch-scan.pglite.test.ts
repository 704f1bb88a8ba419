import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { TOLD } from '../../gateway/notify/access';
import { dispatchOutbox, FULL_SCAN_MS, type DispatchScan } from '../../gateway/notify/dispatcher';
import { Store } from '../../gateway/store/store';
import { HOSPITAL_SOURCE } from './world';

/**
 * The dispatcher that remembers how far it got (DispatchScan) looks only above that between full
 * passes, and still dispatches every row: one that becomes visible below it (an outbox id taken
 * by a transaction that commits after a later one) is found by the next full pass from the cursor.
 */

let store: Store;

beforeAll(async () => {
  loadFhirDefinitions();
  store = await Store.open({});
  await store.migrate();
});

afterAll(async () => {
  await store.close();
});

async function outboxRow(id?: number): Promise<string> {
  const rows = await store.engine.query<{ id: string }>(
    `INSERT INTO outbox (${id === undefined ? '' : 'id, '}kind, patient_id, encounter_id, source, inbox_id, event_time, payload)
     VALUES (${id === undefined ? '' : `${String(id)}, `}'admission', 'p-1', 'e-1', $1, NULL, now(), '{}'::jsonb) RETURNING id::text AS id`,
    [HOSPITAL_SOURCE],
  );
  return rows.rows[0]?.id as string;
}

const dispatched = async (): Promise<string[]> => (await store.engine.query<{ id: string }>('SELECT outbox_id::text AS id FROM notify_event ORDER BY outbox_id')).rows.map((r) => r.id);

test('rows below the high-water mark are dispatched by the next full pass; rows above it at once', async () => {
  const access = (): typeof TOLD => TOLD;
  let clock = 1_000_000;
  const scan: DispatchScan = { highWater: 0n, fullScanAt: 0 };
  const pass = (): ReturnType<typeof dispatchOutbox> => dispatchOutbox(store.engine, { access, scan, now: () => clock });

  // Ids 1000 and 1001 taken; 1001 commits first (1000 is written later, below it).
  const first = await outboxRow(1001);
  expect((await pass()).events).toBe(1);
  expect(scan.highWater).toBe(1001n);
  expect(scan.fullScanAt).toBe(clock);

  const late = await outboxRow(1000);
  const next = await outboxRow(1002);
  clock += 10;
  // Between full passes: only what is above the high-water mark.
  expect((await pass()).events).toBe(1);
  expect(await dispatched()).toEqual([first, next]);
  expect(scan.highWater).toBe(1002n);

  clock += FULL_SCAN_MS;
  // The full pass from the cursor finds the row that appeared below.
  expect((await pass()).events).toBe(1);
  expect(await dispatched()).toEqual([late, first, next]);
  expect(scan.highWater).toBe(1002n);
  expect(scan.fullScanAt).toBe(clock);

  clock += 10;
  expect((await pass()).events).toBe(0);
});
