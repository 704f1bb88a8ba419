import type { CarePlan, CareTeam, Condition, Encounter, Flag, Location, MedicationStatement, Organization, Resource } from '@medplum/fhirtypes';
import { careHomeSource } from '../mappings/passport/codes';
import { NOPAT_CODING, securityLabels, Sensitivity, type Confidentiality } from '../mappings/security/labels';
import { objectionConsent, sharingConsent } from './consent-builders';
import { decideAccess, decideResource } from './decide';
import { mayOpenPassport, passportAlerts, passportEntryWithheld } from './passport';
import type { AccessDecision, AccessGrant, AccessInput, WithheldReason } from './types';
import { careHomeResidence, COUNCIL_SOURCE, days, GP_SOURCE, HOSPITAL_SOURCE, hours, identified, ORG, patient, q, requester, TEAM, WORKER } from './testing/scenario';

/**
 * What a reader of a red bag passport may open and see (consent/passport.ts; specs/red-bag-passport.md
 * "The passport obeys access rules like any read"; specs/access-and-consent.md). Every decision
 * here is the real decideAccess over a synthetic record: the passport is opened through the
 * `passport` category; inside it, entries are withheld for labels the role is not granted and for
 * the person's decisions about sources, never for their category; the Patient and the directory
 * are not care data and are not withheld by source.
 */

const now = new Date('2026-11-23T12:00:00Z');
const subject = { reference: 'Patient/pat-gp' };
const given = [{ userId: 'user-1', outcome: 'given' as const, recordedAt: hours(now, -1) }];

/** The resident of the care home in ORG.careHome, registered with another practice. */
const resident = (): Resource => patient(careHomeResidence(ORG.careHome));
/** The resident, registered with the requester's practice. */
const registeredHere = (): Resource => patient({ ...careHomeResidence(ORG.careHome), generalPractitioner: [identified<Organization>('Organization', ORG.requester)] });
/** A hospital stay at the requester's organisation: open unless an end is given. */
const stay = (end?: string): Encounter => ({
  resourceType: 'Encounter', id: 'stay', meta: { source: HOSPITAL_SOURCE }, status: end ? 'finished' : 'in-progress', class: { code: 'IMP' }, subject,
  serviceProvider: identified<Organization>('Organization', ORG.requester), period: { start: days(now, -2), ...(end ? { end } : {}) },
});
/** The requester (their worker id and team) allocated on the council's active care team. */
const allocation: CareTeam = {
  resourceType: 'CareTeam', id: 'allocation', meta: { source: COUNCIL_SOURCE }, status: 'active', subject,
  participant: [{ member: identified('Practitioner', WORKER) }, { member: identified('Organization', TEAM) }],
};
const consentBase = { patient: subject, dateTime: days(now, -10), decisionMaker: 'person' as const };

/** The record each role has a legitimate relationship through. */
const RELATIONSHIP: Readonly<Record<string, () => Resource[]>> = {
  care_home_staff: () => [resident()],
  hospital_clinician: () => [resident(), stay()],
  gp: () => [registeredHere()],
  community_nurse: () => [resident(), allocation],
  mental_health: () => [resident(), stay()],
  urgent_care: () => [resident(), stay()],
  social_worker: () => [resident(), allocation],
  care_coordinator: () => [resident(), allocation],
  therapist: () => [resident(), stay()],
  pharmacist: () => [resident(), stay()],
  voluntary_sector: () => [resident(), allocation, sharingConsent({ ...consentBase, id: 'vol', recipient: 'voluntary-sector', decision: 'given' })],
  admin: () => [resident(), stay()],
  privacy_officer: () => [resident()],
};

const decide = (role: string, extra: Partial<AccessInput> = {}, record: Resource[] = (RELATIONSHIP[role] ?? (() => []))()): AccessDecision =>
  decideAccess({ requester: requester(role), record, permissionToView: given, ...extra }, now);

