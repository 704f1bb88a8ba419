import type { Patient, Provenance, Resource } from '@medplum/fhirtypes';
import { parseSearch } from '../../gateway/api/search-parser';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { SYSTEM_SCOPE, type AccessScope } from '../../gateway/store/access-scope';
import { acceptIntoInbox, completeInboxItem, pendingInboxIds, readInboxContent } from '../../gateway/store/inbox';
import { readHistory, readResource, readVersion, searchResources } from '../../gateway/store/resource-reader';
import { DuplicateInBatchError } from '../../gateway/store/resource-writer';
import type { Store } from '../../gateway/store/store';
import { syntheticEncounter, syntheticPatient } from '../support/synthetic';

export interface StoreFactory {
  /** A new, empty, migrated store, opened once for the suite. */
  open(): Promise<Store>;
  /** A second store on the same database (for concurrency tests), if the engine allows it. */
  openSecond?: () => Promise<Store>;
  dispose(): Promise<void>;
}

const TABLES = ['resource', 'resource_history', 'sp_token', 'sp_string', 'sp_date', 'sp_reference', 'sp_number', 'inbox'];

const ids = (resources: readonly Resource[]): string[] => resources.map((r) => r.id ?? '');

async function search(store: Store, type: string, query: string, scope: AccessScope = SYSTEM_SCOPE): Promise<{ ids: string[]; total?: number }> {
  const page = await searchResources(store.engine, scope, parseSearch(type, new URLSearchParams(query)));
  return { ids: ids(page.resources), total: page.total };
}

