import type { EpisodeOfCare, Observation, Resource } from '@medplum/fhirtypes';
import { CaldicottAccess } from '../../gateway/access/caldicott-access';
import { compactAccessChanges, readAccessEpoch } from '../../gateway/access/decision-cache';
import { GrantKind, PermissionToView, recordGrant } from '../../gateway/access/grants';
import { Interaction, PurposeOfUse, type ReadRequest, type Requester } from '../../gateway/access/hooks';
import { RELATIONSHIP_TYPES } from '../../gateway/access/person-record';
import { registerSourceSystem } from '../../gateway/access/source-systems';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { ingestResources } from '../../gateway/ingest/ingest';
import type { QueryResult, SqlClient } from '../../gateway/store/engine';
import type { Store } from '../../gateway/store/store';
import { sourcePatient } from '../support/synthetic';

/**
 * Remembered access decisions (gateway/access/decision-cache.ts), on a real store: a decision is
 * used again only while nothing it read has changed, which the database's own triggers note on
 * every write, and while the clock has not reached a moment at which the rules could decide
 * otherwise. Every kind of change that can move a decision is made here the way the intakes and
 * the access API make it (the store, identity resolution, grants, source systems), never through
 * the cache, and the next decision must see it.
 */

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const HOSPITAL = 'https://pas.example-trust.invalid/hl7v2';
const GP = 'https://gp.example.invalid/fhir';
const HOUR = 3_600_000;
const nurse: Requester = { userId: 'u-nurse', role: 'community_nurse', organisation: `${ODS}|ZZN01`, purposeOfUse: PurposeOfUse.TREAT };
const other: Requester = { userId: 'u-other', role: 'community_nurse', organisation: `${ODS}|ZZN02`, purposeOfUse: PurposeOfUse.TREAT };

const episode = (id: string, patientId: string, fields: Partial<EpisodeOfCare> = {}): EpisodeOfCare => ({
  resourceType: 'EpisodeOfCare',
  id,
  meta: { source: HOSPITAL },
  status: 'active',
  patient: { reference: `Patient/${patientId}` },
  managingOrganization: { reference: 'Organization/ZZN01', identifier: { system: ODS, value: 'ZZN01' } },
  ...fields,
});
const observation = (id: string, patientId: string): Observation => ({ resourceType: 'Observation', id, status: 'final', code: { text: 'synthetic observation' }, subject: { reference: `Patient/${patientId}` } });

/** One of each type the decision reads, in the compartment of the patient given. */
function relationshipResource(type: (typeof RELATIONSHIP_TYPES)[number], patientId: string): Resource {
  const subject = { reference: `Patient/${patientId}` };
  switch (type) {
    case 'Patient':
      return sourcePatient(patientId, HOSPITAL, demoNhsNumber(90), { birthDate: '1941-01-01' });
    case 'CareTeam':
      return { resourceType: 'CareTeam', id: `ct-${patientId}`, status: 'active', subject };
    case 'EpisodeOfCare':
      return episode(`eoc-${patientId}`, patientId);
    case 'Encounter':
      return { resourceType: 'Encounter', id: `enc-${patientId}`, status: 'in-progress', class: { code: 'IMP' }, subject };
    case 'ServiceRequest':
      return { resourceType: 'ServiceRequest', id: `sr-${patientId}`, status: 'active', intent: 'order', subject };
    case 'Consent':
      return { resourceType: 'Consent', id: `consent-${patientId}`, status: 'active', scope: { text: 'privacy' }, category: [{ text: 'sharing' }], patient: subject };
  }
}