// Entries a passport carries, each from one source.
const labelled = (sensitivities: Sensitivity[], confidentiality: Confidentiality = 'N', source = GP_SOURCE): { source: string; security: ReturnType<typeof securityLabels> } => ({ source, security: securityLabels(sensitivities, confidentiality) });
const fallsAlert: Flag = { resourceType: 'Flag', id: 'falls', meta: { source: COUNCIL_SOURCE }, status: 'active', subject, code: { text: 'High falls risk (synthetic)' } };
const safeguardingAlert: Flag = { resourceType: 'Flag', id: 'safeguarding', meta: labelled([Sensitivity.SAFEGUARDING]), status: 'active', subject, code: { text: 'Safeguarding concern (synthetic)' } };
const keySafeAlert: Flag = { resourceType: 'Flag', id: 'key-safe', meta: labelled([Sensitivity.KEY_SAFE]), status: 'active', subject, code: { text: 'Key safe code (synthetic)' } };
const domesticAbuseAlert: Flag = { resourceType: 'Flag', id: 'domestic-abuse', meta: labelled([Sensitivity.DOMESTIC_ABUSE]), status: 'active', subject, code: { text: 'Domestic abuse (synthetic)' } };
const condition = (id: string, meta: Resource['meta']): Condition => ({ resourceType: 'Condition', id, meta, subject, code: { text: `synthetic ${id}` } });
const dementia = condition('dementia', { source: GP_SOURCE });
const depression = condition('depression', labelled([Sensitivity.MENTAL_HEALTH]));
const hiv = condition('hiv', labelled([Sensitivity.HIV]));
const substanceMisuse = condition('substance', labelled([Sensitivity.SUBSTANCE_MISUSE]));
const sexualHealth = condition('sexual-health', labelled([Sensitivity.SEXUAL_HEALTH]));
const genderIdentity = condition('gender-identity', labelled([Sensitivity.GENDER_IDENTITY]));
const restricted = condition('restricted', labelled([], 'R'));
const veryRestricted = condition('very-restricted', labelled([], 'V'));
const medication = (id: string, source: string | undefined, extra: Partial<MedicationStatement> = {}): MedicationStatement => ({
  resourceType: 'MedicationStatement', id, ...(source ? { meta: { source } } : {}), status: 'active', subject, medicationCodeableConcept: { text: 'Synthetic 10mg tablets' }, ...extra,
});
const gpMedicine = medication('gp-med', GP_SOURCE);
const notForPatientView = medication('nopat', GP_SOURCE, { meta: { source: GP_SOURCE, security: [NOPAT_CODING] } });
const carePackage: CarePlan = { resourceType: 'CarePlan', id: 'package', meta: { source: COUNCIL_SOURCE }, status: 'active', intent: 'plan', subject, title: 'Care package (synthetic)' };

const withheld = (decision: AccessDecision, resource: Resource): WithheldReason | 'shown' => passportEntryWithheld(decision, resource) ?? 'shown';

