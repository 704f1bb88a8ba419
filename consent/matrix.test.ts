import type { Coding, Organization, Resource } from '@medplum/fhirtypes';
import { securityLabels, type Sensitivity } from '../mappings/security/labels';
import { objectionConsent, sharingConsent } from './consent-builders';
import { decideAccess, decideResource } from './decide';
import type { AccessGrant, AccessInput, PermissionToViewRecord, RecipientClass } from './types';
import { careHomeResidence, COUNCIL_SOURCE, days, GP_SOURCE, hours, HOSPITAL_SOURCE, identified, ORG, patient, q, requester } from './testing/scenario';

/*
 * The access matrix the issue asks for: every role × data category × relationship × consent state
 * × label, with the expected decision. The expectation below is a restatement of
 * specs/access-and-consent.md (and of the baseline grants chosen in consent/README.md) written
 * independently of consent/data/*.json, so a change to the data or the code that departs from the
 * model fails here.
 */

// ── The model, as tables ─────────────────────────────────────────────────────────────────────────

const ALL = ['demographics', 'care_team', 'alerts', 'problems', 'allergies', 'medications', 'encounters', 'plans', 'social_care', 'documents', 'observations', 'equipment', 'passport', 'needs', 'privacy', 'directory'] as const;
type Category = (typeof ALL)[number];
const SOCIAL: Category[] = ['demographics', 'care_team', 'alerts', 'social_care', 'plans', 'encounters', 'problems', 'allergies', 'medications', 'needs', 'privacy', 'directory'];

/** "sees (with a legitimate relationship)", spec Roles table. */
const SEES: Record<string, readonly Category[]> = {
  gp: ALL,
  hospital_clinician: ALL,
  community_nurse: ALL,
  mental_health: ALL,
  social_worker: SOCIAL,
  care_coordinator: SOCIAL,
  therapist: ['demographics', 'care_team', 'alerts', 'plans', 'encounters', 'problems', 'allergies', 'equipment', 'directory'],
  pharmacist: ['demographics', 'allergies', 'medications', 'problems', 'directory'],
  urgent_care: ['demographics', 'alerts', 'allergies', 'medications', 'problems', 'plans', 'encounters', 'directory'],
  care_home_staff: ['passport', 'plans', 'allergies', 'medications', 'demographics', 'directory'],
  voluntary_sector: ['demographics', 'care_team', 'needs', 'directory'],
  admin: ['demographics', 'care_team', 'directory'],
  privacy_officer: ['demographics', 'privacy', 'directory'],
};

/** A sample resource may sit in more than one category: a Goal (non-clinical needs) is part of plans too. */
const ALSO_IN: Partial<Record<Category, readonly Category[]>> = { needs: ['plans'] };

type Level = 'N' | 'R' | 'V';
interface RoleRules {
  clearance: Level;
  granted: Sensitivity[];
  /** Record relationships that count: 'any', or only these; 'none-needed' for the governance role. */
  counts: 'any' | 'none-needed' | string[];
  selfClaim: boolean;
  breakGlass: boolean;
  permissionToView: boolean;
  recipient: RecipientClass;
}

// role                      clearance  granted sensitivities                                                          counts                    self  btg    ptv    recipient
const ROLES: Record<string, RoleRules> = {
  gp: { clearance: 'V', granted: ['hiv', 'substance-misuse', 'safeguarding', 'domestic-abuse', 'gender-identity', 'key-safe'], counts: 'any', selfClaim: true, breakGlass: true, permissionToView: true, recipient: 'health' },
  hospital_clinician: { clearance: 'V', granted: ['hiv', 'substance-misuse', 'safeguarding', 'domestic-abuse'], counts: 'any', selfClaim: true, breakGlass: true, permissionToView: true, recipient: 'health' },
  community_nurse: { clearance: 'V', granted: ['substance-misuse', 'safeguarding', 'domestic-abuse', 'key-safe'], counts: 'any', selfClaim: true, breakGlass: true, permissionToView: true, recipient: 'health' },
  mental_health: { clearance: 'V', granted: ['mental-health', 'substance-misuse', 'safeguarding', 'domestic-abuse'], counts: 'any', selfClaim: true, breakGlass: true, permissionToView: true, recipient: 'health' },
  social_worker: { clearance: 'V', granted: ['safeguarding', 'domestic-abuse', 'key-safe'], counts: 'any', selfClaim: true, breakGlass: true, permissionToView: true, recipient: 'social-care' },
  care_coordinator: { clearance: 'V', granted: ['safeguarding', 'domestic-abuse', 'key-safe'], counts: ['care-team'], selfClaim: false, breakGlass: false, permissionToView: true, recipient: 'social-care' },
  therapist: { clearance: 'R', granted: [], counts: 'any', selfClaim: true, breakGlass: true, permissionToView: true, recipient: 'health' },
  pharmacist: { clearance: 'R', granted: ['hiv'], counts: 'any', selfClaim: true, breakGlass: true, permissionToView: true, recipient: 'health' },
  urgent_care: { clearance: 'V', granted: ['safeguarding', 'domestic-abuse', 'key-safe'], counts: 'any', selfClaim: true, breakGlass: true, permissionToView: true, recipient: 'health' },
  care_home_staff: { clearance: 'R', granted: [], counts: ['care-home-residence'], selfClaim: false, breakGlass: false, permissionToView: true, recipient: 'care-provider' },
  voluntary_sector: { clearance: 'N', granted: [], counts: 'any', selfClaim: false, breakGlass: false, permissionToView: true, recipient: 'voluntary-sector' },
  admin: { clearance: 'N', granted: [], counts: 'any', selfClaim: false, breakGlass: false, permissionToView: false, recipient: 'administration' },
  privacy_officer: { clearance: 'N', granted: [], counts: 'none-needed', selfClaim: false, breakGlass: false, permissionToView: false, recipient: 'governance' },
};

