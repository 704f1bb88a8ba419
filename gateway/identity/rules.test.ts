import fc from 'fast-check';
import { demoNhsNumber } from '../demo/demo-data';
import { decideIdentity, ReviewKind, type SourceRecord } from './rules';

const N1 = demoNhsNumber(0);
const N2 = demoNhsNumber(1);

const rec = (patientId: string, source: string, fields: Partial<SourceRecord> = {}): SourceRecord => ({
  patientId,
  source,
  nhsNumber: N1,
  nhsNumberValid: true,
  verified: false,
  birthDate: '1940-01-01',
  ...fields,
});

const personsOf = (records: SourceRecord[], manual: Parameters<typeof decideIdentity>[1] = []): string[][] =>
  decideIdentity(records, manual).persons.map((p) => [...p.members]);

describe('identity linking rules', () => {
  test('same valid number, same birth date, verified on one side → one person', () => {
    expect(personsOf([rec('gp-1', 'gp', { verified: true }), rec('h-1', 'hospital')])).toEqual([['gp-1', 'h-1']]);
  });

  test('the person is keyed by NHS number and birth date, so its id survives new arrivals', () => {
    const alone = decideIdentity([rec('gp-1', 'gp', { verified: true })]).persons;
    const joined = decideIdentity([rec('gp-1', 'gp', { verified: true }), rec('h-1', 'hospital')]).persons;
    expect(alone.map((p) => p.key)).toEqual([`nhs:${N1}|1940-01-01`]);
    expect(joined.map((p) => p.key)).toEqual([`nhs:${N1}|1940-01-01`]);
  });

  test('same number and birth date, neither verified → a possible match for review, not linked', () => {
    const decision = decideIdentity([rec('gp-1', 'gp'), rec('h-1', 'hospital')]);
    expect(decision.persons.map((p) => p.members)).toEqual([['gp-1'], ['h-1']]);
    expect(decision.reviews).toEqual([{ kind: ReviewKind.POSSIBLE_MATCH, nhsNumber: N1, a: 'gp-1', b: 'h-1', reason: 'Same NHS number and date of birth, neither verified' }]);
  });

  test('a possible match already joined through a verified third record needs no review', () => {
    const decision = decideIdentity([rec('gp-1', 'gp', { verified: true }), rec('h-1', 'hospital'), rec('sc-1', 'council')]);
    expect(decision.persons.map((p) => p.members)).toEqual([['gp-1', 'h-1', 'sc-1']]);
    expect(decision.reviews).toEqual([]);
  });

  test('same number, different birth date → conflict with both sides, not linked', () => {
    const decision = decideIdentity([rec('gp-1', 'gp', { verified: true }), rec('h-1', 'hospital', { birthDate: '1941-01-01' })]);
    expect(decision.persons.map((p) => p.members)).toEqual([['gp-1'], ['h-1']]);
    expect(decision.reviews).toEqual([{ kind: ReviewKind.CONFLICT_BIRTH_DATE, nhsNumber: N1, a: 'gp-1', b: 'h-1', reason: 'Same NHS number, different dates of birth' }]);
  });

  test('a conflict arriving after a link leaves the agreeing pair linked and the odd one out', () => {
    const decision = decideIdentity([rec('gp-1', 'gp', { verified: true }), rec('h-1', 'hospital'), rec('sc-1', 'council', { birthDate: '1950-05-05' })]);
    expect(decision.persons.map((p) => p.members)).toEqual([['gp-1', 'h-1'], ['sc-1']]);
    expect(decision.reviews.map((r) => [r.kind, r.a, r.b])).toEqual([
      [ReviewKind.CONFLICT_BIRTH_DATE, 'gp-1', 'sc-1'],
      [ReviewKind.CONFLICT_BIRTH_DATE, 'h-1', 'sc-1'],
    ]);
  });

  test('two records of one source with the same number → conflict, and neither links to anyone', () => {
    const decision = decideIdentity([rec('h-1', 'hospital', { verified: true }), rec('h-2', 'hospital', { verified: true }), rec('gp-1', 'gp', { verified: true })]);
    expect(decision.persons.map((p) => p.members)).toEqual([['gp-1'], ['h-1'], ['h-2']]);
    expect(decision.reviews.filter((r) => r.kind === ReviewKind.CONFLICT_SAME_SOURCE).map((r) => [r.a, r.b])).toEqual([['h-1', 'h-2']]);
  });

  test('an invalid or missing number never links, even with the same birth date', () => {
    expect(personsOf([rec('gp-1', 'gp', { verified: true }), rec('h-1', 'hospital', { nhsNumber: '9990000017', nhsNumberValid: false })])).toEqual([['gp-1'], ['h-1']]);
    expect(personsOf([rec('gp-1', 'gp', { nhsNumber: undefined, nhsNumberValid: false }), rec('h-1', 'hospital', { nhsNumber: undefined, nhsNumberValid: false })])).toEqual([['gp-1'], ['h-1']]);
  });

  test('a record merged into another by its source follows its survivor', () => {
    const decision = decideIdentity([rec('gp-1', 'gp', { verified: true }), rec('h-1', 'hospital'), rec('h-old', 'hospital', { mergedInto: 'h-1' })]);
    expect(decision.persons.map((p) => p.members)).toEqual([['gp-1', 'h-1', 'h-old']]);
    // The merged-away record carries the same number but raises no same-source conflict: it is no longer a record in its own right.
    expect(decision.reviews).toEqual([]);
  });

  test("an admin's link joins records the rules would not; an unlink keeps apart what they would join", () => {
    const records = [rec('gp-1', 'gp', { verified: true }), rec('h-1', 'hospital'), rec('sc-9', 'council', { nhsNumber: N2 })];
    expect(personsOf(records, [{ kind: 'link', a: 'sc-9', b: 'gp-1' }])).toEqual([['gp-1', 'h-1', 'sc-9']]);
    expect(personsOf(records, [{ kind: 'unlink', a: 'h-1', b: 'gp-1' }])).toEqual([['gp-1'], ['h-1'], ['sc-9']]);
  });

  test('a pair an admin has decided is no longer listed for review', () => {
    const records = [rec('gp-1', 'gp', { verified: true }), rec('sc-1', 'council', { birthDate: '1941-01-01' })];
    expect(decideIdentity(records).reviews.map((r) => r.kind)).toEqual([ReviewKind.CONFLICT_BIRTH_DATE]);
    const linked = decideIdentity(records, [{ kind: 'link', a: 'sc-1', b: 'gp-1' }]);
    expect([linked.reviews, linked.persons.map((p) => p.members)]).toEqual([[], [['gp-1', 'sc-1']]]);
  });

  test('an unlink holds against a chain of links through a third record', () => {
    const records = [rec('gp-1', 'gp', { verified: true }), rec('h-1', 'hospital', { verified: true }), rec('sc-1', 'council')];
    const persons = personsOf(records, [{ kind: 'unlink', a: 'gp-1', b: 'h-1' }]);
    expect(persons.some((p) => p.includes('gp-1') && p.includes('h-1'))).toBe(false);
    expect(persons.flat().sort()).toEqual(['gp-1', 'h-1', 'sc-1']);
  });

  test('arrival order does not matter: every permutation gives the same decision', () => {
    const records = [rec('gp-1', 'gp', { verified: true }), rec('h-1', 'hospital'), rec('sc-1', 'council', { birthDate: '1950-05-05' }), rec('h-2', 'hospital', { nhsNumber: N2, verified: true })];
    const expected = decideIdentity(records);
    fc.assert(
      fc.property(fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }), (shuffled) => {
        expect(decideIdentity(shuffled)).toEqual(expected);
      }),
    );
  });
});

