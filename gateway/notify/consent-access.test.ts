import type { CareTeam, Consent, Encounter, Patient, Resource } from '@medplum/fhirtypes';
import { objectionConsent, sharingConsent } from '../../consent/consent-builders';
import { COUNCIL_SOURCE, GP_SOURCE, HOSPITAL_SOURCE } from '../../consent/testing/scenario';
import { CARE_HOME_RESIDENCE_EXTENSION, CQC_LOCATION_SYSTEM, ODS_ORGANIZATION_SYSTEM, ONS_LOCAL_AUTHORITY_SYSTEM, qualifiedId, sourceTeamSystem, sourceWorkerSystem } from '../../mappings/identifiers';
import { RecipientRole, resolveRecipients } from '../../mappings/notify/recipients';
import { readLabels, securityLabels, Sensitivity, type Confidentiality } from '../../mappings/security/labels';
import { parseDirectory } from '../auth/directory';
import { relationshipAndNoRestrictedLabel, WithheldBy, type NotificationVerdict, type NotifyEventView } from './access';
import { consentNotificationAccess, notifiedRequester } from './consent-access';

/**
 * The production notification check (consent-access.ts) as a table: each kind of recipient the
 * record names × the person's decisions × the label on the event → told, or withheld and why.
 * The decisions are the real consent/ decideAccess over a synthetic record and directory; the
 * expected outcomes are restated here from specs/access-and-consent.md and consent/README.md (the
 * role table's baseline), not read from the JSON.
 */

const now = new Date('2026-11-23T12:00:00Z');
const at = (days: number): string => new Date(now.getTime() + days * 86_400_000).toISOString();

const PRACTICE = qualifiedId(ODS_ORGANIZATION_SYSTEM, 'ZZG01');
const HOSPITAL = qualifiedId(ODS_ORGANIZATION_SYSTEM, 'ZZH01');
const MENTAL_HEALTH_TRUST = qualifiedId(ODS_ORGANIZATION_SYSTEM, 'ZZM01');
const COUNCIL = qualifiedId(ONS_LOCAL_AUTHORITY_SYSTEM, 'E09999999');
const SOCIAL_WORK_TEAM = qualifiedId(sourceTeamSystem(COUNCIL_SOURCE), 'T-SW');
const OT_TEAM = qualifiedId(sourceTeamSystem(COUNCIL_SOURCE), 'T-OT');
const COORDINATOR = qualifiedId(sourceWorkerSystem(COUNCIL_SOURCE), 'W1');
const CARE_HOME = qualifiedId(CQC_LOCATION_SYSTEM, '1-000000001');
const VOLUNTARY_ORG = 'https://carebridge.nhs.uk/Id/charity-number|9000001';
const LINK_TEAM = 'https://vcs.example.invalid/team|LINK';
const OTHER_PRACTICE = qualifiedId(ODS_ORGANIZATION_SYSTEM, 'ZZG99');

const directoryJson = {
  organisations: [
    { id: PRACTICE, name: 'Test practice', kind: 'gp-practice' },
    { id: HOSPITAL, name: 'Test hospital', kind: 'acute-trust' },
    { id: MENTAL_HEALTH_TRUST, name: 'Test mental health trust', kind: 'mental-health-trust' },
    { id: COUNCIL, name: 'Test council', kind: 'council', teams: [{ id: SOCIAL_WORK_TEAM, name: 'Social work' }, { id: OT_TEAM, name: 'Occupational therapy' }] },
    { id: CARE_HOME, name: 'Test care home', kind: 'care-home' },
    { id: VOLUNTARY_ORG, name: 'Test link service', kind: 'voluntary', teams: [{ id: LINK_TEAM, name: 'Link workers' }] },
  ],
  roleMappings: [
    { claim: 'group', code: 'OT', role: 'therapist', teams: [OT_TEAM], organisations: [COUNCIL] },
    { claim: 'group', code: 'SW', role: 'social_worker', teams: [SOCIAL_WORK_TEAM], organisations: [COUNCIL] },
  ],
  systems: [
    { name: 'council-extract', sourceUri: COUNCIL_SOURCE, organisation: COUNCIL, intake: ['social-care-extract'] },
    { name: 'hospital-pas', sourceUri: HOSPITAL_SOURCE, organisation: HOSPITAL, intake: ['hl7v2'], hl7Senders: ['ZZH01|PAS'] },
    { name: 'gp-system', sourceUri: GP_SOURCE, organisation: PRACTICE, intake: ['gp-connect'] },
  ],
};
const directory = parseDirectory(directoryJson, 'test-directory.json');