describe('mayOpenPassport: the passport category for the role, with a legitimate relationship', () => {
  // role × relationship held: every row is a permit, so whether the passport opens is the role's categories.
  test.each([
    ['care_home_staff', 'care-home-residence', true],
    ['hospital_clinician', 'encounter', true],
    ['gp', 'registered-gp', true],
    ['community_nurse', 'care-team', true],
    ['mental_health', 'encounter', true],
    ['urgent_care', 'encounter', false],
    ['social_worker', 'care-team', false],
    ['care_coordinator', 'care-team', false],
    ['therapist', 'encounter', false],
    ['pharmacist', 'encounter', false],
    ['voluntary_sector', 'care-team', false],
    ['admin', 'encounter', false],
  ])('%s with a %s relationship: passport opens = %s', (role, kind, opens) => {
    const decision = decide(role);
    expect([decision.effect, decision.relationship?.kind, decision.categories.includes('passport'), mayOpenPassport(decision)]).toEqual(['permit', kind, opens, opens]);
  });

  test('the privacy officer needs no relationship and is permitted, but sees no passport (no clinical content)', () => {
    const decision = decide('privacy_officer');
    expect([decision.effect, decision.relationship, mayOpenPassport(decision)]).toEqual(['permit', undefined, false]);
  });

  test('care home staff of another home may not open the resident\'s passport, nor by self-claim or break-glass', () => {
    const grants: AccessGrant[] = [
      { kind: 'self-claimed', userId: 'user-1', reason: 'direct care: covering colleague', grantedAt: hours(now, -1), expiresAt: hours(now, 23) },
      { kind: 'break-glass', userId: 'user-1', reason: 'resident collapsed', grantedAt: hours(now, -1), expiresAt: hours(now, 3) },
    ];
    const otherHome = decideAccess({ requester: requester('care_home_staff', { organisation: q({ system: ORG.careHome.system, value: '1-000000999' }) }), record: [resident()], permissionToView: given, grants }, now);
    expect([otherHome.effect, mayOpenPassport(otherHome)]).toEqual(['deny', false]);
    expect(otherHome.reasons).toEqual(expect.arrayContaining(['this role may not self-claim a relationship: the claim is ignored', 'this role may not break glass: the break-glass is ignored']));
  });

  test('care home staff whose home is only the registered "practice" on the record have no residence relationship', () => {
    const decision = decide('care_home_staff', {}, [patient({ generalPractitioner: [identified<Organization>('Organization', ORG.careHome)] })]);
    expect([decision.effect, mayOpenPassport(decision)]).toEqual(['deny', false]);
  });

  test.each([
    ['no stay', 'deny', false, []],
    ['an open stay', 'permit', true, [stay()]],
    ['a stay that ended 10 days ago', 'permit', true, [stay(days(now, -10))]],
    ['a stay that ended 40 days ago', 'deny', false, [stay(days(now, -40))]],
  ])('a hospital clinician with %s: %s, passport opens = %s', (_what, effect, opens, encounters) => {
    const decision = decide('hospital_clinician', {}, [resident(), ...encounters]);
    expect([decision.effect, mayOpenPassport(decision)]).toEqual([effect, opens]);
  });

  test('a hospital clinician without a relationship may self-claim one, and the passport then opens', () => {
    const grant: AccessGrant = { kind: 'self-claimed', userId: 'user-1', reason: 'direct care: patient presented', grantedAt: hours(now, -1), expiresAt: hours(now, 23) };
    const decision = decide('hospital_clinician', { grants: [grant] }, [resident()]);
    expect([decision.relationship?.kind, mayOpenPassport(decision)]).toEqual(['self-claimed', true]);
  });

  test('until permission to view is recorded in the session, or when it was refused, the passport does not open', () => {
    const notRecorded = decide('care_home_staff', { permissionToView: [] });
    expect([notRecorded.needsPermissionToView, mayOpenPassport(notRecorded)]).toEqual([true, false]);
    const refused = decide('hospital_clinician', { permissionToView: [{ userId: 'user-1', outcome: 'refused', recordedAt: hours(now, -1) }] });
    expect([refused.effect, mayOpenPassport(refused)]).toEqual(['deny', false]);
  });
});