/**
 * Property: random sources and merges for a small population never link two people whose true
 * identities differ, and always link records that share a verified NHS number and date of birth
 * (unless the rules hold one back: a duplicate within one source).
 */
describe('identity linking property', () => {
  const SOURCES = ['gp', 'hospital', 'council', 'carehome'];
  const KINDS = ['verified', 'unverified', 'wrong-number', 'invalid-number', 'no-number', 'dob-typo'] as const;
  interface Generated {
    person: number;
    source: string;
    kind: (typeof KINDS)[number];
    other: number;
    mergeInto?: number;
  }
  const population = 5;
  const people = Array.from({ length: population }, (_, i) => ({ nhs: demoNhsNumber(i + 10), dob: `19${40 + i}-0${1 + i}-1${i}` }));

  function build(generated: Generated[]): { records: SourceRecord[]; truth: Map<string, number> } {
    const truth = new Map<string, number>();
    const records = generated.map((g, i): SourceRecord => {
      const me = people[g.person] as { nhs: string; dob: string };
      const other = people[(g.person + 1 + (g.other % (population - 1))) % population] as { nhs: string; dob: string };
      const id = `${g.source}-${i}`;
      truth.set(id, g.person);
      const base = { patientId: id, source: g.source, nhsNumber: me.nhs, nhsNumberValid: true, verified: false, birthDate: me.dob };
      switch (g.kind) {
        case 'verified':
          return { ...base, verified: true };
        case 'unverified':
          return base;
        case 'wrong-number':
          return { ...base, nhsNumber: other.nhs };
        case 'invalid-number':
          return { ...base, nhsNumber: `${me.nhs.slice(0, 9)}${(Number(me.nhs[9]) + 1) % 10}`, nhsNumberValid: false };
        case 'no-number':
          return { ...base, nhsNumber: undefined, nhsNumberValid: false };
        case 'dob-typo':
          return { ...base, birthDate: '1901-01-01' };
      }
    });
    // A source merges two of its own records only when they really are one person.
    generated.forEach((g, i) => {
      if (g.mergeInto === undefined) return;
      const target = g.mergeInto % generated.length;
      const t = generated[target] as Generated;
      if (target !== i && t.source === g.source && t.person === g.person && t.mergeInto === undefined) records[i] = { ...(records[i] as SourceRecord), mergedInto: (records[target] as SourceRecord).patientId };
    });
    return { records, truth };
  }

  const arbitrary = fc.array(
    fc.record({
      person: fc.integer({ min: 0, max: population - 1 }),
      source: fc.constantFrom(...SOURCES),
      kind: fc.constantFrom(...KINDS),
      other: fc.integer({ min: 0, max: 10 }),
      mergeInto: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 24 },
  );

  test('never links different people, always links a verified number and birth date shared across sources', () => {
    fc.assert(
      fc.property(arbitrary, (generated) => {
        const { records, truth } = build(generated);
        const decision = decideIdentity(records);
        const personOf = new Map<string, string>();
        for (const p of decision.persons) {
          expect(new Set(p.members.map((m) => truth.get(m))).size).toBe(1);
          for (const m of p.members) personOf.set(m, p.key);
        }
        expect([...personOf.keys()].sort()).toEqual(records.map((r) => r.patientId).sort());
        const active = records.filter((r) => r.mergedInto === undefined);
        const duplicateInSource = (r: SourceRecord): boolean => active.some((o) => o !== r && o.source === r.source && o.nhsNumberValid && o.nhsNumber === r.nhsNumber);
        for (const x of active) {
          for (const y of active) {
            if (x === y || x.source === y.source || !x.nhsNumberValid || !y.nhsNumberValid) continue;
            if (x.nhsNumber !== y.nhsNumber || x.birthDate !== y.birthDate || !(x.verified || y.verified)) continue;
            if (duplicateInSource(x) || duplicateInSource(y)) continue;
            expect(personOf.get(x.patientId)).toBe(personOf.get(y.patientId));
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