/** Recipient classes a person can refuse or must consent to (the baseline's consentRequiredFor). */
const REFUSABLE: RecipientClass[] = ['health', 'social-care', 'care-provider', 'voluntary-sector', 'carer'];
const CONSENT_ONLY: RecipientClass[] = ['voluntary-sector', 'carer'];

const RELATIONSHIPS = ['none', 'registered-gp', 'care-team', 'encounter-open', 'encounter-recent', 'episode', 'care-home', 'referral', 'self-claimed', 'break-glass', 'expired-self-claim', 'expired-break-glass'] as const;
type RelationshipCase = (typeof RELATIONSHIPS)[number];
const RECORD_KIND: Partial<Record<RelationshipCase, string>> = {
  'registered-gp': 'registered-gp',
  'care-team': 'care-team',
  'encounter-open': 'encounter',
  'encounter-recent': 'encounter',
  episode: 'episode-of-care',
  'care-home': 'care-home-residence',
  referral: 'open-referral',
};

const CONSENTS = ['none', 'objection', 'refused-for-recipient', 'permission-refused', 'voluntary-consent'] as const;
type ConsentCase = (typeof CONSENTS)[number];

const SENSITIVITY_LEVEL: Record<Sensitivity, Level> = {
  'mental-health': 'R', 'sexual-health': 'R', 'substance-misuse': 'R', hiv: 'R', 'gender-identity': 'R',
  safeguarding: 'V', 'domestic-abuse': 'V', 'key-safe': 'V',
};
const LABELS = ['none', 'R', 'V', ...(Object.keys(SENSITIVITY_LEVEL) as Sensitivity[])] as const;
type LabelCase = (typeof LABELS)[number];
const RANK: Record<Level, number> = { N: 0, R: 1, V: 2 };

interface Expected {
  access: 'permit' | 'deny';
  shown: boolean;
  alerts: string[];
}

function expected(role: string, rel: RelationshipCase, consent: ConsentCase, category: Category, label: LabelCase): Expected {
  const r = ROLES[role]!;
  const deny: Expected = { access: 'deny', shown: false, alerts: [] };
  const kind = RECORD_KIND[rel];
  const breakGlass = rel === 'break-glass' && r.breakGlass;
  const fromRecord = kind !== undefined && (r.counts === 'any' || (Array.isArray(r.counts) && r.counts.includes(kind)));
  const selfClaimed = rel === 'self-claimed' && r.selfClaim;
  if (!(r.counts === 'none-needed' || fromRecord || selfClaimed || breakGlass)) return deny;

  const governance = r.recipient === 'governance';
  const refusals = [
    consent === 'objection' && !governance,
    consent === 'refused-for-recipient' && REFUSABLE.includes(r.recipient),
    CONSENT_ONLY.includes(r.recipient) && consent !== 'voluntary-consent',
    consent === 'permission-refused' && r.permissionToView,
  ].some(Boolean);
  if (refusals && !breakGlass) return deny;

  const level: Level = label === 'none' ? 'N' : label === 'R' || label === 'V' ? label : SENSITIVITY_LEVEL[label];
  const sensitivityOk = label === 'none' || label === 'R' || label === 'V' || r.granted.includes(label);
  const inSight = [category, ...(ALSO_IN[category] ?? [])].some((c) => SEES[role]!.includes(c));
  const shown = inSight && RANK[level] <= RANK[r.clearance] && sensitivityOk;
  const alerts = [
    ...(selfClaimed ? ['self-claim'] : []),
    ...(breakGlass ? ['break-glass'] : []),
    ...(breakGlass && refusals ? ['refusal-override'] : []),
    ...(shown && level === 'V' ? ['very-restricted'] : []),
  ];
  return { access: 'permit', shown, alerts };
}

