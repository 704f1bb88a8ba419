import type { Encounter, Organization, Resource } from '@medplum/fhirtypes';
import { objectionConsent, sharingConsent } from './consent-builders';
import { decideAccess } from './decide';
import { notificationWithheld } from './notification';
import type { AccessInput, RelationshipFinding } from './types';
import { careHomeResidence, COUNCIL_SOURCE, days, GP_SOURCE, HOSPITAL_SOURCE, identified, ORG, patient, q, requester } from './testing/scenario';

/**
 * Who may be told of an event (consent/notification.ts) and the relationships a caller
 * establishes from the record (AccessInput.establishedRelationships): counted like the record's
 * own, filtered by the role's relationship kinds, never a grant.
 */

const now = new Date('2026-11-23T12:00:00Z');
const subject = { reference: 'Patient/pat-gp' };
const stay: Encounter = {
  resourceType: 'Encounter', id: 'stay', meta: { source: HOSPITAL_SOURCE }, status: 'in-progress', class: { code: 'IMP' }, subject,
  serviceProvider: identified<Organization>('Organization', { system: ORG.requester.system, value: 'ZZH01' }), period: { start: days(now, -1) },
};
const registeredGp: RelationshipFinding = { kind: 'registered-gp', reason: 'the record names the recipient as the registered GP practice' };
const decided = { patient: subject, dateTime: days(now, -10), decisionMaker: 'person' as const };

const decide = (role: string, extra: Partial<AccessInput> = {}, record: Resource[] = [patient(), stay]): ReturnType<typeof decideAccess> =>
  decideAccess({ requester: requester(role), record, ...extra }, now, undefined);

describe('established relationships', () => {
  test('a relationship the caller established permits where the record alone finds none', () => {
    expect(decide('gp').effect).toBe('deny');
    const d = decide('gp', { establishedRelationships: [registeredGp], permissionToView: [{ userId: 'user-1', outcome: 'given', recordedAt: days(now, 0) }] });
    expect([d.effect, d.relationship?.kind]).toEqual(['permit', 'registered-gp']);
  });

  test('an established self-claim or break-glass is ignored: those come only from grants', () => {
    for (const kind of ['self-claimed', 'break-glass'] as const) {
      const d = decide('gp', { establishedRelationships: [{ kind, reason: 'asserted' }], permissionToView: [{ userId: 'user-1', outcome: 'given', recordedAt: days(now, 0) }] });
      expect([kind, d.effect, d.breakGlass]).toEqual([kind, 'deny', false]);
    }
  });

  test("the role's relationship kinds still apply: care home staff need the residence", () => {
    const ptv = { permissionToView: [{ userId: 'user-1', outcome: 'given' as const, recordedAt: days(now, 0) }] };
    expect(decide('care_home_staff', { ...ptv, establishedRelationships: [{ kind: 'care-team', reason: 'on the care team' }] }).effect).toBe('deny');
    expect(decide('care_home_staff', { ...ptv, establishedRelationships: [{ kind: 'care-home-residence', reason: 'lives there' }] }).effect).toBe('permit');
  });
});

describe('notificationWithheld', () => {
  const ptv = { permissionToView: [{ userId: 'user-1', outcome: 'given' as const, recordedAt: days(now, 0) }] };
  const resident = (): Resource => patient(careHomeResidence(ORG.careHome));

  test('care home staff, who see no encounters, are told through the passport; the voluntary sector sees neither', () => {
    const home = decide('care_home_staff', ptv, [resident(), stay]);
    expect([home.categories.includes('encounters'), notificationWithheld(home, [stay, resident()])]).toEqual([false, undefined]);
    const vcs = decide('voluntary_sector', { ...ptv, establishedRelationships: [{ kind: 'care-team', reason: 'on the care team' }] }, [resident(), stay, sharingConsent({ ...decided, id: 'g', recipient: 'voluntary-sector', decision: 'given' })]);
    expect([vcs.effect, notificationWithheld(vcs, [stay])]).toEqual(['permit', 'category']);
  });

  test('a refusal of encounters for the class withholds the stay from a role that reads encounters', () => {
    const refusal = sharingConsent({ ...decided, id: 'r', recipient: 'health', decision: 'refused', resourceTypes: ['Encounter'] });
    const d = decide('gp', { ...ptv, establishedRelationships: [registeredGp] }, [patient(), stay, refusal]);
    expect([d.effect, notificationWithheld(d, [stay, patient()])]).toEqual(['permit', 'category']);
  });

  test('under an objection the Patient is not withheld by its source, the stay is', () => {
    const sources = { sourceOrganisations: { [GP_SOURCE]: q(ORG.requester), [COUNCIL_SOURCE]: q(ORG.council) } };
    const d = decide('gp', { ...ptv, ...sources, establishedRelationships: [registeredGp] }, [patient(), stay, objectionConsent({ ...decided, id: 'o' })]);
    expect(d.allowedSources).toEqual([GP_SOURCE]);
    expect(notificationWithheld(d, [patient()])).toBeUndefined();
    expect(notificationWithheld(d, [stay, patient()])).toBe('source');
  });

  test('a denied decision tells nothing', () => {
    expect(notificationWithheld(decide('gp'), [stay])).toBe('denied');
  });
});
