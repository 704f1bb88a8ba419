import type { Condition, Encounter, Organization, Resource } from '@medplum/fhirtypes';
import { NOPAT_CODING, securityLabels } from '../mappings/security/labels';
import { objectionConsent, sharingConsent } from './consent-builders';
import { BASELINE_RULES, decideAccess, decideResource } from './decide';
import { isRedacted } from './redact';
import type { AccessDecision, AccessInput } from './types';
import { COUNCIL_SOURCE, days, GP_SOURCE, hours, identified, ORG, patient, q, requester } from './testing/scenario';

const now = new Date('2026-11-23T12:00:00Z');
const registeredHere = (): Resource => patient({ generalPractitioner: [identified<Organization>('Organization', ORG.requester)] });
const given = () => [{ userId: 'user-1', outcome: 'given' as const, recordedAt: hours(now, -1) }];
const input = (role: string, record: Resource[], extra: Partial<AccessInput> = {}): AccessInput => ({ requester: requester(role), record, permissionToView: given(), ...extra });
const shown = (decision: AccessDecision, resource: Resource): Resource | undefined => {
  const r = decideResource(decision, resource);
  return 'resource' in r ? r.resource : undefined;
};
const condition: Condition = { resourceType: 'Condition', id: 'c1', meta: { source: GP_SOURCE }, subject: { reference: 'Patient/pat-gp' }, code: { text: 'synthetic' }, clinicalStatus: { text: 'active' }, note: [{ text: 'synthetic free text' }], text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">synthetic</div>' } };

describe('decideAccess', () => {
  it('denies a source system token: systems write through intake only', () => {
    const d = decideAccess(input('gp', [registeredHere()], { requester: requester('gp', { system: 'pas' }) }), now);
    expect(d.effect).toBe('deny');
    expect(d.reasons.at(-1)).toBe('denied: source systems write through the intake endpoints and read nothing');
  });

  it('denies a role that is not in the table, and a requester with no role', () => {
    expect(decideAccess(input('surgeon', [registeredHere()]), now).reasons.at(-1)).toBe('denied: role "surgeon" is not in the role table');
    expect(decideAccess(input('gp', [registeredHere()], { requester: requester('gp', { role: undefined }) }), now).effect).toBe('deny');
  });

  it('denies without a relationship and says which ways are open to the user', () => {
    expect(decideAccess(input('gp', [patient()]), now).reasons.at(-1)).toBe('denied: no legitimate relationship with the person (the user may self-claim a relationship or break glass)');
    expect(decideAccess(input('admin', [patient()]), now).reasons.at(-1)).toBe('denied: no legitimate relationship with the person');
  });

  it('permits the registered GP with every category, labels withheld as the role is not granted them', () => {
    const d = decideAccess(input('gp', [registeredHere()]), now);
    expect(d.effect).toBe('permit');
    expect(d.relationship?.kind).toBe('registered-gp');
    expect(d.withheldSensitivities).toEqual(['mental-health', 'sexual-health']);
    expect(d.withheldLabels).toEqual(['http://terminology.hl7.org/CodeSystem/v3-ActCode|PSY', 'http://terminology.hl7.org/CodeSystem/v3-ActCode|SEX']);
    expect(d.resourceTypes).toContain('Condition');
    expect(d.nonPatientResources).toBe(true);
    expect(d.alerts).toEqual([]);
    expect(d.validUntil).toBe(hours(now, 7));
  });

  it('asks for permission to view first: deny with needsPermissionToView until it is recorded', () => {
    const d = decideAccess(input('gp', [registeredHere()], { permissionToView: [] }), now);
    expect(d).toMatchObject({ effect: 'deny', needsPermissionToView: true, permissionToView: 'not-recorded' });
    const old = decideAccess(input('gp', [registeredHere()], { permissionToView: [{ userId: 'user-1', outcome: 'given', recordedAt: hours(now, -9) }] }), now);
    expect(old.needsPermissionToView).toBe(true);
    const relaxed = decideAccess(input('gp', [registeredHere()], { permissionToView: [] }), now, { ...BASELINE_RULES, policy: { ...BASELINE_RULES.policy, requirePermissionToView: false } });
    expect(relaxed.effect).toBe('permit');
  });

  it('"could not be asked" counts only with a reason', () => {
    const without = decideAccess(input('gp', [registeredHere()], { permissionToView: [{ userId: 'user-1', outcome: 'could-not-ask', recordedAt: hours(now, -1) }] }), now);
    expect(without.effect).toBe('deny');
    const withReason = decideAccess(input('gp', [registeredHere()], { permissionToView: [{ userId: 'user-1', outcome: 'could-not-ask', reason: 'unconscious', recordedAt: hours(now, -1) }] }), now);
    expect(withReason).toMatchObject({ effect: 'permit', permissionToView: 'could-not-ask' });
  });

  it('a refusal of permission to view is overridden only by break-glass, which alerts', () => {
    const refused = [{ userId: 'user-1', outcome: 'refused' as const, recordedAt: hours(now, -1) }];
    expect(decideAccess(input('gp', [registeredHere()], { permissionToView: refused }), now).reasons.at(-1)).toBe('denied: the person refused permission to view in this session');
    const btg = decideAccess(input('gp', [registeredHere()], { permissionToView: refused, grants: [{ kind: 'break-glass', userId: 'user-1', reason: 'collapsed in clinic', grantedAt: hours(now, -1), expiresAt: hours(now, 3) }] }), now);
    expect(btg.effect).toBe('permit');
    expect(btg.alerts.map((a) => a.kind)).toEqual(['break-glass', 'refusal-override']);
    expect(btg.validUntil).toBe(hours(now, 3));
  });

  it('a self-claimed relationship permits for its 24 hours and alerts the privacy officer', () => {
    const d = decideAccess(input('hospital_clinician', [patient()], { grants: [{ kind: 'self-claimed', userId: 'user-1', reason: 'direct care: referral received', grantedAt: hours(now, -23), expiresAt: hours(now, 1) }] }), now);
    expect(d.relationship?.kind).toBe('self-claimed');
    expect(d.alerts).toEqual([{ kind: 'self-claim', reason: 'access rests on a self-claimed relationship' }]);
    expect(d.validUntil).toBe(hours(now, 1));
  });

  it('care home staff see their residents only: a registered-GP-like link does not count for them', () => {
    const d = decideAccess(input('care_home_staff', [patient({ generalPractitioner: [identified<Organization>('Organization', ORG.careHome)] })]), now);
    expect(d.effect).toBe('deny');
    expect(d.reasons).toContain('a registered-gp relationship does not count for this role');
  });
});

describe('the person\'s decisions', () => {
  const sources = { [GP_SOURCE]: q(ORG.requester), [COUNCIL_SOURCE]: q(ORG.council) };
  const base = { patient: { reference: 'Patient/pat-gp' }, dateTime: days(now, -10), decisionMaker: 'person' as const };

  it('an objection leaves the holding organisation its own data only', () => {
    const record = [registeredHere(), objectionConsent({ ...base, id: 'obj' })];
    const d = decideAccess(input('gp', record, { sourceOrganisations: sources }), now);
    expect(d.effect).toBe('permit');
    expect(d.allowedSources).toEqual([GP_SOURCE]);
    expect(shown(d, condition)?.id).toBe('c1');
    expect(decideResource(d, { ...condition, meta: { source: COUNCIL_SOURCE } })).toEqual({ withheld: 'source' });
    expect(decideResource(d, { ...condition, meta: {} })).toEqual({ withheld: 'source' });
  });

  it('an objection is lifted by a later decision, and the latest one of a topic wins', () => {
    const lifted = [registeredHere(), objectionConsent({ ...base, id: 'obj' }), objectionConsent({ ...base, id: 'lift', decision: 'withdrawn', dateTime: days(now, -1) })];
    // "withdrawn" of an objection is still a deny: it withdraws consent. Lifting an objection is recorded as given.
    expect(decideAccess(input('hospital_clinician', lifted), now).effect).toBe('deny');
    const liftedByGiven = [registeredHere(), objectionConsent({ ...base, id: 'obj' }), objectionConsent({ ...base, id: 'lift', decision: 'given', dateTime: days(now, -1) })];
    expect(decideAccess(input('hospital_clinician', liftedByGiven), now).effect).toBe('permit');
    // The order of the resources does not matter: the later dateTime does.
    expect(decideAccess(input('hospital_clinician', [...liftedByGiven].reverse()), now).effect).toBe('permit');
  });

  it('social care data refused to health: the council\'s data is withheld from health, kept for social care', () => {
    const refusal = sharingConsent({ ...base, id: 'no-health', recipient: 'health', decision: 'refused', dataSources: [COUNCIL_SOURCE], custodian: identified<Organization>('Organization', ORG.council) });
    const gp = decideAccess(input('gp', [registeredHere(), refusal]), now);
    expect(gp.withheldSources).toEqual([COUNCIL_SOURCE]);
    expect(decideResource(gp, { ...condition, meta: { source: COUNCIL_SOURCE } })).toEqual({ withheld: 'source' });
    expect(shown(gp, condition)?.id).toBe('c1');
    const sw = decideAccess(input('social_worker', [patient(), refusal, { resourceType: 'EpisodeOfCare', id: 'e', status: 'active', patient: { reference: 'Patient/pat-gp' }, managingOrganization: identified<Organization>('Organization', ORG.requester) }]), now);
    expect(sw.withheldSources).toEqual([]);
  });

  it('voluntary sector sees nothing without consent; with consent, name and contact only', () => {
    const record = [registeredHere()];
    expect(decideAccess(input('voluntary_sector', record), now).reasons.at(-1)).toBe("denied: voluntary-sector sees the record only with the person's consent, and none is in force");
    const consented = decideAccess(input('voluntary_sector', [...record, sharingConsent({ ...base, id: 'vol', recipient: 'voluntary-sector', decision: 'given' })]), now);
    expect(consented.effect).toBe('permit');
    const p = shown(consented, registeredHere());
    expect(Object.keys(p ?? {}).sort()).toEqual(['id', 'meta', 'name', 'resourceType', 'telecom']);
    expect(isRedacted(p!)).toBe(true);
    const withdrawn = [...record, sharingConsent({ ...base, id: 'vol', recipient: 'voluntary-sector', decision: 'given' }), sharingConsent({ ...base, id: 'vol2', recipient: 'voluntary-sector', decision: 'withdrawn', dateTime: days(now, -2) })];
    expect(decideAccess(input('voluntary_sector', withdrawn), now).effect).toBe('deny');
  });

  it('a proxy\'s decision names who decided in the reasons, with no personal details', () => {
    const d = decideAccess(input('voluntary_sector', [registeredHere(), sharingConsent({ ...base, id: 'vol', recipient: 'voluntary-sector', decision: 'best-interest', decisionMaker: 'best-interest', hasCapacity: false })]), now);
    expect(d.reasons).toContain(`the person consented to sharing with voluntary-sector (decided by a best-interest decision; the person lacked capacity for this decision (Consent/vol, ${days(now, -10)}))`);
    const lpa = decideAccess(input('gp', [registeredHere(), sharingConsent({ ...base, id: 'no', recipient: 'health', decision: 'refused', decisionMaker: 'lpa-health-welfare' })]), now);
    expect(lpa.reasons.at(-1)).toBe(`denied: the person refused sharing with health (decided by an attorney (lasting power of attorney, health and welfare) (Consent/no, ${days(now, -10)}))`);
  });

  it('a refusal limited to a purpose applies to that purpose only', () => {
    const research = sharingConsent({ ...base, id: 'r', recipient: 'health', decision: 'refused', purposes: ['HOPERAT'] });
    expect(decideAccess(input('gp', [registeredHere(), research]), now).effect).toBe('permit');
    expect(decideAccess(input('gp', [registeredHere(), research], { requester: requester('gp', { purposeOfUse: 'HOPERAT' }) }), now).effect).toBe('deny');
  });

  it('a refusal of labelled data withholds that label', () => {
    const noHiv = sharingConsent({ ...base, id: 'h', recipient: 'health', decision: 'refused', securityLabels: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }] });
    const d = decideAccess(input('gp', [registeredHere(), noHiv]), now);
    expect(decideResource(d, { ...condition, meta: { source: GP_SOURCE, security: securityLabels(['hiv']) } })).toEqual({ withheld: 'label' });
  });

  it('a Consent from elsewhere that denies everyone everything is an objection', () => {
    const foreign: Resource = { resourceType: 'Consent', id: 'f', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] }, category: [{ text: 'x' }], provision: { type: 'deny' } };
    expect(decideAccess(input('hospital_clinician', [registeredHere(), foreign]), now).reasons.at(-1)).toMatch(/^denied: the person objected to sharing/);
  });

  it('a Consent that names one worker as refused applies to that worker only', () => {
    const named: Resource = sharingConsent({ ...base, id: 'w', recipient: 'health', decision: 'refused' });
    const onlyWorker = { ...named, provision: { type: 'deny' as const, actor: [{ role: { text: 'named person' }, reference: identified('Practitioner', { system: 'https://example.invalid/staff', value: 'S9' }) }] } } as Resource;
    expect(decideAccess(input('gp', [registeredHere(), onlyWorker]), now).effect).toBe('permit');
    expect(decideAccess(input('gp', [registeredHere(), onlyWorker], { requester: requester('gp', { workerId: 'https://example.invalid/staff|S9' }) }), now).effect).toBe('deny');
  });
});

