import type { Resource } from '@medplum/fhirtypes';
import { NOTHING_SCOPE, scopeAdmits, scopeInCode, scopePredicates, scopeWithholds, SqlParams, SYSTEM_SCOPE, withheldPredicate, type AccessScope, type ScopeRow } from '../../gateway/store/access-scope';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { Store } from '../../gateway/store/store';
import { securityLabels, Sensitivity } from '../../mappings/security/labels';

/**
 * A scope applied to rows already read (scopeAdmits, scopeWithholds: a Patient search reads the
 * people it finds before deciding for them, and the reader scopes those rows) says exactly what
 * the SQL of the same scope says (scopePredicates, withheldPredicate), on every combination of the
 * scope's parts over rows that differ in each column a scope reads.
 */
const SOURCE_A = 'https://a.demo.invalid/fhir';
const SOURCE_B = 'https://b.demo.invalid/fhir';
const mentalHealth = securityLabels([Sensitivity.MENTAL_HEALTH]);
const sexualAndMentalHealth = securityLabels([Sensitivity.SEXUAL_HEALTH, Sensitivity.MENTAL_HEALTH]);
const label = (c: { system?: string; code?: string }): string => `${c.system ?? ''}|${c.code ?? ''}`;
/** Only the sexual-health label: a row with several labels is withheld for one of them. */
const sexualHealthOnly = securityLabels([Sensitivity.SEXUAL_HEALTH]).map(label).filter((l) => !mentalHealth.map(label).includes(l));