const ref = (type: string, id: string): { reference: string; identifier: { system: string; value: string } } => {
  const [system, value] = id.split('|') as [string, string];
  return { reference: `${type}/${value}`, identifier: { system, value } };
};

/** The person: registered with PRACTICE, living in CARE_HOME, on the council's care team with a co-ordinator, an OT, a mental health trust and a link worker. */
function patient(fields: Partial<Patient> = {}): Patient {
  return {
    resourceType: 'Patient',
    id: 'pat-1',
    meta: { source: GP_SOURCE },
    generalPractitioner: [ref('Organization', PRACTICE)],
    extension: [{ url: CARE_HOME_RESIDENCE_EXTENSION, valueReference: ref('Organization', CARE_HOME) }],
    ...fields,
  };
}
const careTeam: CareTeam = {
  resourceType: 'CareTeam',
  id: 'ct-1',
  meta: { source: COUNCIL_SOURCE },
  status: 'active',
  subject: { reference: 'Patient/pat-1' },
  participant: [
    { role: [{ coding: [{ code: 'CARE_COORDINATOR' }] }], member: ref('Practitioner', COORDINATOR), onBehalfOf: ref('Organization', SOCIAL_WORK_TEAM) },
    { member: ref('Organization', OT_TEAM) },
    { member: ref('Organization', MENTAL_HEALTH_TRUST) },
    { member: ref('Organization', LINK_TEAM) },
  ],
};
function stay(security: Encounter['meta'] = {}): Encounter {
  return {
    resourceType: 'Encounter',
    id: 'enc-1',
    meta: { source: HOSPITAL_SOURCE, ...security },
    status: 'in-progress',
    class: { code: 'IMP' },
    subject: { reference: 'Patient/pat-1' },
    serviceProvider: ref('Organization', HOSPITAL),
    period: { start: at(-1) },
  };
}

/** The event as the dispatcher builds it: recipients from the record, the event's resources, the person's record and Consents. */
function view(consents: readonly Consent[], encounter: Encounter = stay(), subject: Patient = patient()): NotifyEventView {
  const recipients = resolveRecipients({ patients: [subject], careTeams: [careTeam], episodesOfCare: [], lookup: () => undefined, at: now.toISOString() });
  const resources: Resource[] = [encounter, subject];
  return {
    outboxId: '1',
    kind: 'admission',
    topic: 'admission',
    patientId: 'pat-1',
    encounterId: 'enc-1',
    recipients,
    resources,
    restricted: resources.some((r) => readLabels(r.meta).confidentiality !== 'N'),
    record: [subject, careTeam, encounter, ...consents],
    sourceOrganisations: {},
  };
}

const check = consentNotificationAccess({ directory, now: () => now });
const outcome = (v: NotificationVerdict): string => (v.told ? 'told' : v.reason);

// The model, restated (specs/access-and-consent.md roles; consent/README.md baseline choices).
type Party = 'practice' | 'social work team' | 'co-ordinator' | 'OT team' | 'mental health trust' | 'care home' | 'link workers';
interface PartyModel {
  readonly id: string;
  readonly role: string;
  readonly recipientClass: string;
  readonly clearance: Confidentiality;
  readonly granted: readonly Sensitivity[];
  /** Sees encounters or the passport, so may be told where a stay stands. */
  readonly seesStays: boolean;
  /** Its organisation holds some of the person's data (an objection keeps only that). */
  readonly holdsData: boolean;
}
const S = Sensitivity;
const MODEL: Readonly<Record<Party, PartyModel>> = {
  practice: { id: PRACTICE, role: 'gp', recipientClass: 'health', clearance: 'V', granted: [S.HIV, S.SUBSTANCE_MISUSE, S.SAFEGUARDING, S.DOMESTIC_ABUSE, S.GENDER_IDENTITY, S.KEY_SAFE], seesStays: true, holdsData: true },
  'social work team': { id: SOCIAL_WORK_TEAM, role: 'social_worker', recipientClass: 'social-care', clearance: 'V', granted: [S.SAFEGUARDING, S.DOMESTIC_ABUSE, S.KEY_SAFE], seesStays: true, holdsData: true },
  'co-ordinator': { id: COORDINATOR, role: 'care_coordinator', recipientClass: 'social-care', clearance: 'V', granted: [S.SAFEGUARDING, S.DOMESTIC_ABUSE, S.KEY_SAFE], seesStays: true, holdsData: true },
  'OT team': { id: OT_TEAM, role: 'therapist', recipientClass: 'health', clearance: 'R', granted: [], seesStays: true, holdsData: true },
  'mental health trust': { id: MENTAL_HEALTH_TRUST, role: 'mental_health', recipientClass: 'health', clearance: 'V', granted: [S.MENTAL_HEALTH, S.SUBSTANCE_MISUSE, S.SAFEGUARDING, S.DOMESTIC_ABUSE], seesStays: true, holdsData: false },
  'care home': { id: CARE_HOME, role: 'care_home_staff', recipientClass: 'care-provider', clearance: 'R', granted: [], seesStays: true, holdsData: false },
  'link workers': { id: LINK_TEAM, role: 'voluntary_sector', recipientClass: 'voluntary-sector', clearance: 'N', granted: [], seesStays: false, holdsData: false },
};
const PARTIES = Object.keys(MODEL) as Party[];

