import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { objectionConsent } from './consent-builders';
import { decideAccess, DEFAULT_POLICY } from './decide';
import { BASELINE_ROLES } from './roles';
import { identified, ORG, patient, requester, TEAM, WORKER } from './testing/scenario';
import type { AccessInput } from './types';
import { nextChange } from './validity';

/**
 * nextChange is what lets a remembered decision be used again without deciding: for the same
 * input, the decision must not change between now and the instant it returns.
 */

const base = new Date('2026-11-23T12:00:00Z').getTime();
const HOUR = 3_600_000;
const at = (h: number): string => new Date(base + h * HOUR).toISOString();
const ROLES = Object.keys(BASELINE_ROLES.roles);
/** Hours around the base: wide enough to cross every duration of the policy (30 days is 720 hours). */
const offset = fc.integer({ min: -1_500, max: 1_500 });

const inputArb = fc
  .record({
    role: fc.constantFrom(...ROLES),
    episode: fc.option(fc.record({ start: offset, length: fc.option(fc.integer({ min: 1, max: 1_500 }), { nil: undefined }), status: fc.constantFrom('active', 'finished') }), { nil: undefined }),
    encounter: fc.option(fc.record({ start: offset, length: fc.option(fc.integer({ min: 1, max: 900 }), { nil: undefined }), status: fc.constantFrom('in-progress', 'finished') }), { nil: undefined }),
    careTeamFrom: fc.option(offset, { nil: undefined }),
    grant: fc.option(fc.record({ kind: fc.constantFrom<'self-claimed' | 'break-glass'>('self-claimed', 'break-glass'), at: offset }), { nil: undefined }),
    permission: fc.option(fc.record({ outcome: fc.constantFrom<'given' | 'refused'>('given', 'refused'), at: offset }), { nil: undefined }),
    objectionAt: fc.option(offset, { nil: undefined }),
  })
  .map((c): AccessInput => {
    const record: Resource[] = [patient()];
    const period = (p: { start: number; length?: number }): { start: string; end?: string } => ({ start: at(p.start), ...(p.length !== undefined ? { end: at(p.start + p.length) } : {}) });
    if (c.episode) record.push({ resourceType: 'EpisodeOfCare', id: 'eoc', status: c.episode.status, patient: { reference: 'Patient/pat-gp' }, managingOrganization: identified('Organization', ORG.requester), period: period(c.episode) });
    if (c.encounter) record.push({ resourceType: 'Encounter', id: 'enc', status: c.encounter.status, class: { code: 'IMP' }, subject: { reference: 'Patient/pat-gp' }, serviceProvider: identified('Organization', ORG.requester), period: period(c.encounter) });
    if (c.careTeamFrom !== undefined) {
      record.push({ resourceType: 'CareTeam', id: 'ct', status: 'active', subject: { reference: 'Patient/pat-gp' }, participant: [{ member: identified('Practitioner', WORKER), onBehalfOf: identified('Organization', TEAM), period: { start: at(c.careTeamFrom) } }] });
    }
    if (c.objectionAt !== undefined) record.push(objectionConsent({ id: 'obj', patient: { reference: 'Patient/pat-gp' }, dateTime: at(c.objectionAt), decisionMaker: 'person', hasCapacity: true }));
    return {
      requester: requester(c.role),
      record,
      grants: c.grant ? [{ kind: c.grant.kind, userId: 'user-1', reason: 'r', grantedAt: at(c.grant.at), expiresAt: at(c.grant.at + (c.grant.kind === 'break-glass' ? 4 : 24)) }] : [],
      permissionToView: c.permission ? [{ userId: 'user-1', outcome: c.permission.outcome, recordedAt: at(c.permission.at) }] : [],
    };
  });

describe('how long a decision holds (nextChange)', () => {
  it('the decision for the same input is the same at every instant from now until the next change', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: -1_000 * HOUR, max: 1_000 * HOUR }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 }), (input, nowOffset, fractions) => {
        const now = new Date(base + nowOffset);
        const next = nextChange(input, now, DEFAULT_POLICY);
        const decided = JSON.stringify(decideAccess(input, now));
        // With no change ahead, look a year on: nothing in the input can move the decision.
        const end = next ?? now.getTime() + 365 * 24 * HOUR;
        expect(end).toBeGreaterThan(now.getTime());
        for (const f of [...fractions, 1]) {
          const t = Math.min(end - 1, now.getTime() + Math.floor(f * (end - now.getTime())));
          expect(JSON.stringify(decideAccess(input, new Date(t)))).toBe(decided);
        }
      }),
      { numRuns: 800 },
    );
  });

  it('names the moment a relationship lapses, a grant expires and a permission-to-view session ends', () => {
    const now = new Date(base);
    const ended = { requester: requester('community_nurse'), record: [patient(), { resourceType: 'EpisodeOfCare', id: 'eoc', status: 'finished', patient: { reference: 'Patient/pat-gp' }, managingOrganization: identified('Organization', ORG.requester), period: { start: at(-2_000), end: at(-700) } } as Resource] };
    // Closed 700 hours ago: recent contact for another 20 hours (30 days is 720).
    expect(nextChange(ended, now, DEFAULT_POLICY)).toBe(base + 20 * HOUR);
    const glass = { requester: requester('community_nurse'), record: [patient()], grants: [{ kind: 'break-glass' as const, userId: 'user-1', reason: 'r', grantedAt: at(-1), expiresAt: at(3) }] };
    expect(nextChange(glass, now, DEFAULT_POLICY)).toBe(base + 3 * HOUR);
    const asked = { requester: requester('community_nurse'), record: [patient()], permissionToView: [{ userId: 'user-1', outcome: 'given' as const, recordedAt: at(-2) }] };
    // The session ends 8 hours after it was asked (6 from now), but every duration of the policy is
    // tried on every instant, so break-glass's 4 hours give an earlier moment to look again: early
    // is safe (the decision is taken afresh and comes out the same), late never happens.
    expect(nextChange(asked, now, DEFAULT_POLICY)).toBe(base + 2 * HOUR);
    // At the very instant contact stops being recent (`<=` 30 days), the change is the millisecond after.
    expect(nextChange(ended, new Date(base + 20 * HOUR), DEFAULT_POLICY)).toBe(base + 20 * HOUR + 1);
    // Birth dates and other instants long past, with nothing ahead: no change to wait for.
    expect(nextChange({ requester: requester('gp'), record: [patient()] }, now, DEFAULT_POLICY)).toBeUndefined();
  });
});
