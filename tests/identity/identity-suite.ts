import type { Condition, Encounter, Patient, Resource } from '@medplum/fhirtypes';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { listIdentityReviews, recordIdentityDecision } from '../../gateway/identity/admin';
import { FIELD_SOURCE_EXTENSION, goldenId } from '../../gateway/identity/golden';
import { mergeSourceRecords, survivorsOf, unmergeSourceRecords } from '../../gateway/identity/merge';
import { samePersonIds } from '../../gateway/identity/resolver';
import { ingestResources } from '../../gateway/ingest/ingest';
import { SYSTEM_SCOPE } from '../../gateway/store/access-scope';
import { readCompartment, readResource } from '../../gateway/store/resource-reader';
import type { Store } from '../../gateway/store/store';
import { sourcePatient as sharedSourcePatient } from '../support/synthetic';

const NHS = demoNhsNumber(3);
const GP = 'https://gp.example/emis';
const HOSPITAL = 'https://pas.example-trust.nhs.uk';
const COUNCIL = 'https://social-care.example-borough.gov.uk/carefirst';
const TABLES = ['resource', 'resource_history', 'sp_token', 'sp_string', 'sp_date', 'sp_reference', 'sp_number', 'inbox', 'identity_person', 'identity_member', 'identity_review', 'identity_decision', 'identity_merge', 'pds_trace'];

function sourcePatient(id: string, source: string, fields: { verified?: boolean; birthDate?: string; family?: string; nhs?: string } = {}): Patient {
  return sharedSourcePatient(id, source, fields.nhs ?? NHS, fields);
}

const condition = (id: string, patientId: string, source: string): Condition => ({ resourceType: 'Condition', id, meta: { source }, subject: { reference: `Patient/${patientId}` }, code: { text: 'synthetic condition' } });
const encounter = (id: string, patientId: string, source: string): Encounter => ({ resourceType: 'Encounter', id, meta: { source }, status: 'finished', class: { code: 'IMP' }, subject: { reference: `Patient/${patientId}` } });

const ARRIVALS: Record<string, Resource[]> = {
  gp: [sourcePatient('gp-1', GP, { verified: true, family: 'FromGp' }), condition('gp-cond-1', 'gp-1', GP)],
  hospital: [sourcePatient('h-1', HOSPITAL, { family: 'FromHospital' }), encounter('h-enc-1', 'h-1', HOSPITAL)],
  council: [sourcePatient('sc-1', COUNCIL, { family: 'FromCouncil' })],
};

const ORDERS = [
  ['gp', 'hospital', 'council'],
  ['gp', 'council', 'hospital'],
  ['hospital', 'gp', 'council'],
  ['hospital', 'council', 'gp'],
  ['council', 'gp', 'hospital'],
  ['council', 'hospital', 'gp'],
];