/** The same store behaviour, asserted on each engine. */
export function describeStoreConformance(engineName: string, factory: () => StoreFactory): void {
  describe(`Store conformance on ${engineName}`, () => {
    let stores: StoreFactory;
    let store: Store;

    beforeAll(async () => {
      loadFhirDefinitions();
      stores = factory();
      store = await stores.open();
    });
    beforeEach(async () => {
      // Each test starts from an empty store (opening a new one per test would cost seconds on PGlite).
      await store.engine.exec(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY`);
    });
    afterAll(async () => {
      await store.close();
      await stores.dispose();
    });

    test('migrations applied a second time change nothing and the store reports ready', async () => {
      expect(await store.migrate()).toEqual([]);
      expect(await store.readiness()).toEqual({ ok: true, engine: store.engine.kind, pendingMigrations: [] });
    });

    test('a new resource is version 1 with lastUpdated set by the store', async () => {
      const now = new Date('2026-11-20T09:00:00.000Z');
      const [written] = await store.upsert([syntheticPatient(1)], { now });
      expect(written).toEqual({ resourceType: 'Patient', id: 'pat-1', versionId: '1', changed: true });
      const read = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', 'pat-1');
      expect(read.found && read.resource.meta).toEqual({ versionId: '1', lastUpdated: '2026-11-20T09:00:00.000Z' });
    });

    test('writing the same content again creates no new version', async () => {
      await store.upsert([syntheticPatient(1), syntheticEncounter(1, 'pat-1')]);
      const again = await store.upsert([syntheticPatient(1), syntheticEncounter(1, 'pat-1')]);
      expect(again.map((w) => [w.id, w.versionId, w.changed])).toEqual([
        ['pat-1', '1', false],
        ['enc-1', '1', false],
      ]);
      const history = await readHistory(store.engine, SYSTEM_SCOPE, 'Patient', 'pat-1', { count: 10 });
      expect(history.total).toBe(1);
    });

    test('changed content makes version 2 and keeps version 1 in history', async () => {
      await store.upsert([syntheticPatient(1)]);
      await store.upsert([syntheticPatient(1, { gender: 'other' })]);
      const v1 = await readVersion(store.engine, SYSTEM_SCOPE, 'Patient', 'pat-1', '1');
      const v2 = await readVersion(store.engine, SYSTEM_SCOPE, 'Patient', 'pat-1', '2');
      expect(v1.found && (v1.resource as Patient).gender).toBe('male');
      expect(v2.found && (v2.resource as Patient).gender).toBe('other');
      const history = await readHistory(store.engine, SYSTEM_SCOPE, 'Patient', 'pat-1', { count: 10 });
      expect(history.versions.map((v) => v.meta?.versionId)).toEqual(['2', '1']);
    });

    test('a batch of several resources keeps each content exactly, in the current row and its history row alike', async () => {
      // The contents travel to the server as one JSON array: quotes, backslashes, line breaks and
      // non-ASCII text must come back as they went in, each on its own resource.
      const tricky = (n: number): Patient => syntheticPatient(n, { name: [{ family: `O"Brien\\${String(n)}`, given: ['Zoë', 'line\nbreak', '{"not":"json"}', ','] }] });
      const now = new Date('2026-11-20T09:00:00.000Z');
      await store.upsert([tricky(1), tricky(2), syntheticEncounter(1, 'pat-1')], { now });
      for (const n of [1, 2]) {
        const read = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', `pat-${String(n)}`);
        const v1 = await readVersion(store.engine, SYSTEM_SCOPE, 'Patient', `pat-${String(n)}`, '1');
        const expected = { ...tricky(n), meta: { versionId: '1', lastUpdated: '2026-11-20T09:00:00.000Z' } };
        expect(read.found && read.resource).toEqual(expected);
        expect(v1.found && v1.resource).toEqual(expected);
      }
      const rows = await store.engine.query<{ id: string; version_id: string; patient_ids: string[] }>(
        `SELECT h.id, h.version_id::text AS version_id, h.patient_ids FROM resource_history h JOIN resource r USING (resource_type, id, version_id) WHERE h.content = r.content ORDER BY h.id`,
      );
      expect(rows.rows).toEqual([
        { id: 'enc-1', version_id: '1', patient_ids: ['pat-1'] },
        { id: 'pat-1', version_id: '1', patient_ids: ['pat-1'] },
        { id: 'pat-2', version_id: '1', patient_ids: ['pat-2'] },
      ]);
    });

    test('search indexes follow the current version only', async () => {
      await store.upsert([syntheticPatient(1, { name: [{ family: 'Oldname' }] })]);
      expect((await search(store, 'Patient', 'family=oldname')).ids).toEqual(['pat-1']);
      await store.upsert([syntheticPatient(1, { name: [{ family: 'Newname' }] })]);
      expect((await search(store, 'Patient', 'family=oldname')).ids).toEqual([]);
      expect((await search(store, 'Patient', 'family=newname')).ids).toEqual(['pat-1']);
    });

    test('a batch is all or nothing: one bad resource writes none of it', async () => {
      const bad = { resourceType: 'Patient' } as Patient;
      await expect(store.upsert([syntheticPatient(1), bad])).rejects.toThrow('without an id');
      await expect(store.upsert([syntheticPatient(2), syntheticPatient(2)])).rejects.toThrow(DuplicateInBatchError);
      // A failure inside the transaction (after the first rows were written) rolls everything back.
      await expect(
        store.upsert([syntheticPatient(3)], {
          provenance: () => ({ resourceType: 'Provenance' }) as Provenance,
        }),
      ).rejects.toThrow('Provenance without an id');
      expect(await store.countResources()).toBe(0);
    });

    test('a Provenance per input names exactly the versions that changed', async () => {
      const provenance = (changed: readonly { resourceType: string; id: string; versionId: string }[]): Provenance | undefined =>
        changed.length === 0
          ? undefined
          : { resourceType: 'Provenance', id: 'prov-input-1', recorded: '2026-11-20T09:00:00Z', agent: [{ who: { display: 'test feed' } }], target: changed.map((c) => ({ reference: `${c.resourceType}/${c.id}/_history/${c.versionId}` })) };
      await store.upsert([syntheticPatient(1)], { provenance });
      const second = await store.upsert([syntheticPatient(1), syntheticPatient(2)], { provenance });
      expect(second.map((w) => `${w.resourceType}/${w.id}@${w.versionId}:${String(w.changed)}`)).toEqual(['Patient/pat-1@1:false', 'Patient/pat-2@1:true', 'Provenance/prov-input-1@2:true']);
      const prov = await readResource(store.engine, SYSTEM_SCOPE, 'Provenance', 'prov-input-1');
      expect(prov.found && (prov.resource as Provenance).target).toEqual([{ reference: 'Patient/pat-2/_history/1' }]);
    });

    test('the access scope applies before paging and counting', async () => {
      await store.upsert([syntheticPatient(1), syntheticPatient(2), syntheticEncounter(1, 'pat-1'), syntheticEncounter(2, 'pat-2'), syntheticEncounter(3, 'pat-2')]);
      const onlyPatient2: AccessScope = { patientIds: ['pat-2'], nonPatientResources: false, resourceTypes: 'all', withheldLabels: [] };
      expect(await search(store, 'Encounter', '_sort=_id', onlyPatient2)).toEqual({ ids: ['enc-2', 'enc-3'], total: 2 });
      expect(await search(store, 'Encounter', '_sort=_id&_count=1', onlyPatient2)).toEqual({ ids: ['enc-2'], total: 2 });
      const read = await readResource(store.engine, onlyPatient2, 'Encounter', 'enc-1');
      expect(read).toEqual({ found: false, withheld: true });
    });

    test('resources with a withheld security label are excluded from search, read and history', async () => {
      const restricted = syntheticEncounter(2, 'pat-1', { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } });
      await store.upsert([syntheticPatient(1), syntheticEncounter(1, 'pat-1'), restricted]);
      const scope: AccessScope = { ...SYSTEM_SCOPE, withheldLabels: ['http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R'] };
      expect(await search(store, 'Encounter', '', scope)).toEqual({ ids: ['enc-1'], total: 1 });
      expect(await readResource(store.engine, scope, 'Encounter', 'enc-2')).toEqual({ found: false, withheld: true });
      const history = await readHistory(store.engine, scope, 'Encounter', 'enc-2', { count: 10 });
      expect({ total: history.total, withheld: history.withheld, versions: history.versions.length }).toEqual({ total: 0, withheld: 1, versions: 0 });
    });

    test('the scope limits by source and by id per type before paging and counting', async () => {
      const from = (source: string) => ({ meta: { source } });
      await store.upsert([
        syntheticPatient(1, from('https://gp.example/Y01234')),
        syntheticEncounter(1, 'pat-1', from('https://trust.example/pas')),
        syntheticEncounter(2, 'pat-1', from('https://trust.example/pas')),
        syntheticEncounter(3, 'pat-1', from('https://council.example/carefirst')),
        syntheticEncounter(4, 'pat-1'),
      ]);
      const onlyTrust: AccessScope = { ...SYSTEM_SCOPE, allowedSources: ['https://trust.example/pas'] };
      expect(await search(store, 'Encounter', '_sort=_id&_count=1', onlyTrust)).toEqual({ ids: ['enc-1'], total: 2 });
      expect(await readResource(store.engine, onlyTrust, 'Patient', 'pat-1')).toEqual({ found: false, withheld: true });
      const notCouncil: AccessScope = { ...SYSTEM_SCOPE, withheldSources: ['https://council.example/carefirst'] };
      expect(await search(store, 'Encounter', '_sort=_id', notCouncil)).toEqual({ ids: ['enc-1', 'enc-2', 'enc-4'], total: 3 });
      const either: AccessScope = { ...SYSTEM_SCOPE, anyOf: [onlyTrust, { ...SYSTEM_SCOPE, patientIds: ['pat-9'] }, { ...SYSTEM_SCOPE, resourceTypes: ['Patient'] }] };
      expect(await search(store, 'Encounter', '_sort=_id', either)).toEqual({ ids: ['enc-1', 'enc-2'], total: 2 });
      expect((await readResource(store.engine, either, 'Patient', 'pat-1')).found).toBe(true);
      expect(await search(store, 'Encounter', '', { ...SYSTEM_SCOPE, anyOf: [] })).toEqual({ ids: [], total: 0 });
      const latest: AccessScope = { ...SYSTEM_SCOPE, onlyIds: { Encounter: ['enc-2', 'enc-4'] } };
      expect(await search(store, 'Encounter', '_sort=_id', latest)).toEqual({ ids: ['enc-2', 'enc-4'], total: 2 });
      expect((await readResource(store.engine, latest, 'Patient', 'pat-1')).found).toBe(true);
    });

    test('a resource that became restricted takes its earlier, unrestricted versions with it', async () => {
      const label = { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' };
      await store.upsert([syntheticPatient(1), syntheticEncounter(1, 'pat-1')]);
      await store.upsert([syntheticEncounter(1, 'pat-1', { meta: { security: [label] } })]);
      const scope: AccessScope = { ...SYSTEM_SCOPE, withheldLabels: [`${label.system}|${label.code}`] };
      expect(await readVersion(store.engine, scope, 'Encounter', 'enc-1', '1')).toEqual({ found: false, withheld: true });
      const history = await readHistory(store.engine, scope, 'Encounter', 'enc-1', { count: 10 });
      expect({ total: history.total, withheld: history.withheld, versions: history.versions.length }).toEqual({ total: 0, withheld: 2, versions: 0 });
      const unrestricted = await readHistory(store.engine, SYSTEM_SCOPE, 'Encounter', 'enc-1', { count: 10 });
      expect(unrestricted.versions.map((v) => v.meta?.versionId)).toEqual(['2', '1']);
    });

    test('the inbox keeps raw input once, tells duplicates from conflicting re-use of an id', async () => {
      const first = await acceptIntoInbox(store.engine, { source: 'pas-1', kind: 'hl7v2', dedupKey: 'MSG0001', content: Buffer.from('MSH|one') });
      expect(first.accepted).toBe('new');
      const duplicate = await acceptIntoInbox(store.engine, { source: 'pas-1', kind: 'hl7v2', dedupKey: 'MSG0001', content: Buffer.from('MSH|one') });
      expect([duplicate.accepted, duplicate.item.id]).toEqual(['duplicate', first.item.id]);
      const conflict = await acceptIntoInbox(store.engine, { source: 'pas-1', kind: 'hl7v2', dedupKey: 'MSG0001', content: Buffer.from('MSH|two') });
      expect(conflict.accepted).toBe('conflict');
      const otherSender = await acceptIntoInbox(store.engine, { source: 'pas-2', kind: 'hl7v2', dedupKey: 'MSG0001', content: Buffer.from('MSH|two') });
      expect(otherSender.accepted).toBe('new');
      expect(await pendingInboxIds(store.engine, 10)).toEqual([first.item.id, otherSender.item.id]);
      expect((await readInboxContent(store.engine, first.item.id))?.toString()).toBe('MSH|one');
      await completeInboxItem(store.engine, first.item.id, 'done', { ack: 'AA' });
      expect(await pendingInboxIds(store.engine, 10)).toEqual([otherSender.item.id]);
      const again = await acceptIntoInbox(store.engine, { source: 'pas-1', kind: 'hl7v2', dedupKey: 'MSG0001', content: Buffer.from('MSH|one') });
      expect([again.accepted, again.item.status, again.item.outcome]).toEqual(['duplicate', 'done', { ack: 'AA' }]);
    });

    test('concurrent writers of one resource produce consecutive versions with nothing lost', async () => {
      const second = stores.openSecond ? await stores.openSecond() : store;
      try {
        const writes = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? store : second).upsert([syntheticPatient(1, { name: [{ family: `Name${i}` }] })]));
        const results = await Promise.all(writes);
        const versions = results.map((r) => Number(r[0]?.versionId)).sort((a, b) => a - b);
        expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
        const history = await readHistory(store.engine, SYSTEM_SCOPE, 'Patient', 'pat-1', { count: 100 });
        expect(history.total).toBe(12);
      } finally {
        if (second !== store) await second.close();
      }
    });

    test('patient compartment: $everything finds what belongs to the patient and nothing else', async () => {
      const { readCompartment } = await import('../../gateway/store/resource-reader');
      await store.upsert([syntheticPatient(1), syntheticPatient(2), syntheticEncounter(1, 'pat-1'), syntheticEncounter(2, 'pat-2')]);
      const page = await readCompartment(store.engine, SYSTEM_SCOPE, ['pat-1'], { count: 100 });
      expect(page.resources.map((r) => `${r.resourceType}/${r.id ?? ''}`)).toEqual(['Encounter/enc-1', 'Patient/pat-1']);
    });
  });
}