const resources: Resource[] = [
  { resourceType: 'Patient', id: 'p1', meta: { source: SOURCE_A } },
  { resourceType: 'Patient', id: 'p2', meta: { source: SOURCE_B, security: mentalHealth } },
  { resourceType: 'Patient', id: 'p3' },
  { resourceType: 'Condition', id: 'c1', meta: { source: SOURCE_A }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Condition', id: 'c2', subject: { reference: 'Patient/p1' } },
  { resourceType: 'Condition', id: 'c3', meta: { source: SOURCE_B, security: mentalHealth }, subject: { reference: 'Patient/p2' } },
  // In two people's compartments (subject and asserter), with several labels.
  { resourceType: 'Condition', id: 'c4', meta: { source: SOURCE_A, security: sexualAndMentalHealth }, subject: { reference: 'Patient/p1' }, asserter: { reference: 'Patient/p2' } },
  { resourceType: 'Observation', id: 'ob1', meta: { source: SOURCE_B, security: sexualAndMentalHealth }, status: 'final', code: { text: 'synthetic' }, subject: { reference: 'Patient/p3' }, performer: [{ reference: 'Patient/p1' }] },
  { resourceType: 'Encounter', id: 'e1', meta: { source: SOURCE_A }, status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Encounter', id: 'e2', meta: { source: SOURCE_B }, status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } },
  // Some of the mental-health labels (the confidentiality) but not all.
  { resourceType: 'Encounter', id: 'e3', meta: { source: SOURCE_B, security: securityLabels([Sensitivity.SEXUAL_HEALTH]) }, status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p2' } },
  { resourceType: 'Practitioner', id: 'pr1', meta: { source: SOURCE_A } },
  { resourceType: 'Organization', id: 'o1' },
] as Resource[];

function* scopes(): Generator<AccessScope> {
  for (const patientIds of ['all', [], ['p1'], ['p1', 'p2'], ['p3']] as const) {
    for (const nonPatientResources of [true, false]) {
      for (const resourceTypes of ['all', ['Patient'], ['Condition', 'Encounter']] as const) {
        for (const withheldLabels of [[], mentalHealth.map(label), sexualHealthOnly]) {
          for (const sources of [{}, { allowedSources: [SOURCE_A] }, { allowedSources: [] }, { withheldSources: [SOURCE_B] }, { withheldSources: [] }]) {
            for (const onlyIds of [{}, { onlyIds: { Encounter: ['e1'] } }, { onlyIds: { Encounter: [] } }]) {
              yield { patientIds, nonPatientResources, resourceTypes, withheldLabels, ...sources, ...onlyIds };
            }
          }
        }
      }
    }
  }
}

describe('a scope applied to rows read says what its SQL says', () => {
  let store: Store;
  let rows: ScopeRow[];

  const sqlIds = async (predicate: string | undefined, params: SqlParams): Promise<string[]> => {
    const result = await store.engine.query<{ key: string }>(`SELECT r.resource_type || '/' || r.id AS key FROM resource r WHERE ${predicate ?? 'FALSE'} ORDER BY 1`, params.values);
    return result.rows.map((r) => r.key);
  };
  const visibleInSql = (scope: AccessScope): Promise<string[]> => {
    const params = new SqlParams();
    const predicates = scopePredicates(scope, 'r', params);
    return sqlIds(predicates.length > 0 ? predicates.join(' AND ') : 'TRUE', params);
  };
  const withheldInSql = (scope: AccessScope): Promise<string[]> => {
    const params = new SqlParams();
    return sqlIds(withheldPredicate(scope, 'r', params), params);
  };
  const keys = (keep: (row: ScopeRow) => boolean): string[] => rows.filter(keep).map((r) => `${r.resourceType}/${r.id}`).sort();
  const allKeys = (): string[] => keys(() => true);

  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    await store.upsert(resources);
    const read = await store.engine.query<{ resource_type: string; id: string; patient_ids: string[]; security: string[]; source: string | null }>(
      `SELECT resource_type, id, patient_ids, security, content->'meta'->>'source' AS source FROM resource`,
    );
    rows = read.rows.map((r) => ({ resourceType: r.resource_type, id: r.id, patientIds: r.patient_ids, security: r.security, source: r.source }));
  });
  afterAll(() => store.close());

  test('the rows differ in every column a scope reads', () => {
    expect(rows).toHaveLength(resources.length);
    expect(new Set(rows.map((r) => [...r.patientIds].sort().join(',')))).toEqual(new Set(['p1', 'p2', 'p3', '', 'p1,p2', 'p1,p3']));
    expect(rows.filter((r) => r.security.length > 0).map((r) => `${r.id}:${r.security.length}`).sort()).toEqual(['c3:2', 'c4:3', 'e3:2', 'ob1:3', 'p2:2']);
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set([SOURCE_A, SOURCE_B, null]));
  });

  /** What a table of scopes let through: rows some scope saw, rows some scope did not, rows some withheld, scopes that saw some but not all. */
  class Spread {
    readonly seen = new Set<string>();
    readonly unseen = new Set<string>();
    readonly withheld = new Set<string>();
    readonly visibleCounts = new Set<number>();
    partlyVisible = 0;
  }
  /** The scope in memory against its SQL, visible and withheld alike, noted in `spread`. */
  const compare = async (scope: AccessScope, spread: Spread): Promise<void> => {
    const visible = await visibleInSql(scope);
    const withheld = await withheldInSql(scope);
    const withholds = scopeWithholds(scope);
    expect({ scope, visible: keys((r) => scopeAdmits(scope, r)), withheld: keys(withholds) }).toEqual({ scope, visible, withheld });
    for (const key of allKeys()) (visible.includes(key) ? spread.seen : spread.unseen).add(key);
    for (const key of withheld) spread.withheld.add(key);
    spread.visibleCounts.add(visible.length);
    if (visible.length > 0 && visible.length < rows.length) spread.partlyVisible++;
  };
  test('every combination of patients, types, labels, sources and ids, visible and withheld alike', async () => {
    const seen = new Spread();
    for (const scope of [...scopes(), SYSTEM_SCOPE, NOTHING_SCOPE]) await compare(scope, seen);
    const { visibleCounts } = seen;
    // The table is not trivial: scopes see anything from nothing to everything, and each row is
    // seen by one scope and not by another.
    expect(Math.min(...visibleCounts)).toBe(0);
    expect(Math.max(...visibleCounts)).toBe(resources.length);
    expect(visibleCounts.size).toBeGreaterThan(5);
    expect(seen.partlyVisible).toBeGreaterThan(0);
    expect([[...seen.seen].sort(), [...seen.unseen].sort()]).toEqual([allKeys(), allKeys()]);
    // Withheld from their own people: every row in a compartment, the two people's and the several labels' included.
    expect([...seen.withheld].sort()).toEqual(keys((r) => r.patientIds.length > 0));
  });

  test('a row with several labels is withheld for any one of them, a row in two compartments for either person', async () => {
    const scope: AccessScope = { patientIds: ['p2'], nonPatientResources: false, resourceTypes: 'all', withheldLabels: sexualHealthOnly };
    expect([await visibleInSql(scope), await withheldInSql(scope)]).toEqual([['Condition/c3', 'Patient/p2'], ['Condition/c4', 'Encounter/e3']]);
    expect([keys((r) => scopeAdmits(scope, r)), keys(scopeWithholds(scope))]).toEqual([['Condition/c3', 'Patient/p2'], ['Condition/c4', 'Encounter/e3']]);
    const ofP3: AccessScope = { ...scope, patientIds: ['p3'] };
    expect([keys((r) => scopeAdmits(ofP3, r)), keys(scopeWithholds(ofP3))]).toEqual([['Patient/p3'], ['Observation/ob1']]);
    const ofP1: AccessScope = { ...scope, patientIds: ['p1'], withheldLabels: [] };
    expect(keys((r) => scopeAdmits(ofP1, r))).toEqual(['Condition/c1', 'Condition/c2', 'Condition/c4', 'Encounter/e1', 'Encounter/e2', 'Observation/ob1', 'Patient/p1']);
  });

  test('several people\'s scopes at once (anyOf), including none', async () => {
    const parts = [...scopes()].filter((_, i) => i % 37 === 0);
    const combined: AccessScope[] = [
      { ...SYSTEM_SCOPE, anyOf: [] },
      ...parts.map((s, i) => ({ ...SYSTEM_SCOPE, anyOf: [s, parts[(i + 1) % parts.length] as AccessScope] })),
      ...parts.map((s, i) => ({ ...s, anyOf: [parts[(i + 3) % parts.length] as AccessScope, { ...SYSTEM_SCOPE, anyOf: [s] }] })),
    ];
    const seen = new Spread();
    for (const scope of combined) await compare(scope, seen);
    expect(seen.partlyVisible).toBeGreaterThan(0);
    expect(seen.withheld.size).toBeGreaterThan(0);
  });

  test('a scope with a key the in-memory scope does not know, itself or in an anyOf, is left to the SQL', () => {
    const future = { ...SYSTEM_SCOPE, futureRestriction: ['x'] } as AccessScope;
    expect([scopeInCode(SYSTEM_SCOPE), scopeInCode(future), scopeInCode({ ...SYSTEM_SCOPE, anyOf: [NOTHING_SCOPE, { ...NOTHING_SCOPE, anyOf: [future] }] })]).toEqual([true, false, false]);
    expect([...scopes()].every(scopeInCode)).toBe(true);
  });
});
