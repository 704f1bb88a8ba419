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

  /** Resolves once some connection (or `connections` of them) is waiting for an advisory (write) lock. */
  async function someoneWaitsForALock(connections = 1): Promise<void> {
    for (;;) {
      const waiting = await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
      if ((waiting.rows[0]?.n ?? 0) >= connections) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** A transaction holding these write locks (and writing these resources, as a worker does), open until `commit` is called. */
  function workerHoldingLocks(keys: readonly string[], resources: (Patient | Encounter)[] = []): { started: Promise<void>; commit: () => void; done: Promise<void> } {
    let commit: () => void = () => undefined;
    const release = new Promise<void>((resolve) => (commit = resolve));
    let started: () => void = () => undefined;
    const startedPromise = new Promise<void>((resolve) => (started = resolve));
    const done = store.engine.transaction(async (tx) => {
      await lockWriteKeys(tx, keys);
      await writeResourcesInTransaction(tx, resources);
      started();
      await release;
    });
    return { started: startedPromise, commit, done };
  }

  /** A worker's transaction for the merged patient's next message: its resources' keys and its writes. */
  const workerWriting = (resources: (Patient | Encounter)[]): ReturnType<typeof workerHoldingLocks> =>
    workerHoldingLocks(
      resources.map((r) => `${r.resourceType}/${r.id ?? ''}`),
      resources,
    );

  test("the merge waits for the worker, then moves what it wrote and keeps its change to the Patient", async () => {
    const nhs = demoNhsNumber(41);
    await ingestResources(store, [sourcePatient('h-1', HOSPITAL, nhs), sourcePatient('h-2', HOSPITAL, demoNhsNumber(42)), { ...syntheticEncounter(2, 'h-2'), id: 'h-enc-2', meta: { source: HOSPITAL } }]);
    const stored = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', 'h-2');
    const newAddress = [{ line: ['2 Example Lane'], city: 'Testtown', postalCode: 'ZZ9 9ZZ' }];
    const worker = workerWriting([
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
    const worker = workerWriting([{ ...(before.found ? (before.resource as Patient) : ({} as Patient)), telecom }]);
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

  test("a writer queued behind a merge's Patient holds none of its other keys meanwhile (the lock hierarchy)", async () => {
    // As a merge holds them: the two Patients' keys, until it commits.
    const merge = workerHoldingLocks(['Patient/h-2', 'Patient/h-1']);
    await merge.started;
    // A worker's keys for the merged patient's next message: its Encounter sorts before its Patient by name.
    const worker = store.engine.transaction((tx) => lockWriteKeys(tx, ['Encounter/h-enc-2', 'visit:x|1', 'Patient/h-2']));
    await someoneWaitsForALock();
    // Were the Encounter's key held by the waiting worker, a merge asking for it next would wait in a cycle.
    const free = await watcher.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended('Encounter/h-enc-2', 0)) AS ok`);
    expect(free.rows[0]?.ok).toBe(true);
    await watcher.query(`SELECT pg_advisory_unlock(hashtextextended('Encounter/h-enc-2', 0))`);
    merge.commit();
    await merge.done;
    await worker;
  });

  test("a late message for a merged record asks for its survivor's key first, before any other", async () => {
    await ingestResources(store, [sourcePatient('h-4', HOSPITAL, demoNhsNumber(44)), sourcePatient('h-5', HOSPITAL, demoNhsNumber(45))]);
    await mergeSourceRecords(store, { mergedId: 'h-5', survivorId: 'h-4', reason: 'HL7 A40 test', mergedBy: 'test' });
    // A worker applying the survivor's own message holds its Patient's key.
    const survivorWorker = workerHoldingLocks(['Patient/h-4']);
    await survivorWorker.started;
    // The merged record's late message: its keys, as the feed takes them, following the merge.
    const lateWorker = store.engine.transaction((tx) => lockWriteKeys(tx, ['Encounter/h-enc-5', 'Organization/trust', 'Patient/h-5'], { withSurvivors: true }));
    await someoneWaitsForALock();
    const free = await watcher.query<{ enc: boolean; org: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended('Encounter/h-enc-5', 0)) AS enc, pg_try_advisory_lock(hashtextextended('Organization/trust', 0)) AS org`);
    expect([free.rows[0]?.enc, free.rows[0]?.org]).toEqual([true, true]);
    await watcher.query(`SELECT pg_advisory_unlock_all()`);
    survivorWorker.commit();
    await survivorWorker.done;
    await lateWorker;
  });

  test('a write resolved before a merge and committed after it lands on the survivor, and an unmerge moves it back', async () => {
    await ingestResources(store, [sourcePatient('h-6', HOSPITAL, demoNhsNumber(46)), sourcePatient('h-7', HOSPITAL, demoNhsNumber(47)), { ...syntheticEncounter(7, 'h-7'), id: 'h-enc-7', meta: { source: HOSPITAL } }]);
    // Holds the merge after it has taken both Patients' keys (a stand-in for a slow moment of the merge).
    const blocker = workerHoldingLocks(['Encounter/h-enc-7']);
    await blocker.started;
    const merging = mergeSourceRecords(store, { mergedId: 'h-7', survivorId: 'h-6', reason: 'HL7 A40 test', mergedBy: 'test' });
    await someoneWaitsForALock();
    // A Flag whose subject was resolved to h-7 before the merge (a FHIR Bundle's conditional reference): its writer queues behind the merge.
    const flag = { resourceType: 'Flag' as const, id: 'h-flag-7', meta: { source: HOSPITAL }, status: 'active' as const, code: { text: 'synthetic flag' }, subject: { reference: 'Patient/h-7' } };
    const writing = ingestResources(store, [flag]);
    await someoneWaitsForALock(2);
    blocker.commit();
    await blocker.done;
    expect((await merging).moved).toEqual(['Encounter/h-enc-7']);
    await writing;
    const stored = await readResource(store.engine, SYSTEM_SCOPE, 'Flag', 'h-flag-7');
    expect(stored.found && (stored.resource as { subject?: { reference?: string } }).subject?.reference).toBe('Patient/h-6');
    expect((await unmergeSourceRecords(store, { mergedId: 'h-7' })).movedBack).toEqual(['Encounter/h-enc-7', 'Flag/h-flag-7']);
    const back = await readResource(store.engine, SYSTEM_SCOPE, 'Flag', 'h-flag-7');
    expect(back.found && (back.resource as { subject?: { reference?: string } }).subject?.reference).toBe('Patient/h-7');
  });
});
