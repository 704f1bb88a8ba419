import type { AllergyIntolerance } from '@medplum/fhirtypes';
import { GP_INBOX_KIND, gpInboxHandler } from '../../gateway/gp/apply';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { processInboxItem } from '../../gateway/ingest/inbox-processor';
import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';
import { atTime, bundleCopy, gpIntakeFor, storedByIdentifier, without } from './gp-support';

/**
 * On PostgreSQL, with several connections: an older and a newer bundle for the same patient
 * applied at the same moment by two workers always end as the newer one, whichever commits first
 * (the practice's view is checked and written in one transaction, serialised per patient).
 */
describe('GP Connect re-import on PostgreSQL under concurrent workers', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: Store;
  beforeAll(async () => {
    loadFhirDefinitions();
    db = await createTestDatabase();
    store = await Store.open({ databaseUrl: db.url, poolSize: 6 });
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  test('older and newer bundles racing: the newer view wins every time, nothing is rolled back', async () => {
    const intake = gpIntakeFor(store);
    const handlers = { [GP_INBOX_KIND]: gpInboxHandler() };
    // The practice's view before the race holds the peanut allergy, so every round has something to end.
    const first = await intake.receive(Buffer.from(JSON.stringify(atTime(bundleCopy('allergies-active-and-ended'), '2026-10-01T10:00:00+00:00'))));
    expect(await processInboxItem(store, first.inboxId ?? '', handlers)).toBe('done');
    for (let round = 0; round < 5; round++) {
      const day = String(10 + round * 2).padStart(2, '0');
      const older = atTime(bundleCopy('allergies-active-and-ended'), `2026-10-${day}T09:00:00+00:00`);
      const newer = without(atTime(bundleCopy('allergies-active-and-ended'), `2026-10-${day}T10:00:00+00:00`), 'AllergyIntolerance/alg-2');
      const ids = await Promise.all([intake.receive(Buffer.from(JSON.stringify(older))), intake.receive(Buffer.from(JSON.stringify(newer)))]);
      const [a, b] = round % 2 === 0 ? ids : [...ids].reverse();
      // Two workers at once; a transient failure (a deadlock between them) is retried, as the worker does.
      const settle = async (id: string): Promise<string> => {
        let result = await processInboxItem(store, id, handlers);
        for (let attempt = 0; result === 'retry' && attempt < 5; attempt++) result = await processInboxItem(store, id, handlers);
        return result;
      };
      expect(await Promise.all([settle(a?.inboxId ?? ''), settle(b?.inboxId ?? '')])).toEqual(['done', 'done']);
      const peanut = (await storedByIdentifier<AllergyIntolerance>(store, 'AllergyIntolerance', '5f0c1a3e-1111-4c5a-9e00-000000000002'))[0];
      expect([round, peanut?.clinicalStatus?.coding?.[0]?.code]).toEqual([round, 'inactive']);
      const state = await store.engine.query<{ as_of: Date }>('SELECT as_of FROM gp_record_state');
      expect(state.rows.map((r) => new Date(r.as_of).toISOString())).toEqual([`2026-10-${day}T10:00:00.000Z`]);
      // Bring it back for the next round (a later bundle that holds it again).
      const back = atTime(bundleCopy('allergies-active-and-ended'), `2026-10-${String(11 + round * 2).padStart(2, '0')}T10:00:00+00:00`);
      const again = await intake.receive(Buffer.from(JSON.stringify(back)));
      await processInboxItem(store, again.inboxId ?? '', handlers);
    }
  });
});
