import type { Patient } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { isGolden } from '../../gateway/identity/golden';
import { decideIdentity } from '../../gateway/identity/rules';
import { toSourceRecord } from '../../gateway/identity/source-records';
import { ingestResources } from '../../gateway/ingest/ingest';
import { parseStoredResource } from '../../gateway/store/resource-reader';
import { Store } from '../../gateway/store/store';
import { sourcePatient } from '../support/synthetic';

/**
 * The linking property through the database (the rules' own property test is pure): random source
 * records of a small synthetic population, from several sources, arrive in random order and random
 * batches through ingestResources (some sent twice), on a real PGlite store. Afterwards:
 *  - no person in identity_person holds records of two different true people (different NHS numbers
 *    or birth dates never end up linked);
 *  - two records of different sources with the same valid number and birth date, one of them
 *    verified, are one person (unless a duplicate within one source holds them back, as the rules say);
 *  - every person of more than one record has an active person-level Patient linking exactly its
 *    members, and no person-level Patient links anything else;
 *  - the open reviews are exactly those the rules raise over all the records at once (the ones an
 *    earlier batch raised and a later one no longer does are resolved).
 */
const SOURCES = ['urn:test:gp', 'urn:test:hospital', 'urn:test:council'] as const;
const KINDS = ['verified', 'unverified', 'wrong-number', 'invalid-number', 'no-number', 'dob-typo'] as const;
const POPULATION = 4;
const people = Array.from({ length: POPULATION }, (_, i) => ({ nhs: demoNhsNumber(i + 20), dob: `19${String(50 + i)}-0${String(1 + i)}-1${String(i)}` }));

interface Generated {
  person: number;
  source: number;
  kind: (typeof KINDS)[number];
  other: number;
}

interface Built {
  patient: Patient;
  truth: number;
  source: string;
  nhs?: string;
  valid: boolean;
  verified: boolean;
  dob: string;
}

function build(g: Generated, i: number): Built {
  const me = people[g.person] as { nhs: string; dob: string };
  const other = people[(g.person + 1 + (g.other % (POPULATION - 1))) % POPULATION] as { nhs: string; dob: string };
  const source = SOURCES[g.source] as string;
  const id = `prop-${String(i)}`;
  const invalid = `${me.nhs.slice(0, 9)}${String((Number(me.nhs[9]) + 1) % 10)}`;
  const nhs = g.kind === 'wrong-number' ? other.nhs : g.kind === 'invalid-number' ? invalid : me.nhs;
  const dob = g.kind === 'dob-typo' ? '1901-01-01' : me.dob;
  const verified = g.kind === 'verified';
  const patient = sourcePatient(id, source, nhs, { verified, birthDate: dob });
  if (g.kind === 'no-number') delete patient.identifier;
  return { patient, truth: g.person, source, nhs: g.kind === 'no-number' ? undefined : nhs, valid: g.kind !== 'no-number' && g.kind !== 'invalid-number', verified, dob };
}

describe('identity linking through the database (property)', () => {
  let store: Store;
  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
  });

  const arbitrary = fc
    .array(
      fc.record({
        person: fc.integer({ min: 0, max: POPULATION - 1 }),
        source: fc.integer({ min: 0, max: SOURCES.length - 1 }),
        kind: fc.constantFrom(...KINDS),
        other: fc.integer({ min: 0, max: 10 }),
      }),
      { minLength: 2, maxLength: 12 },
    )
    .chain((generated) =>
      fc.record({
        generated: fc.constant(generated),
        // Arrival: an order of the records, cut into batches, with some records sent again at the end.
        order: fc.shuffledSubarray([...generated.keys()], { minLength: generated.length, maxLength: generated.length }),
        cuts: fc.array(fc.boolean(), { minLength: generated.length, maxLength: generated.length }),
        again: fc.subarray([...generated.keys()]),
      }),
    );

  test('never links different people; always links a verified number and birth date shared across sources; person-level records match', async () => {
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ generated, order, cuts, again }) => {
        await store.engine.exec(
          'TRUNCATE resource, resource_history, sp_token, sp_string, sp_date, sp_reference, sp_number, identity_person, identity_member, identity_review, identity_decision, identity_merge, pds_trace',
        );
        const built = generated.map(build);
        const batches: Patient[][] = [[]];
        order.forEach((index, n) => {
          (batches[batches.length - 1] as Patient[]).push((built[index] as Built).patient);
          if (cuts[n] && n < order.length - 1) batches.push([]);
        });
        if (again.length > 0) batches.push(again.map((i) => (built[i] as Built).patient));
        for (const batch of batches) await ingestResources(store, batch);

        const persons = (await store.engine.query<{ key: string; golden_id: string | null; members: string[] }>('SELECT key, golden_id, members FROM identity_person')).rows;
        const byId = new Map(built.map((b) => [b.patient.id as string, b]));
        const personOf = new Map<string, string>();
        for (const p of persons) {
          // Never two true people in one person.
          expect(new Set(p.members.map((m) => byId.get(m)?.truth)).size).toBe(1);
          for (const m of p.members) personOf.set(m, p.key);
        }
        expect([...personOf.keys()].sort()).toEqual([...byId.keys()].sort());

        const duplicateInSource = (r: Built): boolean => built.some((o) => o !== r && o.source === r.source && o.valid && o.nhs === r.nhs);
        for (const x of built) {
          for (const y of built) {
            if (x === y || x.source === y.source || !x.valid || !y.valid || x.nhs !== y.nhs || x.dob !== y.dob || !(x.verified || y.verified)) continue;
            if (duplicateInSource(x) || duplicateInSource(y)) continue;
            expect(personOf.get(x.patient.id as string)).toBe(personOf.get(y.patient.id as string));
          }
        }

        // Person-level Patients: one active per linked person, linking exactly its members; the rest retired.
        const goldens = (await store.engine.query<{ content: string }>(`SELECT content::text AS content FROM resource WHERE resource_type = 'Patient'`)).rows
          .map((r) => parseStoredResource(r.content) as Patient)
          .filter(isGolden);
        const active = goldens.filter((g) => g.active);
        const linked = persons.filter((p) => p.members.length > 1);
        expect(active.map((g) => g.id).sort()).toEqual(linked.map((p) => p.golden_id).sort());
        for (const p of linked) {
          const golden = active.find((g) => g.id === p.golden_id);
          expect((golden?.link ?? []).map((l) => l.other.reference).sort()).toEqual(p.members.map((m) => `Patient/${m}`).sort());
        }
        for (const g of goldens.filter((x) => !x.active)) expect(g.link ?? []).toEqual([]);

        const open = (await store.engine.query<{ kind: string; a: string; b: string }>(`SELECT kind, a, b FROM identity_review WHERE status = 'open'`)).rows;
        const expected = decideIdentity(built.map((b) => toSourceRecord(b.patient, new Set()))).reviews;
        expect(open.map((r) => `${r.kind} ${r.a} ${r.b}`).sort()).toEqual(expected.map((r) => `${r.kind} ${r.a} ${r.b}`).sort());
      }),
      { numRuns: 40 },
    );
  }, 600_000);
});