const decided = { patient: { reference: 'Patient/pat-1' }, dateTime: at(-10), decisionMaker: 'person' as const };
const CONSENT_STATES: Readonly<Record<string, readonly Consent[]>> = {
  'no decision': [],
  objection: [objectionConsent({ ...decided, id: 'obj' })],
  'refused social-care': [sharingConsent({ ...decided, id: 'r-sc', recipient: 'social-care', decision: 'refused' })],
  'refused health': [sharingConsent({ ...decided, id: 'r-h', recipient: 'health', decision: 'refused' })],
  'refused care-provider': [sharingConsent({ ...decided, id: 'r-cp', recipient: 'care-provider', decision: 'refused' })],
  'voluntary-sector consent': [sharingConsent({ ...decided, id: 'g-vs', recipient: 'voluntary-sector', decision: 'given' })],
};

const LABELS: Readonly<Record<string, { sensitivities: Sensitivity[]; confidentiality: Confidentiality }>> = {
  none: { sensitivities: [], confidentiality: 'N' },
  restricted: { sensitivities: [], confidentiality: 'R' },
  'very restricted': { sensitivities: [], confidentiality: 'V' },
  'mental health': { sensitivities: [S.MENTAL_HEALTH], confidentiality: 'N' },
  safeguarding: { sensitivities: [S.SAFEGUARDING], confidentiality: 'N' },
};
const LEVEL: Readonly<Record<Confidentiality, number>> = { N: 0, R: 1, V: 2 };

function cleared(party: PartyModel, label: { sensitivities: Sensitivity[]; confidentiality: Confidentiality }): boolean {
  // A sensitivity raises the confidentiality to its minimum (mappings/security/labels.ts): judge the label as written.
  const written = readLabels({ security: securityLabels(label.sensitivities, label.confidentiality) });
  return LEVEL[written.confidentiality] <= LEVEL[party.clearance] && written.sensitivities.every((s) => party.granted.includes(s));
}

function expected(party: PartyModel, consent: string, label: { sensitivities: Sensitivity[]; confidentiality: Confidentiality }): string {
  if (consent === 'objection' && !party.holdsData) return WithheldBy.DENIED;
  if (consent === `refused ${party.recipientClass}`) return WithheldBy.DENIED;
  if (party.recipientClass === 'voluntary-sector' && consent !== 'voluntary-sector consent') return WithheldBy.DENIED;
  if (!party.seesStays) return WithheldBy.CATEGORY;
  if (!cleared(party, label)) return WithheldBy.LABEL;
  // An objection keeps the record within the organisation holding the data: the hospital's stay is not the recipient's.
  if (consent === 'objection') return WithheldBy.SOURCE;
  return 'told';
}

describe('who is told of an admission: recipient × the person\'s decisions × label (consent-access.ts)', () => {
  test('the record names every party of the table, each as the role the directory gives it', () => {
    const v = view([]);
    expect(v.recipients.map((r) => r.id).sort()).toEqual(PARTIES.map((p) => MODEL[p].id).sort());
    for (const party of PARTIES) {
      const recipient = v.recipients.find((r) => r.id === MODEL[party].id);
      expect([party, recipient && notifiedRequester(directory, recipient)?.role]).toEqual([party, MODEL[party].role]);
    }
    expect(v.recipients.find((r) => r.id === COORDINATOR)?.roles).toEqual([RecipientRole.COORDINATOR]);
  });

  const cases = PARTIES.flatMap((party) => Object.keys(CONSENT_STATES).flatMap((consent) => Object.keys(LABELS).map((label) => [party, consent, label] as const)));
  test.each(cases)('%s, %s, label %s', (party, consent, label) => {
    const labelCase = LABELS[label] as (typeof LABELS)[string];
    const encounter = stay({ security: securityLabels(labelCase.sensitivities, labelCase.confidentiality) });
    const verdict = check(view(CONSENT_STATES[consent] ?? [], encounter), MODEL[party].id);
    expect(outcome(verdict)).toBe(expected(MODEL[party], consent, labelCase));
  });

  test('the table tells some and withholds some for every reason it names', () => {
    const seen = new Set(cases.map(([party, consent, label]) => expected(MODEL[party], consent, LABELS[label] as (typeof LABELS)[string])));
    expect([...seen].sort()).toEqual(['category', 'denied', 'label', 'source', 'told']);
  });
});