// ── The scenarios, as FHIR ───────────────────────────────────────────────────────────────────────

const now = new Date('2026-11-23T12:00:00Z');
const PASSPORT_TYPE = { coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/document-type', code: 'transfer-passport' }] };
const oldEncounter: Resource = { resourceType: 'Encounter', id: 'enc-old', meta: { source: HOSPITAL_SOURCE }, status: 'finished', class: { code: 'AMB' }, period: { start: '2025-01-01T10:00:00Z', end: '2025-01-01T11:00:00Z' } };

/** One resource of each category, in the shapes the mappings write. */
const SAMPLES: Record<Category, Resource> = {
  demographics: patient(),
  care_team: { resourceType: 'CareTeam', id: 'ct-sample', status: 'active', name: 'Sample team' },
  alerts: { resourceType: 'Flag', id: 'flag', status: 'active', code: { text: 'lone working risk' }, subject: { reference: 'Patient/pat-gp' } },
  problems: { resourceType: 'Condition', id: 'cond', subject: { reference: 'Patient/pat-gp' }, code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006' }] }, note: [{ text: 'synthetic note' }] },
  allergies: { resourceType: 'AllergyIntolerance', id: 'allergy', patient: { reference: 'Patient/pat-gp' } },
  medications: { resourceType: 'MedicationStatement', id: 'med', status: 'active', subject: { reference: 'Patient/pat-gp' }, medicationCodeableConcept: { text: 'synthetic medicine' } },
  encounters: oldEncounter,
  plans: { resourceType: 'CarePlan', id: 'plan', status: 'active', intent: 'plan', subject: { reference: 'Patient/pat-gp' } },
  social_care: { resourceType: 'RiskAssessment', id: 'risk', status: 'final', subject: { reference: 'Patient/pat-gp' } },
  documents: { resourceType: 'DocumentReference', id: 'doc', status: 'current', type: { coding: [{ system: 'http://loinc.org', code: '18842-5' }] }, content: [{ attachment: { contentType: 'text/plain' } }] },
  observations: { resourceType: 'Observation', id: 'obs', status: 'final', code: { text: 'NEWS2' } },
  equipment: { resourceType: 'Device', id: 'device' },
  passport: { resourceType: 'Composition', id: 'passport', status: 'final', type: PASSPORT_TYPE, date: '2026-11-20', author: [{ display: 'CareBridge' }], title: 'Transfer passport' },
  needs: { resourceType: 'Goal', id: 'goal', lifecycleStatus: 'active', description: { text: 'to get out to the shops' }, subject: { reference: 'Patient/pat-gp' } },
  privacy: { resourceType: 'Consent', id: 'consent-sample', status: 'inactive', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] }, category: [{ text: 'sample' }] },
  directory: { resourceType: 'Organization', id: 'org', name: 'Synthetic practice' },
};

function labelled(resource: Resource, label: LabelCase): Resource {
  const security: Coding[] = label === 'none' ? [] : label === 'R' || label === 'V' ? securityLabels([], label) : securityLabels([label]);
  return { ...resource, meta: { ...resource.meta, source: GP_SOURCE, ...(security.length ? { security } : {}) } };
}

