import type { Condition, Organization, Patient, Resource } from '@medplum/fhirtypes';
import { objectionConsent } from '../../consent/consent-builders';
import { auditWithAccess } from '../../gateway/access/access-audit';
import { CaldicottAccess } from '../../gateway/access/caldicott-access';
import { GrantKind, PermissionToView, recordGrant } from '../../gateway/access/grants';
import { Interaction, PurposeOfUse, type AccessHook, type AuditHook, type AuditRecord, type ReadRequest, type Requester } from '../../gateway/access/hooks';
import { SecureReader } from '../../gateway/access/secure-reader';
import { registerSourceSystem } from '../../gateway/access/source-systems';
import { parseSearch } from '../../gateway/api/search-parser';
import { AuditTrail } from '../../gateway/audit/audit-trail';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { goldenId } from '../../gateway/identity/golden';
import { resolveIdentity, samePersonIds } from '../../gateway/identity/resolver';
import { createLogger } from '../../gateway/logger';
import type { AccessScope } from '../../gateway/store/access-scope';
import type { QueryResult, SqlClient } from '../../gateway/store/engine';
import type { SearchQuery } from '../../gateway/store/search-query';
import { Store } from '../../gateway/store/store';
import { NHS_NUMBER_VERIFICATION_EXTENSION, NHS_NUMBER_VERIFICATION_SYSTEM, NhsNumberVerification } from '../../mappings/identity/nhs-number';

/**
 * An enforced Patient search runs the person search once: the people it finds, read to decide for
 * them, are what the reader scopes, instead of searching again. The answer (matches, includes,
 * withheld marker, total, links) and the audit record equal those of the two-search path (the same
 * hook without matchesRead), for a permitted person, a person found by a stranger (identification
 * only), a person only partly visible (an objection keeps one source record, withholds the other),
 * and several people at once. A later page or a sort searches again, as before.
 */
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const GP_SOURCE = 'https://gp.demo.invalid/fhir';
const TRUST_SOURCE = 'https://pas.demo-trust.invalid/hl7v2';
const now = new Date('2026-11-23T09:00:00Z');
const gp: Requester = { userId: 'u-gp', role: 'gp', organisation: `${ODS}|Y90001`, purposeOfUse: PurposeOfUse.TREAT };
const stranger: Requester = { userId: 'u-nurse', role: 'hospital_clinician', organisation: `${ODS}|X9Z`, purposeOfUse: PurposeOfUse.TREAT };

const patient = (id: string, nhsNumber: string, birthDate: string, source: string, practice: string): Patient => ({
  resourceType: 'Patient',
  id,
  meta: { source },
  // Verified by the source: records of one NHS number and birth date are then one person.
  identifier: [{ system: NHS, value: nhsNumber, extension: [{ url: NHS_NUMBER_VERIFICATION_EXTENSION, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code: NhsNumberVerification.VERIFIED }] } }] }],
  name: [{ family: `Synthetic${nhsNumber.slice(-2)}`, given: ['Test'] }],
  birthDate,
  address: [{ line: ['1 Synthetic Street'], postalCode: 'ZZ9 9ZZ' }],
  generalPractitioner: [{ reference: 'Organization/gp', identifier: { system: ODS, value: practice } }],
});
const practice: Organization = { resourceType: 'Organization', id: 'gp', identifier: [{ system: ODS, value: 'Y90001' }], name: 'Synthetic practice' };
const condition: Condition = { resourceType: 'Condition', id: 'cond-plain', meta: { source: GP_SOURCE }, subject: { reference: 'Patient/pat-plain' }, code: { text: 'synthetic condition' } };
const objection = objectionConsent({ id: 'objection-1', patient: { reference: 'Patient/pat-obj-gp' }, dateTime: '2026-01-01', decisionMaker: 'person', hasCapacity: true, source: GP_SOURCE });

interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** A statement of the Patient search itself (the matches, a page, its count or withheld probe), not of the decision or the includes. */
const isPersonSearch = (s: Statement): boolean => s.params[0] === 'Patient' && /FROM resource r\s+WHERE r\.resource_type = \$1/.test(s.sql);
/** Stands in the table below for personRecord, known once the store is set up. */
const PERSON_RECORD = 'the person-level record of 9990000034';
const refs = (resources: readonly Resource[]): string[] => resources.map((r) => `${r.resourceType}/${r.id ?? ''}`);

