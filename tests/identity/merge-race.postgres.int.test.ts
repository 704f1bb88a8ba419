import type { Encounter, Patient } from '@medplum/fhirtypes';
import { Client } from 'pg';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { mergeSourceRecords, unmergeSourceRecords } from '../../gateway/identity/merge';
import { ingestResources } from '../../gateway/ingest/ingest';
import { SYSTEM_SCOPE } from '../../gateway/store/access-scope';
import { readResource } from '../../gateway/store/resource-reader';
import { lockWriteKeys, writeResourcesInTransaction } from '../../gateway/store/resource-writer';
import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { sourcePatient, syntheticEncounter } from '../support/synthetic';

/**
 * A merge (HL7 A40, or an admin for the source) while a worker in another process is applying the
 * merged patient's next message: the worker holds its patient's and its resources' write locks, as
 * the hospital feed does, writes a new Encounter and changes the Patient, and commits while the
 * merge is waiting. The merge must then move the new Encounter too and keep the worker's change to
 * the Patient, not write the Patient back from what it read before. Real PostgreSQL, two connections.
 * Invented people, NHS numbers from the 999 range.
 */
const HOSPITAL = 'https://pas.example-trust.nhs.uk';

describe('a merge racing a worker on PostgreSQL', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  let watcher: Client;
  beforeAll(async () => {
    loadFhirDefinitions();
    const database = await createTestDatabase();
    dispose = database.drop;
    store = await Store.open({ databaseUrl: database.url });
    await store.migrate();
    watcher = new Client({ connectionString: database.url });
    await watcher.connect();
  });
  afterAll(async () => {
    await watcher.end();
    await store.close();
    await dispose();
  });

  /** Resolves once some connection is waiting for an advisory (write) lock. */
  async function someoneWaitsForALock(): Promise<void> {
    for (;;) {
      const waiting = await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
      if ((waiting.rows[0]?.n ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** A worker's transaction for the merged patient's next message, held open until `commit` is called. */
  function workerHoldingLocks(resources: (Patient | Encounter)[]): { started: Promise<void>; commit: () => void; done: Promise<void> } {
    let commit: () => void = () => undefined;
    const release = new Promise<void>((resolve) => (commit = resolve));
    let started: () => void = () => undefined;
    const startedPromise = new Promise<void>((resolve) => (started = resolve));
    const done = store.engine.transaction(async (tx) => {
      await lockWriteKeys(tx, resources.map((r) => `${r.resourceType}/${r.id ?? ''}`));
      await writeResourcesInTransaction(tx, resources);
      started();
      await release;
    });
    return { started: startedPromise, commit, done };
  }

  test("the merge waits for the worker, then moves what it wrote and keeps its change to the Patient", async () => {
    const nhs = demoNhsNumber(41);
    await ingestResources(store, [sourcePatient('h-1', HOSPITAL, nhs), sourcePatient('h-2', HOSPITAL, demoNhsNumber(42)), { ...syntheticEncounter(2, 'h-2'), id: 'h-enc-2', meta: { source: HOSPITAL } }]);
    const stored = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', 'h-2');
    const newAddress = [{ line: ['2 Example Lane'], city: 'Testtown', postalCode: 'ZZ9 9ZZ' }];
    const worker = workerHoldingLocks([
      { ...(stored.found ? (stored.resource as Patient) : ({} as Patient)), address: newAddress },
      { ...syntheticEncounter(3, 'h-2'), id: 'h-enc-3', meta: { source: HOSPITAL } },
    ]);
    await worker.started;

    const merging = mergeSourceRecords(store, { mergedId: 'h-2', survivorId: 'h-1', reason: 'HL7 A40 test', mergedBy: 'test' });
    await someoneWaitsForALock();
    worker.commit();
    await worker.done;
    const merge = await merging;

    expect(merge.moved).toEqual(['Encounter/h-enc-2', 'Encounter/h-enc-3']);
    const moved = await readResource(store.engine, SYSTEM_SCOPE, 'Encounter', 'h-enc-3');
    expect(moved.found && (moved.resource as Encounter).subject?.reference).toBe('Patient/h-1');
    const mergedAway = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', 'h-2');
    const patient = mergedAway.found ? (mergedAway.resource as Patient) : undefined;
    expect([patient?.active, patient?.link, patient?.address]).toEqual([false, [{ other: { reference: 'Patient/h-1' }, type: 'replaced-by' }], newAddress]);
    expect(patient?.meta?.versionId).toBe('3');
  });

  test('an unmerge waits for a worker changing the survivor, then keeps its change', async () => {
    const before = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', 'h-1');
    const telecom = [{ system: 'phone' as const, value: '01632 960001' }];
    const worker = workerHoldingLocks([{ ...(before.found ? (before.resource as Patient) : ({} as Patient)), telecom }]);
    await worker.started;

    const unmerging = unmergeSourceRecords(store, { mergedId: 'h-2' });
    await someoneWaitsForALock();
    worker.commit();
    await worker.done;
    expect((await unmerging).movedBack).toEqual(['Encounter/h-enc-2', 'Encounter/h-enc-3']);

    const survivor = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', 'h-1');
    const patient = survivor.found ? (survivor.resource as Patient) : undefined;
    expect([patient?.link, patient?.telecom]).toEqual([undefined, telecom]);
    const back = await readResource(store.engine, SYSTEM_SCOPE, 'Encounter', 'h-enc-3');
    expect(back.found && (back.resource as Encounter).subject?.reference).toBe('Patient/h-2');
  });
});