function scenario(role: string, rel: RelationshipCase, consent: ConsentCase): AccessInput {
  const who = requester(role);
  const org = role === 'care_home_staff' ? ORG.careHome : ORG.requester;
  const mine = identified<Organization>('Organization', org);
  const record: Resource[] = [oldEncounter];
  let grants: AccessGrant[] = [];
  const grant = (kind: AccessGrant['kind'], ago: number, expiresIn: number): AccessGrant => ({ kind, userId: who.userId, reason: 'direct care: patient presented', grantedAt: hours(now, -ago), expiresAt: hours(now, expiresIn) });
  switch (rel) {
    case 'none':
      record.push(patient());
      break;
    case 'registered-gp':
      record.push(patient({ generalPractitioner: [mine] }));
      break;
    case 'care-team':
      record.push(patient(), { resourceType: 'CareTeam', id: 'ct', status: 'active', participant: [{ member: identified('CareTeam', { system: who.teams![0]!.split('|')[0]!, value: who.teams![0]!.split('|')[1]! }) }] });
      break;
    case 'encounter-open':
      record.push(patient(), { resourceType: 'Encounter', id: 'enc-open', status: 'in-progress', class: { code: 'IMP' }, serviceProvider: mine, period: { start: days(now, -2) } });
      break;
    case 'encounter-recent':
      record.push(patient(), { resourceType: 'Encounter', id: 'enc-recent', status: 'finished', class: { code: 'IMP' }, serviceProvider: mine, period: { start: days(now, -12), end: days(now, -10) } });
      break;
    case 'episode':
      record.push(patient(), { resourceType: 'EpisodeOfCare', id: 'eoc', status: 'active', patient: { reference: 'Patient/pat-gp' }, managingOrganization: mine });
      break;
    case 'care-home':
      record.push(patient(careHomeResidence(org)));
      break;
    case 'referral':
      record.push(patient(), { resourceType: 'ServiceRequest', id: 'ref', status: 'active', intent: 'order', subject: { reference: 'Patient/pat-gp' }, performer: [mine] });
      break;
    case 'self-claimed':
      record.push(patient());
      grants = [grant('self-claimed', 2, 22)];
      break;
    case 'break-glass':
      record.push(patient());
      grants = [grant('break-glass', 1, 3)];
      break;
    case 'expired-self-claim':
      record.push(patient());
      grants = [grant('self-claimed', 25, -1)];
      break;
    case 'expired-break-glass':
      // Recorded with a 24-hour expiry: the model's 4 hours still applies.
      record.push(patient());
      grants = [grant('break-glass', 5, 19)];
      break;
  }
  const recipient = ROLES[role]!.recipient;
  const base = { patient: { reference: 'Patient/pat-gp' }, dateTime: days(now, -100), decisionMaker: 'person' as const };
  switch (consent) {
    case 'objection':
      record.push(objectionConsent({ ...base, id: 'objection' }));
      break;
    case 'refused-for-recipient':
      if (REFUSABLE.includes(recipient)) record.push(sharingConsent({ ...base, id: 'refusal', recipient, decision: 'refused' }));
      else record.push(sharingConsent({ ...base, id: 'refusal', recipient: 'health', decision: 'refused' }));
      break;
    case 'voluntary-consent':
      record.push(sharingConsent({ ...base, id: 'vol', recipient: 'voluntary-sector', decision: 'given' }), sharingConsent({ ...base, id: 'carer', recipient: 'carer', decision: 'given' }));
      break;
    case 'none':
    case 'permission-refused':
      break;
  }
  const ptv: PermissionToViewRecord = { userId: who.userId, outcome: consent === 'permission-refused' ? 'refused' : 'given', recordedAt: hours(now, -1) };
  return {
    requester: who,
    record,
    grants,
    permissionToView: [ptv],
    // The requester's organisation holds none of the person's data in these scenarios.
    sourceOrganisations: { [GP_SOURCE]: q(ORG.otherPractice), [COUNCIL_SOURCE]: q(ORG.council), [HOSPITAL_SOURCE]: 'https://fhir.nhs.uk/Id/ods-organization-code|ZZH01' },
  };
}

// ── The matrix ───────────────────────────────────────────────────────────────────────────────────

describe('access matrix: role × category × relationship × consent × label', () => {
  const totals = { permit: 0, deny: 0, shown: 0, withheld: 0 };

  it.each(Object.keys(ROLES))('every decision for %s is the model\'s', (role) => {
    const mismatches: string[] = [];
    const seen = new Set<string>();
    for (const rel of RELATIONSHIPS) {
      for (const consent of CONSENTS) {
        const decision = decideAccess(scenario(role, rel, consent), now);
        for (const category of ALL) {
          for (const label of LABELS) {
            const want = expected(role, rel, consent, category, label);
            const result = decideResource(decision, labelled(SAMPLES[category], label));
            const shown = 'resource' in result;
            const alerts = [...decision.alerts.map((a) => a.kind), ...('resource' in result ? result.alerts.map((a) => a.kind) : [])];
            const got: Expected = { access: decision.effect, shown, alerts };
            totals[got.access]++;
            totals[shown ? 'shown' : 'withheld']++;
            if (JSON.stringify(got) !== JSON.stringify(want) && !seen.has(`${category}|${rel}|${consent}`)) {
              seen.add(`${category}|${rel}|${consent}`);
              mismatches.push(`${role} × ${category} × ${rel} × ${consent} × ${label}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)} (${decision.reasons.join(' / ')})`);
            }
          }
        }
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it('covers both outcomes in bulk (the matrix is not vacuous)', () => {
    // Runs after the role cases: every role's cases were counted.
    const cases = Object.keys(ROLES).length * RELATIONSHIPS.length * CONSENTS.length * ALL.length * LABELS.length;
    expect(totals.permit + totals.deny).toBe(cases);
    expect(totals.shown).toBeGreaterThan(cases / 20);
    expect(totals.deny).toBeGreaterThan(cases / 4);
  });
});