describe('an enforced Patient search runs the person search once, with the same answer and audit', () => {
  let store: Store;
  let trail: AuditTrail;
  const statements: Statement[] = [];
  let counted: SqlClient;
  const audited: AuditRecord[] = [];
  let audit: AuditHook;
  let requestNumber = 0;
  /** The person-level record resolveIdentity writes for the two records of 9990000034. */
  let personRecord: string;

  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    await store.upsert([
      patient('pat-plain', '9990000018', '1940-01-01', GP_SOURCE, 'Y90001'),
      patient('pat-stranger', '9990000026', '1940-01-01', GP_SOURCE, 'Y99999'),
      patient('pat-obj-gp', '9990000034', '1950-05-05', GP_SOURCE, 'Y90001'),
      patient('pat-obj-trust', '9990000034', '1950-05-05', TRUST_SOURCE, 'Y90001'),
      practice,
      condition,
      objection,
    ]);
    const resolved = await resolveIdentity(store.engine, ['pat-obj-gp', 'pat-obj-trust'], now);
    personRecord = `Patient/${goldenId(resolved.persons.find((p) => p.members.includes('pat-obj-gp'))?.key ?? '')}`;
    await registerSourceSystem(store.engine, { uri: GP_SOURCE, organisation: `${ODS}|Y90001`, kind: 'gp-connect' });
    await registerSourceSystem(store.engine, { uri: TRUST_SOURCE, organisation: `${ODS}|X9Z`, kind: 'hl7v2' });
    for (const patientId of ['pat-plain', 'pat-obj-gp']) {
      await recordGrant(store.engine, { kind: GrantKind.PERMISSION_TO_VIEW, requester: gp, patientId, personIds: await samePersonIds(store.engine, patientId), decision: PermissionToView.GIVEN, now });
    }
    counted = {
      query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
        statements.push({ sql, params });
        return store.engine.query<R>(sql, params);
      },
    };
    trail = new AuditTrail({ engine: store.engine, node: 'search-once-test' });
    const real = auditWithAccess(trail, store.engine, createLogger('silent'), () => now);
    audit = {
      record: (entry) => {
        audited.push(entry);
        return real.record(entry);
      },
    };
  });
  afterAll(async () => {
    await trail.close();
    await store.close();
  });

  const patientSearch = (requester: Requester, queryText: string): ReadRequest => {
    const query = parseSearch('Patient', new URLSearchParams(queryText));
    return { requestId: `r-${++requestNumber}`, requester, interaction: Interaction.SEARCH, resourceType: 'Patient', query };
  };

  /** One search through the reader (a new request unless one is given), the person search's statements counted, with the audit record it wrote. */
  async function search(hook: AccessHook, requester: Requester, queryText: string, request = patientSearch(requester, queryText)): Promise<{ answer: Awaited<ReturnType<SecureReader['search']>>; audit: unknown; personSearches: number }> {
    const query = request.query as SearchQuery;
    statements.length = 0;
    audited.length = 0;
    const answer = await new SecureReader(counted, hook, audit).search(request, query, queryText);
    expect(audited).toHaveLength(1);
    const { request: asked, ...entry } = audited[0] as AuditRecord;
    // The same request but for its id.
    return { answer, audit: { ...entry, request: { ...asked, requestId: 'r' } }, personSearches: statements.filter(isPersonSearch).length };
  }

  /** The hook as it is, and the same kind of hook without matchesRead: the two-search path. */
  const paths = (): { once: CaldicottAccess; twice: AccessHook } => {
    const once = new CaldicottAccess(counted, { now: () => now });
    const decider = new CaldicottAccess(counted, { now: () => now });
    return { once, twice: { scope: (r) => decider.scope(r), check: (r, x) => decider.check(r, x), explain: (r) => decider.explain(r) } };
  };

  const searchedOnce = [
    { who: 'a GP with permission to view, by NHS number', requester: gp, query: `identifier=${NHS}|9990000018`, returned: ['Patient/pat-plain'], withheld: 0 },
    { who: 'a stranger, by NHS number (identification only)', requester: stranger, query: `identifier=${NHS}|9990000018`, returned: ['Patient/pat-plain'], withheld: 0 },
    { who: 'a GP, a person whose objection withholds the trust\'s record', requester: gp, query: `identifier=${NHS}|9990000034&_total=accurate`, returned: ['Patient/pat-obj-gp'], withheld: 1 },
    { who: 'a stranger, the same person', requester: stranger, query: `identifier=${NHS}|9990000034`, returned: [PERSON_RECORD, 'Patient/pat-obj-gp', 'Patient/pat-obj-trust'], withheld: 0 },
    { who: 'a GP, two people by birth date (one permitted, one identification only)', requester: gp, query: 'birthdate=1940-01-01', returned: ['Patient/pat-plain', 'Patient/pat-stranger'], withheld: 0 },
    { who: 'a GP, two people, one a page, with the total', requester: gp, query: 'birthdate=1940-01-01&_count=1&_total=accurate', returned: ['Patient/pat-plain'], withheld: 0 },
    { who: 'a GP, a count only', requester: gp, query: `identifier=${NHS}|9990000034&_summary=count`, returned: [], withheld: 0 },
    { who: 'a GP, by id, with _revinclude', requester: gp, query: '_id=pat-plain&_revinclude=Condition:subject', returned: ['Patient/pat-plain', 'Condition/cond-plain'], withheld: 0 },
    { who: 'a GP, by NHS number, with _include', requester: gp, query: `identifier=${NHS}|9990000018&_include=Patient:general-practitioner`, returned: ['Patient/pat-plain', 'Organization/gp'], withheld: 0 },
    { who: 'a GP, nobody matches', requester: gp, query: `identifier=${NHS}|9990000042`, returned: [], withheld: 0 },
  ];

  test.each(searchedOnce)('$who: one person search, and the answer and audit of two', async ({ requester, query, returned, withheld }) => {
    const { once, twice } = paths();
    const reused = await search(once, requester, query);
    const reference = await search(twice, requester, query);
    expect(reused.personSearches).toBe(1);
    expect(reference.personSearches).toBeGreaterThan(1);
    expect(reused.answer).toEqual(reference.answer);
    expect(reused.audit).toEqual(reference.audit);
    expect(refs([...reused.answer.matches, ...reused.answer.included])).toEqual(returned.map((r) => (r === PERSON_RECORD ? personRecord : r)));
    expect(reused.answer.withheld).toBe(withheld);
  });

  test('what each saw: the permitted person in full, a stranger identification only, the withheld record nowhere', async () => {
    const { once } = paths();
    const full = (await search(once, gp, `identifier=${NHS}|9990000018`)).answer.matches[0] as Patient;
    expect(full.generalPractitioner).toHaveLength(1);
    const found = (await search(once, stranger, `identifier=${NHS}|9990000018`)).answer.matches[0] as Patient;
    expect([found.name?.[0]?.family, found.address, found.generalPractitioner]).toEqual(['Synthetic18', [{ postalCode: 'ZZ9 9ZZ' }], undefined]);
    const partly = await search(once, gp, `identifier=${NHS}|9990000034&_total=accurate`);
    expect([partly.answer.total, JSON.stringify(partly.answer).includes('pat-obj-trust')]).toEqual([1, false]);
    const counted = await search(once, gp, `identifier=${NHS}|9990000034&_summary=count`);
    expect(counted.answer.total).toBe(1);
    const paged = await search(once, gp, 'birthdate=1940-01-01&_count=1&_total=accurate');
    expect([paged.answer.total, paged.answer.next !== undefined, paged.answer.previous]).toEqual([2, true, undefined]);
  });

  test('a later page, and a sorted search, search again and answer as the two-search path does', async () => {
    const { once, twice } = paths();
    const first = await search(once, gp, 'birthdate=1940-01-01&_count=1');
    const next = `birthdate=1940-01-01&_count=1&_cursor=${first.answer.next ?? ''}`;
    const [second, secondReference] = [await search(once, gp, next), await search(twice, gp, next)];
    expect(refs(second.answer.matches)).toEqual(['Patient/pat-stranger']);
    expect(second.personSearches).toBeGreaterThan(1);
    expect([second.answer, second.audit]).toEqual([secondReference.answer, secondReference.audit]);
    const sorted = await search(once, gp, 'birthdate=1940-01-01&_sort=-birthdate,_id');
    const sortedReference = await search(twice, gp, 'birthdate=1940-01-01&_sort=-birthdate,_id');
    expect(sorted.personSearches).toBeGreaterThan(1);
    expect([sorted.answer, sorted.audit]).toEqual([sortedReference.answer, sortedReference.audit]);
    expect(refs(sorted.answer.matches)).toEqual(['Patient/pat-plain', 'Patient/pat-stranger']);
  });

  test('the matches are handed out once: a second search on the same request searches again, with the same answer', async () => {
    const { once } = paths();
    const query = `identifier=${NHS}|9990000034&_total=accurate`;
    const request = patientSearch(gp, query);
    const first = await search(once, gp, query, request);
    const second = await search(once, gp, query, request);
    expect([first.personSearches, second.personSearches > 1]).toEqual([1, true]);
    expect([second.answer, second.audit]).toEqual([first.answer, first.audit]);
    expect(once.matchesRead(request)).toBeUndefined();
  });

  test('a scope with a key the in-memory scope does not apply is applied by the SQL, not to the matches read', async () => {
    const { once, twice } = paths();
    // A scope of a newer kind than scopeAdmits knows (its extra key means nothing to the SQL either, so the answers can be compared).
    const newer: AccessHook = {
      scope: async (r) => ({ ...(await once.scope(r)), futureRestriction: true }) as AccessScope,
      check: (r, x) => once.check(r, x),
      explain: (r) => once.explain(r),
      matchesRead: (r) => once.matchesRead(r),
    };
    const query = `identifier=${NHS}|9990000034&_total=accurate`;
    const [applied, reference] = [await search(newer, gp, query), await search(twice, gp, query)];
    expect(applied.personSearches).toBeGreaterThan(1);
    expect([applied.answer, applied.audit]).toEqual([reference.answer, reference.audit]);
    expect(refs(applied.answer.matches)).toEqual(['Patient/pat-obj-gp']);
  });
});
