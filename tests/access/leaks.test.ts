import type { Bundle, Condition, Encounter, Flag, Patient, Practitioner } from '@medplum/fhirtypes';
import type { Express } from 'express';
import request from 'supertest';
import { auditWithAccess, grantAuditor } from '../../gateway/access/access-audit';
import { CaldicottAccess } from '../../gateway/access/caldicott-access';
import type { AccessComponents } from '../../gateway/access/compose';
import { createApp } from '../../gateway/app';
import { AuditTrail } from '../../gateway/audit/audit-trail';
import { CheckpointKeySet } from '../../gateway/audit/signing';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { createLogger } from '../../gateway/logger';
import { Metrics } from '../../gateway/metrics';
import { Store } from '../../gateway/store/store';
import { securityLabels, Sensitivity } from '../../mappings/security/labels';
import { bearer, ORG, testAuthority, type TestAuthority } from '../support/auth';

/**
 * Nothing withheld leaks through any read path of the real app (specs/access-and-consent.md,
 * "Sensitive information"): read, vread, history, search, _include, _revinclude, $everything,
 * counts and every page boundary, for a GP of the person's practice, a stranger, and a system.
 */
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const GP_SOURCE = 'https://gp.demo.invalid/fhir';
const TRUST_SOURCE = 'https://pas.demo-trust.invalid/hl7v2';
const subject = { reference: 'Patient/pat-1' };
const mentalHealth = { source: GP_SOURCE, security: securityLabels([Sensitivity.MENTAL_HEALTH]) };

function condition(n: number, restricted: boolean): Condition {
  return { resourceType: 'Condition', id: `cond-${n}`, meta: restricted ? mentalHealth : { source: GP_SOURCE }, subject, code: { text: `synthetic condition ${n}` } };
}

