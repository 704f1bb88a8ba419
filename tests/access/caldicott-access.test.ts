import type { Consent, Patient } from '@medplum/fhirtypes';
import { objectionConsent } from '../../consent/consent-builders';
import { CaldicottAccess } from '../../gateway/access/caldicott-access';
import { NOTHING_SCOPE } from '../../gateway/store/access-scope';
import { GrantKind, PermissionToView, recordGrant } from '../../gateway/access/grants';
import { Interaction, PurposeOfUse, type ReadRequest, type Requester } from '../../gateway/access/hooks';
import { registerSourceSystem } from '../../gateway/access/source-systems';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import type { QueryResult, SqlClient } from '../../gateway/store/engine';
import { Store } from '../../gateway/store/store';

/**
 * What the Caldicott hook reads to decide, and how often: one decision per request, however many
 * reads the request makes ($everything reads the Patient, then the compartment), and the
 * organisations holding each source read only when the person has recorded decisions (Consents),
 * the one thing that needs them.
 */
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const GP_SOURCE = 'https://gp.demo.invalid/fhir';
const gp: Requester = { userId: 'u-gp', role: 'gp', organisation: `${ODS}|Y90001`, purposeOfUse: PurposeOfUse.TREAT };
const now = new Date('2026-11-23T09:00:00Z');

const patient = (id: string, nhsNumber: string): Patient => ({
  resourceType: 'Patient',
  id,
  meta: { source: GP_SOURCE },
  identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }],
  birthDate: '1940-01-01',
  generalPractitioner: [{ reference: 'Organization/gp', identifier: { system: ODS, value: 'Y90001' } }],
});

const objection: Consent = objectionConsent({ id: 'objection-1', patient: { reference: 'Patient/pat-objects' }, dateTime: '2026-01-01', decisionMaker: 'person', hasCapacity: true, source: GP_SOURCE });

describe('the Caldicott hook decides once per request and reads only what the decision needs', () => {
  let store: Store;
  const statements: string[] = [];
  let counted: SqlClient;

  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    await store.upsert([patient('pat-plain', '9990000018'), patient('pat-objects', '9990000026'), patient('pat-unasked', '9990000034'), objection]);
    await registerSourceSystem(store.engine, { uri: GP_SOURCE, organisation: `${ODS}|Y90001`, kind: 'gp-connect' });
    for (const patientId of ['pat-plain', 'pat-objects']) {
      await recordGrant(store.engine, { kind: GrantKind.PERMISSION_TO_VIEW, requester: gp, patientId, personIds: [patientId], decision: PermissionToView.GIVEN, now });
    }
    counted = {
      query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
        statements.push(sql);
        return store.engine.query<R>(sql, params);
      },
    };
  });
  afterAll(() => store.close());
  beforeEach(() => {
    statements.length = 0;
  });

  const everything = (patientId: string, requestId: string): ReadRequest => ({ requestId, requester: gp, interaction: Interaction.EVERYTHING, resourceType: 'Patient', patientId, resourceId: patientId });

  it('answers a second scope of the same request with the first, and checks a remembered decision for a new request', async () => {
    const access = new CaldicottAccess(counted, { now: () => now });
    const request = everything('pat-plain', 'r-1');
    const first = await access.scope(request);
    const decided = statements.length;
    expect(first.patientIds).toEqual(['pat-plain']);
    expect(decided).toBeGreaterThan(0);

    const second = await access.scope(request);
    expect(second).toEqual(first);
    expect(statements.length).toBe(decided);
    expect(access.explain(request).decisions.map((d) => d.effect)).toEqual(['permit']);

    // A new request: the decision remembered from the first is checked (the person's access epoch), not taken again.
    const other = await access.scope(everything('pat-plain', 'r-2'));
    expect(other).toEqual(first);
    expect(statements.slice(decided)).toEqual([expect.stringContaining('FROM access_change')]);
  });

  it('a decision taken ahead for a record page is the scope and checks the reader gets, without deciding again', async () => {
    const access = new CaldicottAccess(counted, { now: () => now });
    for (const patientId of ['pat-plain', 'pat-objects']) {
      // The reader deciding by itself, on a request of its own: what the page's decision must equal.
      const own = everything(patientId, `own-${patientId}`);
      const expected = await access.scope(own);
      statements.length = 0;

      const request = everything(patientId, `page-${patientId}`);
      const decided = await access.decideRequest(request);
      const decisionStatements = statements.length;
      expect(decisionStatements).toBeGreaterThan(0);
      expect(decided.personIds).toEqual([patientId]);
      expect(await access.decideRequest(request)).toBe(decided);
      expect(await access.scope(request)).toEqual(expected);
      expect(statements.length).toBe(decisionStatements);
      expect(access.explain(request)).toEqual(access.explain(own));
      const stored = await store.engine.query<{ content: string }>('SELECT content::text AS content FROM resource WHERE id = $1', [patientId]);
      const resource = JSON.parse(stored.rows[0]?.content ?? '{}') as Patient;
      expect(access.check(request, resource)).toEqual(access.check(own, resource));
    }
    // The objection's scope is the narrower one, and that is what the page's request got.
    expect((await access.scope(everything('pat-objects', 'again'))).allowedSources).toEqual([GP_SOURCE]);
  });

  it('a record page decided ahead is refused by the reader when permission to view is not recorded, and a stranger sees nothing', async () => {
    const access = new CaldicottAccess(counted, { now: () => now });
    const unasked = everything('pat-unasked', 'page-unasked');
    const decided = await access.decideRequest(unasked);
    expect(decided.decision.needsPermissionToView).toBe(true);
    await expect(access.scope(unasked)).rejects.toThrow('Record whether the person gave permission to view');

    const stranger: Requester = { userId: 'u-other', role: 'gp', organisation: `${ODS}|Y99999`, purposeOfUse: PurposeOfUse.TREAT };
    const request: ReadRequest = { ...everything('pat-plain', 'page-stranger'), requester: stranger };
    expect((await access.decideRequest(request)).decision.effect).toBe('deny');
    expect(await access.scope(request)).toEqual(NOTHING_SCOPE);
  });

  it('takes a decision ahead only for an $everything request about one patient, not decided already', async () => {
    const access = new CaldicottAccess(counted, { now: () => now });
    await expect(access.decideRequest({ requestId: 'r-read', requester: gp, interaction: Interaction.READ, resourceType: 'Patient', resourceId: 'pat-plain', patientId: 'pat-plain' })).rejects.toThrow('decideRequest takes an $everything request about one patient');
    const request = everything('pat-plain', 'r-scoped');
    await access.scope(request);
    await expect(access.decideRequest(request)).rejects.toThrow('the reader has already decided this request');
  });

  it('reads the organisations holding each source only for a person with recorded decisions', async () => {
    const access = new CaldicottAccess(counted, { now: () => now });
    const readsSources = (): boolean => statements.some((sql) => sql.includes('source_system'));

    const plain = await access.decide({ requester: gp }, 'pat-plain');
    expect(plain.decision.effect).toBe('permit');
    expect(plain.decision.allowedSources).toBeUndefined();
    expect(readsSources()).toBe(false);

    const objecting = await access.decide({ requester: gp }, 'pat-objects');
    expect(readsSources()).toBe(true);
    expect(objecting.decision.effect).toBe('permit');
    // The objection keeps the record to what the GP's own organisation holds: the source registered to it.
    expect(objecting.decision.allowedSources).toEqual([GP_SOURCE]);
  });
});
