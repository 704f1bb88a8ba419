import type { Consent, Resource } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { readPersonDecisions } from '../../consent/consents';
import { decideAccess } from '../../consent/decide';
import { ORG, q, requester } from '../../consent/testing/scenario';
import { mapConsentRow } from './consents';
import type { SocialCareContext } from './context';

/**
 * What a council records in consents.csv is what the access rules obey: each row is mapped as the
 * importer maps it and read back by consent/'s reader, and the decision for a hospital clinician
 * follows it. (Before this test the mapping wrote its own shape, which consent/ could not read:
 * a refusal to share with health was kept but not obeyed.)
 */

const SOURCE = 'https://social-care.example-council.invalid/carefirst';
const context: SocialCareContext = { source: SOURCE, council: { code: ORG.council.value, name: 'Example Council (fictional)' }, extractedAt: '2026-11-20T02:00:00Z', type: 'full' };
const now = new Date('2026-11-23T12:00:00Z');

function row(values: Record<string, string>, line = 2): SourceRow {
  const all = { CONSENT_ID: 'C1', PERSON_ID: '100001', CONSENT_TYPE: 'SHARE_WITH_HEALTH', DECISION: 'REFUSED', DECISION_DATE: '2026-11-01', HAS_CAPACITY: 'Y', DECISION_MAKER: 'PERSON', RECORDED_BY_WORKER_ID: 'W7', NOTES: '', ...values };
  return { table: 'consents', line, values: all, columnNumbers: Object.fromEntries(Object.keys(all).map((k, i) => [k, i + 1])) };
}

const consentOf = (values: Record<string, string>): Consent => mapConsentRow(context, row(values)).resources.find((r) => r.resourceType === 'Consent') as Consent;
const rules = (values: Record<string, string>): ReturnType<typeof readPersonDecisions> => readPersonDecisions([consentOf(values)], now);

describe('consents.csv as the access rules read it', () => {
  test.each([
    ['SHARE_WITH_HEALTH', 'REFUSED', 'deny', 'health', [SOURCE], 'share-with-health', 'refused'],
    ['SHARE_WITH_HEALTH', 'WITHDRAWN', 'deny', 'health', [SOURCE], 'share-with-health', 'withdrawn'],
    ['SHARE_WITH_HEALTH', 'GIVEN', 'permit', 'health', [SOURCE], 'share-with-health', 'given'],
    ['SHARE_WITH_VOLUNTARY_SECTOR', 'GIVEN', 'permit', 'voluntary-sector', [], 'share-with-voluntary-sector', 'given'],
    ['SHARE_WITH_CARER', 'BEST_INTEREST', 'permit', 'carer', [], 'share-with-carer', 'best-interest'],
    ['SHARE_WITH_CARER', 'NOT_A_DECISION', 'deny', 'carer', [], 'share-with-carer', 'refused'],
  ])('%s %s → a %s rule for %s', (type, decision, effect, recipient, dataSources, topic, read) => {
    const decisions = rules({ CONSENT_TYPE: type, DECISION: decision, ...(decision === 'BEST_INTEREST' ? { HAS_CAPACITY: 'N', DECISION_MAKER: 'BEST_INTEREST_MEETING' } : {}) });
    expect(decisions.unread).toEqual([]);
    expect(decisions.objections).toEqual([]);
    expect(decisions.sharing.map((s) => [s.effect, s.recipients, s.dataSources, s.topic, s.decision, s.custodian, s.dateTime])).toEqual([[effect, [recipient], dataSources, topic, read, q(ORG.council), '2026-11-01']]);
  });

  test('who decided and whether the person had capacity are read back', () => {
    expect(rules({ DECISION_MAKER: 'LPA_HEALTH_WELFARE', HAS_CAPACITY: 'N' }).sharing.map((s) => [s.decisionMaker, s.hasCapacity])).toEqual([['lpa-health-welfare', false]]);
    expect(rules({ DECISION_MAKER: 'COURT_DEPUTY', HAS_CAPACITY: '' }).sharing.map((s) => [s.decisionMaker, s.hasCapacity])).toEqual([['court-deputy', undefined]]);
    expect(rules({ DECISION_MAKER: '', DECISION: 'BEST_INTEREST', HAS_CAPACITY: 'N' }).sharing.map((s) => s.decisionMaker)).toEqual(['best-interest']);
  });

  test('the source\'s own codes and notes are kept beside ours', () => {
    const consent = consentOf({ DECISION: 'NOT_A_DECISION', NOTES: 'Discussed at home visit (synthetic)' });
    expect(consent.category.flatMap((c) => c.coding ?? []).map((c) => c.code)).toEqual(['59284-0', 'share-with-health', 'SHARE_WITH_HEALTH']);
    expect(consent.extension?.filter((e) => e.url.endsWith('consent-source-decision')).map((e) => e.valueCodeableConcept?.coding?.[0]?.code)).toEqual(['NOT_A_DECISION']);
    expect(consent.extension?.filter((e) => e.url.endsWith('consent-notes')).map((e) => e.valueString)).toEqual(['Discussed at home visit (synthetic)']);
    expect(consent.extension?.filter((e) => e.url.endsWith('consent-recorded-by')).map((e) => e.valueReference?.identifier?.value)).toEqual(['W7']);
    expect(mapConsentRow(context, row({ DECISION: 'NOT_A_DECISION' })).issues.map((i) => [i.column, i.code, i.reason])).toEqual([
      ['DECISION', 'unknown-code', "DECISION code 'NOT_A_DECISION' is not in the contract's list; kept as the source's own code"],
      ['DECISION', 'unknown-code', 'DECISION is not in the list; recorded as a refusal (deny) until corrected'],
    ]);
  });

  test('an unknown consent type is kept but not guessed at: the rules list it as not understood', () => {
    const decisions = rules({ CONSENT_TYPE: 'SHARE_WITH_POLICE' });
    expect([decisions.sharing, decisions.objections, decisions.unread.length]).toEqual([[], [], 1]);
  });

  test('a retired row is inactive and no longer in force', () => {
    const retired = mapConsentRow(context, row({}), { reason: 'not in the full extract' } as never).resources[0] as Consent;
    expect(retired.status).toBe('inactive');
    expect(readPersonDecisions([retired], now).sharing).toEqual([]);
  });

  test('the council\'s refusal to share with health withholds its data from a hospital clinician, and nothing else', () => {
    const patient: Resource = { resourceType: 'Patient', id: 'p1', meta: { source: SOURCE } };
    const encounter: Resource = { resourceType: 'Encounter', id: 'e1', meta: { source: 'https://pas.example-trust.invalid/hl7v2' }, status: 'in-progress', class: { code: 'IMP' }, subject: { reference: 'Patient/p1' }, serviceProvider: { reference: `Organization/${ORG.requester.value}`, identifier: { ...ORG.requester } }, period: { start: '2026-11-22T10:00:00Z' } };
    const input = (consents: Resource[]): Parameters<typeof decideAccess>[0] => ({
      requester: requester('hospital_clinician'),
      record: [patient, encounter, ...consents],
      permissionToView: [{ userId: 'user-1', outcome: 'given', recordedAt: '2026-11-23T11:00:00Z' }],
      sourceOrganisations: { [SOURCE]: q(ORG.council) },
    });
    const refused = decideAccess(input([consentOf({})]), now);
    expect([refused.effect, refused.withheldSources]).toEqual(['permit', [SOURCE]]);
    const given = decideAccess(input([consentOf({ DECISION: 'GIVEN' })]), now);
    expect([given.effect, given.withheldSources]).toEqual(['permit', []]);
  });
});