const patient1: Patient = {
  resourceType: 'Patient', id: 'pat-1', meta: { source: GP_SOURCE }, birthDate: '1940-01-01', name: [{ family: 'Testperson', given: ['Ada'] }],
  identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' }], address: [{ line: ['1 Synthetic Street'], postalCode: 'ZZ9 9ZZ' }],
  generalPractitioner: [{ reference: 'Organization/gp', identifier: { system: ODS, value: 'Y90001' } }],
};
const patient2: Patient = {
  resourceType: 'Patient', id: 'pat-2', meta: { source: GP_SOURCE }, birthDate: '1950-02-02', name: [{ family: 'Otherperson', given: ['Bo'] }],
  identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000026' }],
  generalPractitioner: [{ reference: 'Organization/gp-other', identifier: { system: ODS, value: 'Y99999' } }],
};
const practitioner: Practitioner = { resourceType: 'Practitioner', id: 'prac-1', name: [{ family: 'Clinician' }] };
const encounter1: Encounter = { resourceType: 'Encounter', id: 'enc-1', meta: { source: TRUST_SOURCE }, status: 'finished', class: { code: 'AMB' }, subject, participant: [{ individual: { reference: 'Practitioner/prac-1' } }] };
const encounter2: Encounter = { resourceType: 'Encounter', id: 'enc-2', meta: { source: TRUST_SOURCE }, status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/pat-2' } };
const keySafe: Flag = { resourceType: 'Flag', id: 'flag-1', meta: { source: GP_SOURCE, security: securityLabels([Sensitivity.KEY_SAFE]) }, status: 'active', subject, code: { text: 'key safe' } };

/** The resources a bundle returns (the "something was withheld" OperationOutcome is not one). */
const ids = (bundle: Bundle): string[] =>
  (bundle.entry ?? []).filter((e) => e.resource?.resourceType !== 'OperationOutcome').map((e) => `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}`).sort();
const withheldMarker = (bundle: Bundle): boolean => (bundle.entry ?? []).some((e) => e.resource?.resourceType === 'OperationOutcome' && JSON.stringify(e.resource).includes('withheld'));

describe('no leaks through any read path', () => {
  let store: Store;
  let app: Express;
  let authority: TestAuthority;
  let trail: AuditTrail;
  let gp: { Authorization: string };
  let stranger: { Authorization: string };

  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    const restrictedIds = [2, 4, 5];
    await store.upsert([patient1, patient2, practitioner, encounter1, encounter2, keySafe, ...[1, 2, 3, 4, 5, 6, 7].map((n) => condition(n, restrictedIds.includes(n)))]);
    authority = await testAuthority();
    const logger = createLogger('silent');
    trail = new AuditTrail({ engine: store.engine, node: 'leak-test' });
    const access = new CaldicottAccess(store.engine, { staticSources: { [GP_SOURCE]: ORG.GP, [TRUST_SOURCE]: ORG.TRUST } });
    const components: AccessComponents = { access, audit: auditWithAccess(trail, store.engine, logger), trail, checkpointKeys: await CheckpointKeySet.from({ publicPems: [], signers: [] }), onGrant: grantAuditor(trail, store.engine), close: () => trail.close() };
    app = createApp({ store, logger, metrics: new Metrics(false), auth: authority.authenticator, access, audit: components.audit, accessComponents: components, publicBaseUrl: 'https://carebridge.test' });
    gp = bearer(await authority.person({ user: 'gp-1', role: 'gp', org: ORG.GP }));
    stranger = bearer(await authority.person({ user: 'nurse-1', role: 'hospital_clinician', org: ORG.TRUST }));
  });
  afterAll(async () => {
    await trail.close();
    await store.close();
  });

  const get = (path: string, who: { Authorization: string }): request.Test => request(app).get(path).set(who);

  test('a GP of the practice must record permission to view before the record opens, and the refusal is audited', async () => {
    const res = await get('/fhir/Patient/pat-1', gp);
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).toContain('permission to view');
    const audit = await store.engine.query<{ outcome: string; user_id: string }>(`SELECT outcome, user_id FROM audit_event WHERE 'pat-1' = ANY(patient_ids) ORDER BY seq DESC LIMIT 1`);
    expect(audit.rows[0]).toEqual({ outcome: 'deny', user_id: 'gp-1' });
    const recorded = await request(app).post('/access/Patient/pat-1/permission-to-view').set(gp).send({ decision: 'given' });
    expect(recorded.status).toBe(201);
    expect((await get('/fhir/Patient/pat-1', gp)).status).toBe(200);
  });

  test('a withheld resource is refused by read, vread and history, and missing from search and counts', async () => {
    expect((await get('/fhir/Condition/cond-2', gp)).status).toBe(403);
    expect((await get('/fhir/Condition/cond-2/_history/1', gp)).status).toBe(403);
    const history = (await get('/fhir/Condition/cond-2/_history', gp)).body as Bundle;
    expect([ids(history), withheldMarker(history)]).toEqual([[], true]);
    const search = await get('/fhir/Condition?patient=pat-1&_total=accurate', gp);
    expect(ids(search.body as Bundle)).toEqual(['Condition/cond-1', 'Condition/cond-3', 'Condition/cond-6', 'Condition/cond-7']);
    expect((search.body as Bundle).total).toBe(4);
    // The search says something was withheld (never what); a search that withheld nothing says nothing.
    expect(withheldMarker(search.body as Bundle)).toBe(true);
    expect(withheldMarker((await get('/fhir/Encounter?patient=pat-1', gp)).body as Bundle)).toBe(false);
    const count = await get('/fhir/Condition?patient=pat-1&_summary=count', gp);
    expect((count.body as Bundle).total).toBe(4);
    expect(JSON.stringify(search.body)).not.toContain('synthetic condition 2');
  });

  test('every page boundary holds: paging two at a time yields exactly the visible conditions', async () => {
    const seen: string[] = [];
    let path: string | undefined = '/fhir/Condition?patient=pat-1&_count=2&_sort=_id';
    while (path) {
      const bundle = (await get(path, gp)).body as Bundle;
      seen.push(...ids(bundle));
      const next = bundle.link?.find((l) => l.relation === 'next')?.url;
      path = next ? next.replace('https://carebridge.test', '') : undefined;
    }
    expect(seen).toEqual(['Condition/cond-1', 'Condition/cond-3', 'Condition/cond-6', 'Condition/cond-7']);
  });

  test('_revinclude and $everything leave out withheld resources and other people, _include brings the practitioner', async () => {
    const rev = await get('/fhir/Patient?_id=pat-1&_revinclude=Condition:subject', gp);
    expect(ids(rev.body as Bundle)).toEqual(['Condition/cond-1', 'Condition/cond-3', 'Condition/cond-6', 'Condition/cond-7', 'Patient/pat-1']);
    const inc = await get('/fhir/Encounter?patient=pat-1&_include=Encounter:participant', gp);
    expect(ids(inc.body as Bundle)).toEqual(['Encounter/enc-1', 'Practitioner/prac-1']);
    const everything = await get('/fhir/Patient/pat-1/$everything', gp);
    const all = ids(everything.body as Bundle);
    expect(all).toEqual(expect.arrayContaining(['Patient/pat-1', 'Encounter/enc-1', 'Flag/flag-1', 'Condition/cond-1']));
    expect(all.filter((r) => ['Condition/cond-2', 'Condition/cond-4', 'Condition/cond-5', 'Encounter/enc-2', 'Patient/pat-2'].includes(r))).toEqual([]);
    // Withheld by the scope before paging, and still marked: the reader is told something was withheld.
    expect(withheldMarker(everything.body as Bundle)).toBe(true);
    // Only the Encounters asked for, and none of those withheld: no marker.
    const encounters = await get('/fhir/Patient/pat-1/$everything?_type=Encounter', gp);
    expect([encounters.status, ids(encounters.body as Bundle), withheldMarker(encounters.body as Bundle)]).toEqual([200, ['Encounter/enc-1'], false]);
  });

  test('reading very restricted data the role is granted raises one privacy officer alert', async () => {
    expect((await get('/fhir/Flag/flag-1', gp)).status).toBe(200);
    expect((await get('/fhir/Flag/flag-1', gp)).status).toBe(200);
    const alerts = await store.engine.query<{ kind: string; user_id: string; patient_id: string }>(`SELECT kind, user_id, patient_id FROM audit_alert WHERE kind = 'very-restricted-access'`);
    expect(alerts.rows).toEqual([{ kind: 'very-restricted-access', user_id: 'gp-1', patient_id: 'pat-1' }]);
  });

  test('a resource that becomes restricted takes its history with it', async () => {
    await store.upsert([{ ...encounter1, meta: { source: TRUST_SOURCE, security: securityLabels([Sensitivity.MENTAL_HEALTH]) } }]);
    expect((await get('/fhir/Encounter/enc-1', gp)).status).toBe(403);
    expect((await get('/fhir/Encounter/enc-1/_history/1', gp)).status).toBe(403);
    const history = (await get('/fhir/Encounter/enc-1/_history', gp)).body as Bundle;
    expect([ids(history), withheldMarker(history)]).toEqual([[], true]);
    await store.upsert([encounter1]);
  });

  test('someone with no relationship finds the person by NHS number but sees identification only, and nothing else', async () => {
    const found = await get('/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018', stranger);
    expect(found.status).toBe(200);
    const person = (found.body as Bundle).entry?.[0]?.resource as Patient;
    expect(person.name?.[0]?.family).toBe('Testperson');
    expect(person.address).toEqual([{ postalCode: 'ZZ9 9ZZ' }]);
    expect(person.generalPractitioner).toBeUndefined();
    expect((await get('/fhir/Patient/pat-1', stranger)).status).toBe(403);
    expect(((await get('/fhir/Encounter?patient=pat-1&_summary=count', stranger)).body as Bundle).total).toBe(0);
    expect((await get('/fhir/Patient/pat-1/$everything', stranger)).status).toBe(403);
  });

  test('searches that name no person are refused for people, and systems read nothing', async () => {
    expect((await get('/fhir/Condition?code=x', gp)).status).toBe(400);
    expect((await get('/fhir/Patient?name=Testperson', gp)).status).toBe(400);
    const system = bearer(await authority.system('demo-trust-pas'));
    expect((await get('/fhir/Patient/pat-1', system)).status).toBe(403);
  });

  test('break-glass opens the record for four hours, is audited and alerts the privacy officer', async () => {
    const bg = await request(app).post('/access/Patient/pat-1/break-glass').set(stranger).send({ reason: 'Collapsed in the emergency department, unresponsive' });
    expect(bg.status).toBe(201);
    expect(((await get('/fhir/Encounter?patient=pat-1', stranger)).body as Bundle).entry?.map((e) => e.resource?.id)).toEqual(['enc-1']);
    const alerts = await store.engine.query<{ kind: string }>(`SELECT kind FROM audit_alert WHERE user_id = 'nurse-1'`);
    expect(alerts.rows.map((r) => r.kind)).toEqual(['break-glass']);
    const op = await store.engine.query<{ interaction: string }>(`SELECT interaction FROM audit_event WHERE user_id = 'nurse-1' AND interaction = 'break-glass'`);
    expect(op.rows).toHaveLength(1);
  });

  test('roles the table does not allow may not break glass, claim a relationship or record a decision', async () => {
    const volunteer = bearer(await authority.person({ user: 'vol-1', role: 'voluntary_sector', org: 'https://carebridge.nhs.uk/Id/charity-number|9000001' }));
    expect((await request(app).post('/access/Patient/pat-2/break-glass').set(volunteer).send({ reason: 'curious' })).status).toBe(403);
    expect((await request(app).post('/access/Patient/pat-2/relationship-claim').set(volunteer).send({ reason: 'direct-care-patient-presented' })).status).toBe(403);
    expect((await request(app).post('/access/Patient/pat-1/consent').set(stranger).send({ kind: 'objection', decision: 'refused' })).status).toBe(403);
    const grants = await store.engine.query(`SELECT 1 FROM access_grant WHERE user_id = 'vol-1'`);
    expect(grants.rows).toEqual([]);
  });

  test('a GP records the person\'s objection; the record then stays within the organisation holding each part of it', async () => {
    const recorded = await request(app).post('/access/Patient/pat-1/consent').set(gp).send({ kind: 'objection', decision: 'refused', decisionMaker: 'person', hasCapacity: 'true' });
    expect(recorded.status).toBe(201);
    const consent = recorded.body as { resourceType: string; provision?: { type?: string }; patient?: { reference?: string } };
    expect([consent.resourceType, consent.provision?.type, consent.patient?.reference]).toEqual(['Consent', 'deny', 'Patient/pat-1']);
    const audit = await store.engine.query<{ interaction: string }>(`SELECT interaction FROM audit_event WHERE user_id = 'gp-1' AND interaction = 'consent-record'`);
    expect(audit.rows).toHaveLength(1);
    // The GP practice holds the GP source: it still sees its own conditions, not the trust's encounters.
    const conditions = await get('/fhir/Condition?patient=pat-1', gp);
    expect(ids(conditions.body as Bundle)).toEqual(['Condition/cond-1', 'Condition/cond-3', 'Condition/cond-6', 'Condition/cond-7']);
    expect(((await get('/fhir/Encounter?patient=pat-1&_summary=count', gp)).body as Bundle).total).toBe(0);
  });
});
