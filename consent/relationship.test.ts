import type { Resource } from '@medplum/fhirtypes';
import { DEFAULT_POLICY } from './decide';
import { findRelationships, grantExpiry } from './relationship';
import { careHomeResidence, days, hours, identified, ORG, patient, q, requester, TEAM, WORKER } from './testing/scenario';

const now = new Date('2026-11-23T12:00:00Z');
const kinds = (record: Resource[], role = 'gp', grants = []): string[] => findRelationships(requester(role), record, grants, now, DEFAULT_POLICY).map((r) => r.kind);

describe('legitimate relationship from the record', () => {
  it('the requester organisation as registered GP practice is a registered-gp relationship', () => {
    expect(kinds([patient({ generalPractitioner: [identified('Organization', ORG.requester)] })])).toEqual(['registered-gp']);
  });

  it('after the person moves practice, the old practice is no longer the registered GP once a newer record names the new one', () => {
    const stale = patient({ id: 'gp-record', meta: { lastUpdated: days(now, -200) }, generalPractitioner: [identified('Organization', ORG.requester)] });
    const moved = patient({ id: 'hospital-record', meta: { lastUpdated: days(now, -2) }, generalPractitioner: [identified('Organization', ORG.otherPractice)] });
    expect(kinds([stale, moved])).toEqual([]);
    expect(findRelationships(requester('gp', { organisation: q(ORG.otherPractice) }), [stale, moved], [], now, DEFAULT_POLICY).map((r) => r.kind)).toEqual(['registered-gp']);
  });

  it('another practice as registered GP gives nothing', () => {
    expect(kinds([patient()])).toEqual([]);
  });

  it('a reference without an identifier never matches, even with the same reference text', () => {
    expect(kinds([patient({ generalPractitioner: [{ reference: `Organization/${ORG.requester.value}` }] })])).toEqual([]);
  });

  it('the requester team on an active care team is a care-team relationship; an ended participation is not', () => {
    const team = (period?: { end: string }): Resource => ({ resourceType: 'CareTeam', id: 'ct', status: 'active', participant: [{ member: identified('CareTeam', TEAM), ...(period ? { period } : {}) }] });
    expect(kinds([team()])).toEqual(['care-team']);
    expect(kinds([team({ end: days(now, -1) })])).toEqual([]);
    expect(kinds([{ ...team(), status: 'inactive' } as Resource])).toEqual([]);
  });

  it('an open encounter at the requester organisation counts, and a closed one for 30 days only', () => {
    const enc = (status: string, end?: string): Resource => ({ resourceType: 'Encounter', id: 'e', status, class: { code: 'IMP' }, serviceProvider: identified('Organization', ORG.requester), period: { start: days(now, -40), ...(end ? { end } : {}) } }) as Resource;
    expect(kinds([enc('in-progress')])).toEqual(['encounter']);
    expect(kinds([enc('finished', days(now, -29))])).toEqual(['encounter']);
    expect(kinds([enc('finished', days(now, -31))])).toEqual([]);
    expect(kinds([enc('cancelled', days(now, -1))])).toEqual([]);
  });

  it('an open episode of care of the organisation is an episode; an allocation of the worker is their caseload', () => {
    const byOrg: Resource = { resourceType: 'EpisodeOfCare', id: 'eoc', status: 'active', patient: { reference: 'Patient/p' }, managingOrganization: identified('Organization', ORG.requester) };
    const allocated: Resource = { resourceType: 'EpisodeOfCare', id: 'eoc2', status: 'active', patient: { reference: 'Patient/p' }, careManager: identified('Practitioner', WORKER) };
    expect(kinds([byOrg])).toEqual(['episode-of-care']);
    expect(kinds([allocated])).toEqual(['care-team']);
    expect(kinds([{ ...byOrg, status: 'finished', period: { end: days(now, -5) } }])).toEqual(['episode-of-care']);
    expect(kinds([{ ...byOrg, status: 'finished', period: { end: days(now, -45) } }])).toEqual([]);
  });

  it('care home staff of the home the person lives in have a care-home-residence relationship', () => {
    expect(kinds([patient(careHomeResidence(ORG.careHome))], 'care_home_staff')).toEqual(['care-home-residence']);
    expect(kinds([patient(careHomeResidence({ ...ORG.careHome, value: '1-999' }))], 'care_home_staff')).toEqual([]);
  });

  it('an open referral to the requester team counts; a completed one does not', () => {
    const referral = (status: string): Resource => ({ resourceType: 'ServiceRequest', id: 'sr', status, intent: 'order', subject: { reference: 'Patient/p' }, performer: [identified('CareTeam', TEAM)] }) as Resource;
    expect(kinds([referral('active')])).toEqual(['open-referral']);
    expect(kinds([referral('completed')])).toEqual([]);
  });
});

describe('granted relationships', () => {
  const grant = (kind: 'self-claimed' | 'break-glass', grantedAt: string, expiresAt: string, reason = 'direct care: patient presented') => ({ kind, userId: 'user-1', reason, grantedAt, expiresAt });

  it('a self-claim lasts 24 hours and break-glass 4, whatever expiry was recorded', () => {
    expect(grantExpiry(grant('self-claimed', '2026-11-23T00:00:00Z', '2026-11-30T00:00:00Z'), DEFAULT_POLICY)?.toISOString()).toBe('2026-11-24T00:00:00.000Z');
    expect(grantExpiry(grant('break-glass', '2026-11-23T00:00:00Z', '2026-11-30T00:00:00Z'), DEFAULT_POLICY)?.toISOString()).toBe('2026-11-23T04:00:00.000Z');
  });

  it('grants in force are found; expired ones, other users\' ones and ones without a reason are not', () => {
    const rels = (g: ReturnType<typeof grant>[]): string[] => findRelationships(requester('gp'), [], g, now, DEFAULT_POLICY).map((r) => r.kind);
    expect(rels([grant('self-claimed', hours(now, -2), hours(now, 22))])).toEqual(['self-claimed']);
    expect(rels([grant('break-glass', hours(now, -5), hours(now, 24))])).toEqual([]);
    expect(rels([grant('self-claimed', hours(now, -2), hours(now, 22), '  ')])).toEqual([]);
    expect(findRelationships(requester('gp', { userId: 'someone-else' }), [], [grant('break-glass', hours(now, -1), hours(now, 3))], now, DEFAULT_POLICY)).toEqual([]);
  });
});
