import type { Resource } from '@medplum/fhirtypes';
import { NOTHING_SCOPE, scopeAdmits, scopePredicates, scopeWithholds, SqlParams, SYSTEM_SCOPE, withheldPredicate, type AccessScope, type ScopeRow } from '../../gateway/store/access-scope';
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

const resources: Resource[] = [
  { resourceType: 'Patient', id: 'p1', meta: { source: SOURCE_A } },
  { resourceType: 'Patient', id: 'p2', meta: { source: SOURCE_B, security: mentalHealth } },
  { resourceType: 'Patient', id: 'p3' },
  { resourceType: 'Condition', id: 'c1', meta: { source: SOURCE_A }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Condition', id: 'c2', subject: { reference: 'Patient/p1' } },
  { resourceType: 'Condition', id: 'c3', meta: { source: SOURCE_B, security: mentalHealth }, subject: { reference: 'Patient/p2' } },
  { resourceType: 'Encounter', id: 'e1', meta: { source: SOURCE_A }, status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Encounter', id: 'e2', meta: { source: SOURCE_B }, status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Practitioner', id: 'pr1', meta: { source: SOURCE_A } },
  { resourceType: 'Organization', id: 'o1' },
] as Resource[];

function* scopes(): Generator<AccessScope> {
  for (const patientIds of ['all', [], ['p1'], ['p1', 'p2']] as const) {
    for (const nonPatientResources of [true, false]) {
      for (const resourceTypes of ['all', ['Patient'], ['Condition', 'Encounter']] as const) {
        for (const withheldLabels of [[], mentalHealth.map((c) => `${c.system ?? ''}|${c.code ?? ''}`)]) {
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
    expect(new Set(rows.map((r) => r.patientIds.join(',')))).toEqual(new Set(['p1', 'p2', 'p3', '']));
    expect(rows.filter((r) => r.security.length > 0).map((r) => r.id).sort()).toEqual(['c3', 'p2']);
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set([SOURCE_A, SOURCE_B, null]));
  });

  test('every combination of patients, types, labels, sources and ids, visible and withheld alike', async () => {
    const all = [...scopes(), SYSTEM_SCOPE, NOTHING_SCOPE];
    const visibleCounts = new Set<number>();
    for (const scope of all) {
      const visible = await visibleInSql(scope);
      const withheld = await withheldInSql(scope);
      visibleCounts.add(visible.length);
      const inMemory = { visible: keys((r) => scopeAdmits(scope, r)), withheld: keys((r) => scopeWithholds(scope, r)) };
      expect({ scope, ...inMemory }).toEqual({ scope, visible, withheld });
    }
    // The table is not trivial: scopes see anything from nothing to everything.
    expect(Math.min(...visibleCounts)).toBe(0);
    expect(Math.max(...visibleCounts)).toBe(resources.length);
    expect(visibleCounts.size).toBeGreaterThan(5);
  });

  test('several people\'s scopes at once (anyOf), including none', async () => {
    const parts = [...scopes()].filter((_, i) => i % 37 === 0);
    const combined: AccessScope[] = [
      { ...SYSTEM_SCOPE, anyOf: [] },
      ...parts.map((s, i) => ({ ...SYSTEM_SCOPE, anyOf: [s, parts[(i + 1) % parts.length] as AccessScope] })),
      ...parts.map((s, i) => ({ ...s, anyOf: [parts[(i + 3) % parts.length] as AccessScope, { ...SYSTEM_SCOPE, anyOf: [s] }] })),
    ];
    for (const scope of combined) {
      const visible = await visibleInSql(scope);
      const withheld = await withheldInSql(scope);
      expect({ scope, visible: keys((r) => scopeAdmits(scope, r)), withheld: keys((r) => scopeWithholds(scope, r)) }).toEqual({ scope, visible, withheld });
    }
  });
});