export function describeIdentitySuite(engineName: string, open: () => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
  describe(`identity resolution on ${engineName}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      loadFhirDefinitions();
      ({ store, dispose } = await open());
    });
    beforeEach(async () => {
      await store.engine.exec(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY`);
    });
    afterAll(async () => {
      await store.close();
      await dispose();
    });

    const people = async (): Promise<{ key: string; members: string[] }[]> =>
      (await store.engine.query<{ key: string; members: string[] }>('SELECT key, members FROM identity_person ORDER BY key')).rows;
    const golden = async (key: string): Promise<Patient> => {
      const read = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', goldenId(key));
      if (!read.found) throw new Error('no golden record');
      return read.resource as Patient;
    };

    test.each(ORDERS)('arriving %s, %s, %s: one person with every source, the same however they arrive', async (...order: string[]) => {
      for (const source of order) await ingestResources(store, ARRIVALS[source] as Resource[], { now: new Date('2026-11-20T10:00:00Z') });
      const key = `nhs:${NHS}|1939-05-17`;
      expect(await people()).toEqual([{ key, members: ['gp-1', 'h-1', 'sc-1'] }]);
      const person = await golden(key);
      expect(person.link?.map((l) => l.other.reference)).toEqual(['Patient/gp-1', 'Patient/h-1', 'Patient/sc-1']);
      // The GP record is the verified one: its name wins, and the record says where the name came from.
      expect(person.name?.[0]?.family).toBe('FromGp');
      const nameSource = person.extension?.find((e) => e.url === FIELD_SOURCE_EXTENSION && e.extension?.[0]?.valueString === 'name');
      expect(nameSource?.extension?.[1]?.valueReference?.reference).toBe('Patient/gp-1');
      expect(person.identifier?.[0]?.extension?.[0]?.valueCodeableConcept?.coding?.[0]?.code).toBe('01');
      expect(await listIdentityReviews(store.engine)).toEqual([]);
      // The shared record: $everything on any member returns what every source holds, each saying where it came from.
      const everything = await readCompartment(store.engine, SYSTEM_SCOPE, await samePersonIds(store.engine, 'h-1'), { count: 100 });
      expect(everything.resources.map((r) => `${r.resourceType}/${r.id ?? ''}@${r.meta?.source ?? ''}`).sort()).toEqual(
        [`Condition/gp-cond-1@${GP}`, `Encounter/h-enc-1@${HOSPITAL}`, `Patient/gp-1@${GP}`, `Patient/h-1@${HOSPITAL}`, `Patient/sc-1@${COUNCIL}`, `Patient/${goldenId(key)}@carebridge-person`].sort(),
      );
    });

    test('two unverified sources are a possible match listed for review, then linked when a verified one arrives', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL)]);
      await ingestResources(store, [sourcePatient('sc-1', COUNCIL)]);
      expect((await people()).map((p) => p.members)).toEqual([['h-1'], ['sc-1']]);
      const reviews = await listIdentityReviews(store.engine);
      expect(reviews.map((r) => [r.kind, r.a.patientId, r.b.patientId, r.a.source, r.b.source])).toEqual([['possible-match', 'h-1', 'sc-1', HOSPITAL, COUNCIL]]);
      await ingestResources(store, [sourcePatient('gp-1', GP, { verified: true })]);
      expect((await people()).map((p) => p.members)).toEqual([['gp-1', 'h-1', 'sc-1']]);
      expect(await listIdentityReviews(store.engine)).toEqual([]);
    });

    test('a conflicting birth date arriving after the link is listed with both sides and not linked', async () => {
      await ingestResources(store, [...(ARRIVALS['gp'] as Resource[]), ...(ARRIVALS['hospital'] as Resource[])]);
      await ingestResources(store, [sourcePatient('sc-1', COUNCIL, { birthDate: '1949-05-17' })]);
      expect((await people()).map((p) => p.members)).toEqual([['gp-1', 'h-1'], ['sc-1']]);
      const reviews = await listIdentityReviews(store.engine, ['conflict-birth-date']);
      expect(reviews.map((r) => [r.a.patientId, r.a.birthDate, r.b.patientId, r.b.birthDate])).toEqual([
        ['gp-1', '1939-05-17', 'sc-1', '1949-05-17'],
        ['h-1', '1939-05-17', 'sc-1', '1949-05-17'],
      ]);
      // The council corrects the birth date: the conflict resolves and the record joins the person.
      await ingestResources(store, [sourcePatient('sc-1', COUNCIL)]);
      expect((await people()).map((p) => p.members)).toEqual([['gp-1', 'h-1', 'sc-1']]);
      expect(await listIdentityReviews(store.engine)).toEqual([]);
    });

    test('a source merge moves references and keeps history; an unmerge moves back exactly what moved', async () => {
      await ingestResources(store, [...(ARRIVALS['gp'] as Resource[]), sourcePatient('h-1', HOSPITAL), sourcePatient('h-2', HOSPITAL, { nhs: '9990000000' }), encounter('h-enc-2', 'h-2', HOSPITAL)]);
      const merge = await mergeSourceRecords(store, { mergedId: 'h-2', survivorId: 'h-1', reason: 'A40', mergedBy: 'test' });
      expect(merge.moved).toEqual(['Encounter/h-enc-2']);
      const moved = await readResource(store.engine, SYSTEM_SCOPE, 'Encounter', 'h-enc-2');
      expect(moved.found && [(moved.resource as Encounter).subject?.reference, moved.resource.meta?.versionId]).toEqual(['Patient/h-1', '2']);
      const mergedAway = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', 'h-2');
      expect(mergedAway.found && [(mergedAway.resource as Patient).active, (mergedAway.resource as Patient).link]).toEqual([false, [{ other: { reference: 'Patient/h-1' }, type: 'replaced-by' }]]);
      expect((await people()).map((p) => p.members)).toEqual([['gp-1', 'h-1', 'h-2']]);
      // The survivor is not rewritten: its lastUpdated is still its source's last word (which practice, for one).
      const survivor = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', 'h-1');
      expect(survivor.found && [survivor.resource.meta?.versionId, (survivor.resource as Patient).link]).toEqual(['1', undefined]);

      await unmergeSourceRecords(store, { mergedId: 'h-2' });
      const back = await readResource(store.engine, SYSTEM_SCOPE, 'Encounter', 'h-enc-2');
      expect(back.found && [(back.resource as Encounter).subject?.reference, back.resource.meta?.versionId]).toEqual(['Patient/h-2', '3']);
      expect((await people()).map((p) => p.members).sort()).toEqual([['gp-1', 'h-1'], ['h-2']]);
    });

    test('a write naming a record merged meanwhile lands on the survivor, and a merged record sent again stays merged', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL), sourcePatient('h-2', HOSPITAL, { nhs: '9990000000' }), sourcePatient('h-3', HOSPITAL, { nhs: demoNhsNumber(4) })]);
      await mergeSourceRecords(store, { mergedId: 'h-3', survivorId: 'h-2', reason: 'A40', mergedBy: 'test' });
      await mergeSourceRecords(store, { mergedId: 'h-2', survivorId: 'h-1', reason: 'A40', mergedBy: 'test' });
      // Resolved before the merges (a FHIR Bundle's conditional reference, a stored visit), written after them.
      // Another server's Patient with the same id is that server's: not followed.
      const elsewhere = { ...condition('h-cond-3', 'h-3', HOSPITAL), subject: { reference: 'https://pas.example-trust.nhs.uk/fhir/Patient/h-3' } };
      const written = await ingestResources(store, [condition('h-cond-1', 'h-3', HOSPITAL), condition('h-cond-2', 'h-2', HOSPITAL), elsewhere, encounter('h-enc-9', 'h-9-not-stored', HOSPITAL), sourcePatient('h-3', HOSPITAL, { nhs: demoNhsNumber(4), family: 'Corrected' })]);
      expect(written.written.map((w) => [w.resourceType, w.id, w.changed])).toEqual([
        ['Condition', 'h-cond-1', true],
        ['Condition', 'h-cond-2', true],
        ['Condition', 'h-cond-3', true],
        ['Encounter', 'h-enc-9', true],
        ['Patient', 'h-3', true],
      ]);
      const subjectOf = async (type: string, id: string): Promise<string | undefined> => {
        const read = await readResource(store.engine, SYSTEM_SCOPE, type, id);
        return read.found ? (read.resource as Condition | Encounter).subject?.reference : undefined;
      };
      expect([await subjectOf('Condition', 'h-cond-1'), await subjectOf('Condition', 'h-cond-2'), await subjectOf('Condition', 'h-cond-3'), await subjectOf('Encounter', 'h-enc-9')]).toEqual([
        'Patient/h-1',
        'Patient/h-1',
        'https://pas.example-trust.nhs.uk/fhir/Patient/h-3',
        'Patient/h-9-not-stored',
      ]);
      const mergedAway = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', 'h-3');
      // Sent again with a correction, the merged record takes it and stays merged (until an unmerge).
      const stays = mergedAway.found ? (mergedAway.resource as Patient) : undefined;
      expect([stays?.name?.[0]?.family, stays?.active, stays?.link]).toEqual(['Corrected', false, [{ other: { reference: 'Patient/h-2' }, type: 'replaced-by' }]]);
      expect((await people()).map((p) => p.members)).toEqual([['h-1', 'h-2', 'h-3']]);

      // Undone, the merges move back what was written after them too, each to the record it named,
      // here in the order they were made (the first merge's survivor has been merged on since).
      expect((await unmergeSourceRecords(store, { mergedId: 'h-3' })).movedBack).toEqual(['Condition/h-cond-1']);
      expect([await subjectOf('Condition', 'h-cond-1'), await subjectOf('Condition', 'h-cond-2')]).toEqual(['Patient/h-3', 'Patient/h-1']);
      expect((await unmergeSourceRecords(store, { mergedId: 'h-2' })).movedBack).toEqual(['Condition/h-cond-1', 'Condition/h-cond-2']);
      expect([await subjectOf('Condition', 'h-cond-1'), await subjectOf('Condition', 'h-cond-2')]).toEqual(['Patient/h-3', 'Patient/h-2']);
    });

    test('a record merged into one later merged again is followed to the last survivor', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL), sourcePatient('h-2', HOSPITAL, { nhs: '9990000000' }), sourcePatient('h-3', HOSPITAL, { nhs: demoNhsNumber(4) })]);
      await mergeSourceRecords(store, { mergedId: 'h-3', survivorId: 'h-2', reason: 'A40', mergedBy: 'test' });
      expect([...(await survivorsOf(store.engine, ['Patient/h-3', 'Patient/h-2'])).entries()]).toEqual([['Patient/h-3', 'Patient/h-2'], ['Patient/h-2', 'Patient/h-2']]);
      await mergeSourceRecords(store, { mergedId: 'h-2', survivorId: 'h-1', reason: 'A40', mergedBy: 'test' });
      const survivors = await survivorsOf(store.engine, ['Patient/h-3', 'Patient/h-2', 'Patient/h-1', 'Patient/not-stored', 'Encounter/h-3']);
      expect([...survivors.entries()]).toEqual([['Patient/h-3', 'Patient/h-1'], ['Patient/h-2', 'Patient/h-1'], ['Patient/h-1', 'Patient/h-1']]);
    });

    test("an admin's unlink and link are applied, recorded with who and why, and recompute the person", async () => {
      for (const source of ['gp', 'hospital', 'council']) await ingestResources(store, ARRIVALS[source] as Resource[]);
      await recordIdentityDecision(store, { kind: 'unlink', a: 'sc-1', b: 'gp-1', reason: 'Different person: checked with the council', decidedBy: 'admin-1' });
      await recordIdentityDecision(store, { kind: 'unlink', a: 'sc-1', b: 'h-1', reason: 'Different person: checked with the council', decidedBy: 'admin-1' });
      expect((await people()).map((p) => p.members).sort()).toEqual([['gp-1', 'h-1'], ['sc-1']]);
      await recordIdentityDecision(store, { kind: 'link', a: 'sc-1', b: 'gp-1', reason: 'Same person after all: PDS trace', decidedBy: 'admin-2' });
      // The unlink of sc-1 and h-1 still stands, so h-1 may not join them.
      expect((await people()).map((p) => p.members).sort()).toEqual([['gp-1', 'sc-1'], ['h-1']]);
      await recordIdentityDecision(store, { kind: 'link', a: 'h-1', b: 'sc-1', reason: 'Same person after all: PDS trace', decidedBy: 'admin-2' });
      expect((await people()).map((p) => p.members)).toEqual([['gp-1', 'h-1', 'sc-1']]);
      const audit = await store.engine.query<{ kind: string; decided_by: string; reason: string }>('SELECT kind, decided_by, reason FROM identity_decision ORDER BY id');
      expect(audit.rows.map((r) => [r.kind, r.decided_by])).toEqual([['unlink', 'admin-1'], ['unlink', 'admin-1'], ['link', 'admin-2'], ['link', 'admin-2']]);
      await expect(recordIdentityDecision(store, { kind: 'link', a: 'sc-1', b: 'gp-1', reason: '', decidedBy: 'admin-2' })).rejects.toThrow('A reason is required');
    });

    test('a person that no longer exists is retired, not deleted, and re-ingesting the same records writes nothing new', async () => {
      await ingestResources(store, [sourcePatient('gp-1', GP, { verified: true }), sourcePatient('h-1', HOSPITAL)]);
      const key = `nhs:${NHS}|1939-05-17`;
      const again = await ingestResources(store, [sourcePatient('gp-1', GP, { verified: true }), sourcePatient('h-1', HOSPITAL)]);
      expect([again.written.map((w) => w.changed), again.identity?.goldenWritten]).toEqual([[false, false], 0]);
      // The hospital corrects its record to another person's number: the person dissolves.
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, { nhs: demoNhsNumber(4) })]);
      const retired = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', goldenId(key));
      expect(retired.found && [(retired.resource as Patient).active, (retired.resource as Patient).link, retired.resource.meta?.versionId]).toEqual([false, undefined, '2']);
      expect(await people()).toEqual([
        { key, members: ['gp-1'] },
        { key: 'record:h-1', members: ['h-1'] },
      ]);
      expect(await samePersonIds(store.engine, 'h-1')).toEqual(['h-1']);
    });
  });
}