describe('the production notification check: named cases', () => {
  test('a label on the Patient the event names counts as one on the Encounter', () => {
    const subject = patient({ meta: { source: GP_SOURCE, security: securityLabels([S.MENTAL_HEALTH]) } });
    const v = view([], stay(), subject);
    expect(PARTIES.map((p) => [p, outcome(check(v, MODEL[p].id))])).toEqual([
      ['practice', 'label'],
      ['social work team', 'label'],
      ['co-ordinator', 'label'],
      ['OT team', 'label'],
      ['mental health trust', 'told'],
      ['care home', 'label'],
      ['link workers', 'denied'],
    ]);
  });

  test('a denial records the decision\'s reason, which names the decision and no one\'s data', () => {
    const verdict = check(view(CONSENT_STATES['refused social-care'] ?? []), SOCIAL_WORK_TEAM);
    expect(verdict).toEqual({ told: false, reason: 'denied', detail: 'denied: the person refused sharing with social-care (decided by the person (Consent/r-sc, 2026-11-13T12:00:00.000Z))' });
  });

  test('a later decision lifts an earlier refusal: the social work team is told again', () => {
    const lifted = [...(CONSENT_STATES['refused social-care'] ?? []), sharingConsent({ ...decided, id: 'g-sc', dateTime: at(-2), recipient: 'social-care', decision: 'given' })];
    expect(outcome(check(view(lifted), SOCIAL_WORK_TEAM))).toBe('told');
  });

  test('a party the record does not name is told nothing, even one the directory knows', () => {
    expect(check(view([]), HOSPITAL)).toEqual({ told: false, reason: 'no-relationship' });
  });

  test('a party the record names but the directory does not know is told nothing', () => {
    const subject = patient({ generalPractitioner: [ref('Organization', OTHER_PRACTICE)] });
    const v = view([], stay(), subject);
    expect(v.recipients.map((r) => r.id)).toContain(OTHER_PRACTICE);
    expect(check(v, OTHER_PRACTICE)).toEqual({ told: false, reason: 'unknown-recipient' });
  });

  test('a team the directory gives two roles is unknown rather than guessed', () => {
    const ambiguous = parseDirectory({ ...directoryJson, roleMappings: [...directoryJson.roleMappings, { claim: 'group', code: 'OT-ADMIN', role: 'admin', teams: [OT_TEAM] }] }, 'ambiguous.json');
    expect(check(view([]), OT_TEAM)).toEqual({ told: true });
    expect(consentNotificationAccess({ directory: ambiguous, now: () => now })(view([]), OT_TEAM)).toEqual({ told: false, reason: 'unknown-recipient' });
  });

  test('a co-ordinator of a source system the directory does not list is unknown', () => {
    const noSystems = parseDirectory({ ...directoryJson, systems: [] }, 'no-systems.json');
    expect(consentNotificationAccess({ directory: noSystems, now: () => now })(view([]), COORDINATOR)).toEqual({ told: false, reason: 'unknown-recipient' });
  });

  test('an objection: the directory\'s word on who holds a source wins over a registration in the store (a registration cannot hand the hospital\'s feed to the practice)', () => {
    const v = { ...view(CONSENT_STATES['objection'] ?? []), sourceOrganisations: { [HOSPITAL_SOURCE]: PRACTICE } };
    expect(outcome(check(v, PRACTICE))).toBe('source');
    expect(outcome(check(v, SOCIAL_WORK_TEAM))).toBe('source');
  });

  test('the default check tells the parties the record names about unrestricted events only', () => {
    expect(relationshipAndNoRestrictedLabel(view([]), SOCIAL_WORK_TEAM)).toEqual({ told: true });
    expect(relationshipAndNoRestrictedLabel(view(CONSENT_STATES['refused social-care'] ?? []), SOCIAL_WORK_TEAM)).toEqual({ told: true });
    expect(relationshipAndNoRestrictedLabel(view([], stay({ security: securityLabels([], 'R') })), PRACTICE)).toEqual({ told: false, reason: 'restricted' });
    expect(relationshipAndNoRestrictedLabel(view([]), HOSPITAL)).toEqual({ told: false, reason: 'no-relationship' });
  });
});