describe('decideResource', () => {
  it('a social worker sees a condition\'s code and status but not its note, marked redacted', () => {
    const sw = decideAccess(input('social_worker', [registeredHere()]), now);
    const c = shown(sw, condition) as Condition;
    expect(c.code).toEqual({ text: 'synthetic' });
    expect(c.note).toBeUndefined();
    expect(c.text).toBeUndefined();
    expect(isRedacted(c)).toBe(true);
    expect(condition.note).toHaveLength(1);
  });

  it('a GP sees the condition whole and unmarked', () => {
    expect(shown(decideAccess(input('gp', [registeredHere()]), now), condition)).toBe(condition);
  });

  it('urgent care sees the last five encounters and any open one, not older ones', () => {
    const enc = (n: number, status: Encounter['status'] = 'finished'): Encounter => ({ resourceType: 'Encounter', id: `e${n}`, status, class: { code: 'AMB' }, period: { start: days(now, -100 - n) } });
    const encounters = [enc(1), enc(2), enc(3), enc(4), enc(5), enc(6), enc(7, 'in-progress'), enc(8, 'cancelled')];
    const d = decideAccess(input('urgent_care', [registeredHere(), ...encounters]), now);
    expect(d.latestEncounterIds).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e7']);
    expect(decideResource(d, enc(6))).toEqual({ withheld: 'not-latest-encounter' });
    expect(shown(d, enc(7, 'in-progress'))?.id).toBe('e7');
  });

  it('GP Connect\'s NOPAT label restricts no clinician', () => {
    const d = decideAccess(input('hospital_clinician', [registeredHere()]), now);
    expect(shown(d, { ...condition, meta: { source: GP_SOURCE, security: [NOPAT_CODING] } })?.id).toBe('c1');
  });

  it('very restricted data shown raises a very-restricted alert', () => {
    const d = decideAccess(input('gp', [registeredHere()]), now);
    const r = decideResource(d, { ...condition, meta: { source: GP_SOURCE, security: securityLabels(['safeguarding']) } });
    expect('resource' in r && r.alerts).toEqual([{ kind: 'very-restricted', reason: 'very restricted Condition shown' }]);
  });

  it('the privacy officer sees the person\'s identity and privacy decisions, no clinical content', () => {
    const d = decideAccess(input('privacy_officer', [patient()], { permissionToView: [] }), now);
    expect(d.effect).toBe('permit');
    expect(decideResource(d, condition)).toEqual({ withheld: 'category' });
    expect(Object.keys(shown(d, patient()) ?? {}).sort()).toEqual(['birthDate', 'id', 'identifier', 'meta', 'name', 'resourceType']);
    expect(shown(d, objectionConsent({ patient: { reference: 'Patient/pat-gp' }, dateTime: days(now, -1), decisionMaker: 'person', id: 'o' }))?.id).toBe('o');
  });

  it('admin sees demographics and care team only', () => {
    const d = decideAccess(input('admin', [registeredHere()], { permissionToView: [] }), now);
    expect(d.categories).toEqual(['demographics', 'care_team', 'directory']);
    expect(decideResource(d, condition)).toEqual({ withheld: 'category' });
  });

  it('a passport is in the passport category; a document of another type is not', () => {
    const home = decideAccess(input('care_home_staff', [patient({ extension: [{ url: 'https://carebridge.nhs.uk/fhir/StructureDefinition/care-home-residence', valueReference: identified('Organization', ORG.careHome) }] })]), now);
    const doc = (code: string): Resource => ({ resourceType: 'DocumentReference', id: code, status: 'current', type: { coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/document-type', code }] }, content: [{ attachment: {} }] });
    expect(shown(home, doc('transfer-passport'))?.id).toBe('transfer-passport');
    expect(shown(home, doc('dnacpr'))?.id).toBe('dnacpr');
    expect(decideResource(home, { ...doc('x'), type: { text: 'letter' } } as Resource)).toEqual({ withheld: 'category' });
  });
});