export function describeDecisionCacheSuite(engineName: string, open: () => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
  describe(`remembered access decisions on ${engineName}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    const statements: string[] = [];
    let counted: SqlClient;
    let clock = new Date('2026-11-23T09:00:00Z');

    beforeAll(async () => {
      loadFhirDefinitions();
      ({ store, dispose } = await open());
      counted = {
        query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
          statements.push(sql);
          return store.engine.query<R>(sql, params);
        },
      };
    });
    afterAll(() => dispose());
    beforeEach(() => {
      clock = new Date('2026-11-23T09:00:00Z');
    });

    /** The decision, and how many statements it took. */
    async function decided(access: CaldicottAccess, requester: Requester, patientId: string): Promise<{ effect: string; personIds: readonly string[]; statements: number; value: object }> {
      statements.length = 0;
      const person = await access.decide({ requester }, patientId);
      return { effect: person.decision.effect, personIds: person.personIds, statements: statements.length, value: person };
    }

    /** Permission to view, recorded a minute ago (a moment of its own at which decisions are looked at again). */
    async function withPermissionToView(requester: Requester, patientId: string): Promise<void> {
      await recordGrant(store.engine, { kind: GrantKind.PERMISSION_TO_VIEW, requester, patientId, personIds: [patientId], decision: PermissionToView.GIVEN, now: new Date(clock.getTime() - 60_000) });
    }

    it('uses a decision again after one statement while nothing it read has changed, and is told of nothing', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, demoNhsNumber(71), { verified: true })]);
      await withPermissionToView(nurse, 'h-1');
      const access = new CaldicottAccess(counted, { now: () => clock });
      const first = await decided(access, nurse, 'h-1');
      expect(first.effect).toBe('deny');
      expect(first.statements).toBeGreaterThan(1);

      const again = await decided(access, nurse, 'h-1');
      expect(again.value).toBe(first.value);
      expect(again.statements).toBe(1);
      expect(statements[0]).toContain('access_change');

      // A write of a type the decision does not read (an Observation) leaves it standing.
      await store.upsert([observation('obs-h-1', 'h-1')]);
      expect((await decided(access, nurse, 'h-1')).value).toBe(first.value);

      // The relationship arrives from an intake: the next decision sees it.
      await store.upsert([episode('eoc-h-1', 'h-1')]);
      const related = await decided(access, nurse, 'h-1');
      expect(related.effect).toBe('permit');
      expect(related.statements).toBeGreaterThan(1);
      expect((await decided(access, nurse, 'h-1')).statements).toBe(1);

      // Another user's decision about the same person is their own.
      expect((await decided(access, other, 'h-1')).effect).toBe('deny');
      expect((await decided(access, nurse, 'h-1')).value).toBe(related.value);

      // The relationship moved to another person's record: it no longer counts for this one.
      await store.upsert([episode('eoc-h-1', 'h-elsewhere')]);
      expect((await decided(access, nurse, 'h-1')).effect).toBe('deny');
    });

    it('sees a new identity link, a grant and a change of which organisation holds a source', async () => {
      await ingestResources(store, [sourcePatient('h-2', HOSPITAL, demoNhsNumber(72), { verified: true }), episode('eoc-h-2', 'h-2')]);
      await withPermissionToView(nurse, 'h-2');
      const access = new CaldicottAccess(counted, { now: () => clock });
      const alone = await decided(access, nurse, 'h-2');
      expect(alone.effect).toBe('permit');
      expect(alone.personIds).toEqual(['h-2']);

      // The GP's record of the same person arrives and is linked: the person now has more ids.
      await ingestResources(store, [sourcePatient('g-2', GP, demoNhsNumber(72), { verified: true })]);
      const linked = await decided(access, nurse, 'h-2');
      expect(linked.statements).toBeGreaterThan(1);
      expect(linked.personIds).toContain('g-2');
      expect(linked.personIds.length).toBe(3);

      // Break-glass by a user with no relationship: denied, then permitted.
      expect((await decided(access, other, 'h-2')).effect).toBe('deny');
      await recordGrant(store.engine, { kind: GrantKind.BREAK_GLASS, requester: other, patientId: 'h-2', personIds: linked.personIds, reasonText: 'Collapsed at home', now: clock });
      await withPermissionToView(other, 'h-2');
      const glass = await decided(access, other, 'h-2');
      expect(glass.effect).toBe('permit');

      // A grant is noted against the person, so the nurse's decision is taken again once, and is the same.
      const after = await decided(access, nurse, 'h-2');
      expect(after.statements).toBeGreaterThan(1);
      expect(after.value).toEqual(linked.value);
      // The source systems concern every decision.
      expect((await decided(access, nurse, 'h-2')).statements).toBe(1);
      await registerSourceSystem(store.engine, { uri: 'https://new-source.example.invalid', organisation: `${ODS}|ZZS01`, kind: 'fhir' });
      expect((await decided(access, nurse, 'h-2')).statements).toBeGreaterThan(1);
    });

    it('decides afresh when the clock passes a moment the rules could decide otherwise, and not before', async () => {
      const ended = new Date(clock.getTime() - 30 * 24 * HOUR + HOUR).toISOString();
      await ingestResources(store, [sourcePatient('h-3', HOSPITAL, demoNhsNumber(73), { verified: true }), episode('eoc-h-3', 'h-3', { status: 'finished', period: { start: '2026-01-01T00:00:00Z', end: ended } })]);
      await withPermissionToView(nurse, 'h-3');
      // A lifetime far longer than the test, so that only the rules' own moments end the decision.
      const access = new CaldicottAccess(counted, { now: () => clock, decisionCache: { maxEntries: 100, ttlMs: 100 * 24 * HOUR } });
      const recent = await decided(access, nurse, 'h-3');
      expect(recent.effect).toBe('permit');

      // Closed an hour short of 30 days ago: recent contact for one more hour, then not.
      clock = new Date(clock.getTime() + HOUR - 1);
      expect((await decided(access, nurse, 'h-3')).value).toBe(recent.value);
      // At 30 days to the millisecond it is still recent (the rule is "within 30 days"); just after, not.
      clock = new Date(clock.getTime() + 1);
      expect((await decided(access, nurse, 'h-3')).effect).toBe('permit');
      clock = new Date(clock.getTime() + 1);
      const lapsed = await decided(access, nurse, 'h-3');
      expect(lapsed.statements).toBeGreaterThan(1);
      expect(lapsed.effect).toBe('deny');
    });

    it('a grant recorded on a clock ahead of this one counts from its start, not after the cache lifetime', async () => {
      await ingestResources(store, [sourcePatient('h-7', HOSPITAL, demoNhsNumber(77), { verified: true })]);
      await withPermissionToView(other, 'h-7');
      const access = new CaldicottAccess(counted, { now: () => clock, decisionCache: { maxEntries: 100, ttlMs: 100 * 24 * HOUR } });
      expect((await decided(access, other, 'h-7')).effect).toBe('deny');
      // Another API process, its clock 5 s ahead, records break-glass: this one sees the note at once,
      // but the grant has not started on its clock; it must look again when it does.
      await recordGrant(store.engine, { kind: GrantKind.BREAK_GLASS, requester: other, patientId: 'h-7', personIds: ['h-7'], reasonText: 'Collapsed at home', now: new Date(clock.getTime() + 5_000) });
      const early = await decided(access, other, 'h-7');
      expect(early.effect).toBe('deny');
      clock = new Date(clock.getTime() + 4_999);
      expect((await decided(access, other, 'h-7')).value).toBe(early.value);
      clock = new Date(clock.getTime() + 1);
      expect((await decided(access, other, 'h-7')).effect).toBe('permit');
    });

    it('keeps every epoch through compaction, and remembered decisions stay good', async () => {
      await ingestResources(store, [sourcePatient('h-4', HOSPITAL, demoNhsNumber(74), { verified: true })]);
      for (let i = 0; i < 5; i++) await store.upsert([episode('eoc-h-4', 'h-4', { statusHistory: [{ status: 'planned', period: { start: `2026-0${i + 1}-01` } }] })]);
      await withPermissionToView(nurse, 'h-4');
      const access = new CaldicottAccess(counted, { now: () => clock });
      const before = await decided(access, nurse, 'h-4');
      const epochs = await Promise.all([['h-4'], ['h-1'], ['h-2', 'g-2']].map((ids) => readAccessEpoch(store.engine, ids)));
      expect(Number(epochs[0])).toBeGreaterThanOrEqual(7);

      const removed = await compactAccessChanges(store.engine);
      expect(removed).toBeGreaterThan(0);
      expect(await Promise.all([['h-4'], ['h-1'], ['h-2', 'g-2']].map((ids) => readAccessEpoch(store.engine, ids)))).toEqual(epochs);
      const counts = await store.engine.query<{ n: string }>("SELECT count(*)::text AS n FROM access_change WHERE patient_id = 'h-4'");
      expect(counts.rows[0]?.n).toBe('1');
      expect(await compactAccessChanges(store.engine)).toBe(0);
      expect((await decided(access, nurse, 'h-4')).value).toBe(before.value);
    });

    it('notes a write of every type the decision reads, in the record it concerns', async () => {
      for (const type of RELATIONSHIP_TYPES) {
        const patientId = `p-${type.toLowerCase()}`;
        const before = Number(await readAccessEpoch(store.engine, [patientId]));
        await store.upsert([relationshipResource(type, patientId)]);
        expect({ type, moved: Number(await readAccessEpoch(store.engine, [patientId])) > before }).toEqual({ type, moved: true });
      }
      const before = await readAccessEpoch(store.engine, ['p-observed']);
      await store.upsert([observation('obs-unrelated', 'p-observed')]);
      expect(await readAccessEpoch(store.engine, ['p-observed'])).toBe(before);
      // A watched table emptied wholesale (a reset, a restore) concerns everyone.
      await store.engine.query('TRUNCATE source_system');
      expect(Number(await readAccessEpoch(store.engine, ['p-observed']))).toBe(Number(before) + 1);
    });

    it('reads a resource of the record with one statement before the scoped read when the decision is remembered', async () => {
      await ingestResources(store, [sourcePatient('h-6', HOSPITAL, demoNhsNumber(76), { verified: true }), episode('eoc-h-6', 'h-6'), observation('obs-h-6', 'h-6')]);
      await withPermissionToView(nurse, 'h-6');
      const access = new CaldicottAccess(counted, { now: () => clock });
      const read = (requestId: string): ReadRequest => ({ requestId, requester: nurse, interaction: Interaction.READ, resourceType: 'Observation', resourceId: 'obs-h-6' });
      statements.length = 0;
      const first = await access.scope(read('r-1'));
      expect(first.patientIds).toEqual(['h-6']);
      expect(statements.length).toBeGreaterThan(1);

      statements.length = 0;
      const second = read('r-2');
      expect(await access.scope(second)).toEqual(first);
      // The compartment, the person's ids and their epoch: one statement, and the decision is the remembered one.
      expect(statements).toEqual([expect.stringContaining('FROM access_change')]);
      expect(access.explain(second).decisions.map((d) => [d.effect, d.relationship])).toEqual([['permit', 'episode-of-care']]);

      // A new relationship resource in the record: the same single statement tells, and the decision is taken again.
      await store.upsert([{ resourceType: 'CareTeam', id: 'ct-h-6', status: 'active', subject: { reference: 'Patient/h-6' } }]);
      statements.length = 0;
      await access.scope(read('r-3'));
      expect(statements.length).toBeGreaterThan(1);
    });

    it('decides every time with the cache turned off, and shares frozen decisions when on', async () => {
      await ingestResources(store, [sourcePatient('h-5', HOSPITAL, demoNhsNumber(75), { verified: true }), episode('eoc-h-5', 'h-5')]);
      await withPermissionToView(nurse, 'h-5');
      const off = new CaldicottAccess(counted, { now: () => clock, decisionCache: { maxEntries: 0, ttlMs: 60_000 } });
      const a = await decided(off, nurse, 'h-5');
      const b = await decided(off, nurse, 'h-5');
      expect(b.statements).toBe(a.statements);
      expect(b.value).not.toBe(a.value);
      expect(b.value).toEqual(a.value);

      const on = new CaldicottAccess(counted, { now: () => clock });
      const shared = await on.decide({ requester: nurse }, 'h-5');
      expect(() => (shared.decision.reasons as string[]).push('changed by a caller')).toThrow(TypeError);
      expect(shared.decision.reasons).toEqual((a.value as { decision: { reasons: string[] } }).decision.reasons);
    });
  });
}