describe('passportEntryWithheld: labels the role is not granted', () => {
  const entries: readonly [string, Resource][] = [
    ['falls alert', fallsAlert],
    ['safeguarding alert', safeguardingAlert],
    ['key-safe alert', keySafeAlert],
    ['domestic abuse alert', domesticAbuseAlert],
    ['dementia', dementia],
    ['depression (mental health)', depression],
    ['HIV', hiv],
    ['substance misuse', substanceMisuse],
    ['sexual health', sexualHealth],
    ['gender identity', genderIdentity],
    ['restricted (R)', restricted],
    ['very restricted (V)', veryRestricted],
    ['GP medicine', gpMedicine],
    ['NOPAT medicine', notForPatientView],
  ];
  // Confidentiality and sensitivities of each role, from consent/data/roles.json.
  const expected: Readonly<Record<string, readonly ('shown' | 'label')[]>> = {
    //                   falls    safeg    keysafe  domestic dementia depress  hiv      substance sexual  gender   R        V        med      nopat
    care_home_staff: ['shown', 'label', 'label', 'label', 'shown', 'label', 'label', 'label', 'label', 'label', 'shown', 'label', 'shown', 'shown'],
    hospital_clinician: ['shown', 'shown', 'label', 'shown', 'shown', 'label', 'shown', 'shown', 'label', 'label', 'shown', 'shown', 'shown', 'shown'],
    gp: ['shown', 'shown', 'shown', 'shown', 'shown', 'label', 'shown', 'shown', 'label', 'shown', 'shown', 'shown', 'shown', 'shown'],
    community_nurse: ['shown', 'shown', 'shown', 'shown', 'shown', 'label', 'label', 'shown', 'label', 'label', 'shown', 'shown', 'shown', 'shown'],
    mental_health: ['shown', 'shown', 'label', 'shown', 'shown', 'shown', 'label', 'shown', 'label', 'label', 'shown', 'shown', 'shown', 'shown'],
  };

  test.each(Object.keys(expected))('%s: each entry shown or withheld by its labels', (role) => {
    const decision = decide(role);
    expect(mayOpenPassport(decision)).toBe(true);
    expect(Object.fromEntries(entries.map(([name, r]) => [name, withheld(decision, r)]))).toEqual(Object.fromEntries(entries.map(([name], i) => [name, expected[role]?.[i]])));
  });

  test('care home staff: the safeguarding alert is withheld, the falls alert is not', () => {
    const decision = decide('care_home_staff');
    expect(passportEntryWithheld(decision, safeguardingAlert)).toBe('label');
    expect(passportEntryWithheld(decision, fallsAlert)).toBeUndefined();
  });

  test('inside the passport nothing is withheld for its category: care home staff see alerts and problems they may not browse in the record', () => {
    const decision = decide('care_home_staff');
    expect(decision.categories).not.toContain('alerts');
    expect(decision.categories).not.toContain('problems');
    expect([decideResource(decision, fallsAlert), decideResource(decision, dementia)]).toEqual([{ withheld: 'category' }, { withheld: 'category' }]);
    expect([passportEntryWithheld(decision, fallsAlert), passportEntryWithheld(decision, dementia)]).toEqual([undefined, undefined]);
  });

  test('the person and the directory are withheld by labels too: a label is about what the resource says', () => {
    const labelledPatient = patient({ ...careHomeResidence(ORG.careHome), meta: labelled([Sensitivity.GENDER_IDENTITY]) });
    const labelledPlace: Location = { resourceType: 'Location', id: 'refuge', meta: labelled([Sensitivity.DOMESTIC_ABUSE]), name: 'Refuge (synthetic)' };
    const home = decide('care_home_staff');
    expect([withheld(home, labelledPatient), withheld(home, labelledPlace)]).toEqual(['label', 'label']);
    const gp = decide('gp');
    expect([withheld(gp, labelledPatient), withheld(gp, labelledPlace)]).toEqual(['shown', 'shown']);
  });

  test('labels the person refused to share with a recipient class are withheld from it in the passport', () => {
    const noHiv = sharingConsent({ ...consentBase, id: 'no-hiv', recipient: 'health', decision: 'refused', securityLabels: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }] });
    const hospital = decide('hospital_clinician', {}, [resident(), stay(), noHiv]);
    expect([withheld(hospital, hiv), withheld(hospital, dementia)]).toEqual(['label', 'shown']);
    // Not a refusal for care providers: nothing changes for care home staff (who are not granted HIV anyway) or for the GP's medicines.
    const home = decide('care_home_staff', {}, [resident(), noHiv]);
    expect([withheld(home, gpMedicine), withheld(home, dementia)]).toEqual(['shown', 'shown']);
  });

  test('a denied decision withholds every entry, the person included', () => {
    const denied = decide('hospital_clinician', {}, [resident()]);
    expect(denied.effect).toBe('deny');
    expect([resident(), fallsAlert, gpMedicine, { resourceType: 'Organization', id: 'o' } as Organization].map((r) => passportEntryWithheld(denied, r))).toEqual(['denied', 'denied', 'denied', 'denied']);
  });

  test('a permit without the passport category withholds every entry as denied (urgent care, social worker)', () => {
    for (const role of ['urgent_care', 'social_worker']) {
      const decision = decide(role);
      expect(decision.effect).toBe('permit');
      expect([passportEntryWithheld(decision, resident()), passportEntryWithheld(decision, gpMedicine)]).toEqual(['denied', 'denied']);
    }
  });
});

describe('passportEntryWithheld: the person\'s decisions about sources; the person and the directory are not withheld by source', () => {
  const sources = { [HOSPITAL_SOURCE]: q(ORG.requester), [GP_SOURCE]: q(ORG.otherPractice), [COUNCIL_SOURCE]: q(ORG.council), [careHomeSource(ORG.careHome.value)]: q(ORG.careHome) };
  const objection = objectionConsent({ ...consentBase, id: 'objection' });
  const hospitalEntry = (id: string, extra: Partial<Condition> = {}): Condition => ({ ...condition(id, { source: HOSPITAL_SOURCE }), ...extra });
  const gpPatient = patient();
  const councilHome: Organization = { resourceType: 'Organization', id: 'oakfield', meta: { source: COUNCIL_SOURCE }, name: 'Care home (synthetic)' };
  const directory: Resource[] = [
    councilHome,
    { resourceType: 'Practitioner', id: 'gp-doctor', meta: { source: GP_SOURCE }, name: [{ family: 'Synthetic' }] },
    { resourceType: 'PractitionerRole', id: 'gp-role', meta: { source: GP_SOURCE } },
    { resourceType: 'Location', id: 'ward', meta: { source: HOSPITAL_SOURCE }, name: 'Ward (synthetic)' },
    { resourceType: 'HealthcareService', id: 'day-centre', meta: { source: COUNCIL_SOURCE }, name: 'Day centre (synthetic)' },
    { resourceType: 'Organization', id: 'no-source' },
  ];
  const nextOfKin: Resource = { resourceType: 'RelatedPerson', id: 'nok', meta: { source: COUNCIL_SOURCE }, patient: subject, name: [{ family: 'Synthetic' }] };

  test('an objection: a hospital clinician sees only the hospital\'s own entries, plus the person and the directory', () => {
    const decision = decide('hospital_clinician', { sourceOrganisations: sources }, [resident(), stay(), objection]);
    expect(decision.allowedSources).toEqual([HOSPITAL_SOURCE]);
    expect(mayOpenPassport(decision)).toBe(true);
    expect([withheld(decision, gpMedicine), withheld(decision, carePackage), withheld(decision, nextOfKin), withheld(decision, medication('no-source', undefined))]).toEqual(['source', 'source', 'source', 'source']);
    expect(withheld(decision, hospitalEntry('own'))).toBe('shown');
    expect([gpPatient, ...directory].map((r) => withheld(decision, r))).toEqual(['shown', 'shown', 'shown', 'shown', 'shown', 'shown', 'shown']);
    // The label rule still holds for the hospital's own data.
    expect(withheld(decision, hospitalEntry('own-mh', { meta: labelled([Sensitivity.MENTAL_HEALTH], 'N', HOSPITAL_SOURCE) }))).toBe('label');
  });

  test('an objection: care home staff see the home\'s own entries (its transfer form), not the GP\'s or the council\'s', () => {
    const formAnswer = medication('dose-given', careHomeSource(ORG.careHome.value));
    const decision = decide('care_home_staff', { sourceOrganisations: sources }, [resident(), objection]);
    expect(decision.allowedSources).toEqual([careHomeSource(ORG.careHome.value)]);
    expect([withheld(decision, formAnswer), withheld(decision, gpMedicine), withheld(decision, fallsAlert), withheld(decision, gpPatient), withheld(decision, councilHome)]).toEqual(['shown', 'source', 'source', 'shown', 'shown']);
  });

  test('an objection where the reader\'s organisation holds none of the data: no passport at all', () => {
    const decision = decide('hospital_clinician', { sourceOrganisations: { [GP_SOURCE]: q(ORG.otherPractice) } }, [resident(), stay(), objection]);
    expect([decision.effect, mayOpenPassport(decision), passportEntryWithheld(decision, gpPatient)]).toEqual(['deny', false, 'denied']);
  });

  test('break-glass overrides the objection but not the labels', () => {
    const glass: AccessGrant = { kind: 'break-glass', userId: 'user-1', reason: 'unconscious on arrival', grantedAt: hours(now, -1), expiresAt: hours(now, 3) };
    const decision = decide('hospital_clinician', { sourceOrganisations: sources, grants: [glass] }, [resident(), objection]);
    expect([decision.breakGlass, decision.allowedSources, mayOpenPassport(decision)]).toEqual([true, undefined, true]);
    expect([withheld(decision, gpMedicine), withheld(decision, carePackage), withheld(decision, depression), withheld(decision, safeguardingAlert)]).toEqual(['shown', 'shown', 'label', 'shown']);
  });

  test('social care data refused to health: the council\'s entries are withheld from the hospital and the GP, not from the care home', () => {
    const refusal = sharingConsent({ ...consentBase, id: 'no-health', recipient: 'health', decision: 'refused', dataSources: [COUNCIL_SOURCE], custodian: identified<Organization>('Organization', ORG.council) });
    for (const role of ['hospital_clinician', 'gp']) {
      const decision = decide(role, { sourceOrganisations: sources }, [...(RELATIONSHIP[role]?.() ?? []), refusal]);
      expect(decision.withheldSources).toEqual([COUNCIL_SOURCE]);
      expect([withheld(decision, carePackage), withheld(decision, fallsAlert), withheld(decision, nextOfKin), withheld(decision, gpMedicine)]).toEqual(['source', 'source', 'source', 'shown']);
      // The council's Patient and its directory entries (the care home) are not care data.
      expect([withheld(decision, patient({ id: 'pat-council', meta: { source: COUNCIL_SOURCE } })), withheld(decision, councilHome)]).toEqual(['shown', 'shown']);
    }
    const home = decide('care_home_staff', { sourceOrganisations: sources }, [resident(), refusal]);
    expect(home.withheldSources).toEqual([]);
    expect([withheld(home, carePackage), withheld(home, fallsAlert)]).toEqual(['shown', 'shown']);
  });

  test('GP data refused to care providers: the GP\'s medicines are withheld from care home staff, shown to the hospital', () => {
    const refusal = sharingConsent({ ...consentBase, id: 'no-care-provider', recipient: 'care-provider', decision: 'refused', dataSources: [GP_SOURCE] });
    const home = decide('care_home_staff', { sourceOrganisations: sources }, [resident(), refusal]);
    expect(home.withheldSources).toEqual([GP_SOURCE]);
    expect([withheld(home, gpMedicine), withheld(home, notForPatientView), withheld(home, carePackage), withheld(home, gpPatient)]).toEqual(['source', 'source', 'shown', 'shown']);
    const hospital = decide('hospital_clinician', { sourceOrganisations: sources }, [resident(), stay(), refusal]);
    expect(withheld(hospital, gpMedicine)).toBe('shown');
  });

  test('a refusal of all sharing with care providers: care home staff get no passport', () => {
    const refusal = sharingConsent({ ...consentBase, id: 'no-sharing', recipient: 'care-provider', decision: 'refused' });
    const home = decide('care_home_staff', {}, [resident(), refusal]);
    expect([home.effect, mayOpenPassport(home), passportEntryWithheld(home, resident())]).toEqual(['deny', false, 'denied']);
  });

  test('alerts: very restricted content shown raises one per entry; none for ordinary content; an override of an objection under break-glass raises its own', () => {
    const gp = decide('gp');
    expect(passportAlerts(gp, [gpPatient, dementia, fallsAlert])).toEqual([]);
    expect(passportAlerts(gp, [dementia, safeguardingAlert, veryRestricted]).map((a) => [a.kind, a.reason])).toEqual([
      ['very-restricted', 'very restricted Flag shown in a red bag passport'],
      ['very-restricted', 'very restricted Condition shown in a red bag passport'],
    ]);
    const glass: AccessGrant = { kind: 'break-glass', userId: 'user-1', reason: 'unconscious on arrival', grantedAt: hours(now, -1), expiresAt: hours(now, 3) };
    const overriding = decide('hospital_clinician', { sourceOrganisations: sources, grants: [glass] }, [resident(), objection]);
    expect(passportAlerts(overriding, [dementia]).map((a) => a.kind)).toEqual(expect.arrayContaining(['break-glass', 'refusal-override']));
  });
});
