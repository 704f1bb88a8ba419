import type { Organization, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { labelKey, SENSITIVITY_CODING, securityLabels, Sensitivity, type Confidentiality } from '../mappings/security/labels';
import { categoriesOf } from './categories';
import { objectionConsent, sharingConsent } from './consent-builders';
import { decideAccess, decideResource } from './decide';
import { BASELINE_ROLES } from './roles';
import type { AccessInput, RecipientClass } from './types';
import { careHomeResidence, COUNCIL_SOURCE, days, GP_SOURCE, hours, identified, ORG, patient, q, requester } from './testing/scenario';

/** Properties that hold for any request: fast-check explores combinations the matrix does not name. */

const now = new Date('2026-11-23T12:00:00Z');
const ROLES = [...Object.keys(BASELINE_ROLES.roles), 'unknown_role'];
const RESOURCES: Resource[] = [
  patient(),
  { resourceType: 'RelatedPerson', id: 'rp', patient: { reference: 'Patient/pat-gp' }, name: [{ family: 'Carer' }] },
  { resourceType: 'Condition', id: 'c', subject: { reference: 'Patient/pat-gp' }, note: [{ text: 'n' }], code: { text: 'x' } },
  { resourceType: 'Encounter', id: 'e-old', status: 'finished', class: { code: 'AMB' }, period: { start: '2020-01-01' } },
  { resourceType: 'CarePlan', id: 'cp', status: 'active', intent: 'plan', subject: { reference: 'Patient/pat-gp' }, description: 'support', activity: [{ detail: { status: 'in-progress' } }], category: [{ coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/care-plan-kind', code: 'support-plan' }] }] },
  { resourceType: 'CareTeam', id: 'ct', status: 'active', participant: [{ member: { display: 'x' } }] },
  { resourceType: 'Flag', id: 'f', status: 'active', code: { text: 'key safe 1234' }, subject: { reference: 'Patient/pat-gp' } },
  { resourceType: 'Provenance', id: 'prov', target: [{ reference: 'Condition/c' }], recorded: '2026-01-01', agent: [{ who: { display: 'x' } }] },
  { resourceType: 'Organization', id: 'o' },
];

const labelArb = fc.record({
  confidentiality: fc.constantFrom<Confidentiality>('N', 'R', 'V'),
  sensitivities: fc.subarray(Object.values(Sensitivity)),
});

const inputArb = fc
  .record({
    role: fc.constantFrom(...ROLES),
    relationship: fc.constantFrom('none', 'gp', 'care-home', 'episode', 'self-claim', 'break-glass', 'expired-break-glass'),
    objection: fc.boolean(),
    refusedFor: fc.option(fc.constantFrom<RecipientClass>('health', 'social-care', 'care-provider', 'voluntary-sector', 'carer'), { nil: undefined }),
    voluntaryConsent: fc.boolean(),
    permission: fc.constantFrom('given', 'refused', 'none'),
    ownsGpData: fc.boolean(),
  })
  .map((c): AccessInput => {
    const mine = identified<Organization>('Organization', c.role === 'care_home_staff' ? ORG.careHome : ORG.requester);
    const record: Resource[] = [
      c.relationship === 'gp' ? patient({ generalPractitioner: [mine] }) : c.relationship === 'care-home' ? patient(careHomeResidence(c.role === 'care_home_staff' ? ORG.careHome : ORG.requester)) : patient(),
      ...(c.relationship === 'episode' ? [{ resourceType: 'EpisodeOfCare', id: 'eoc', status: 'active', patient: { reference: 'Patient/pat-gp' }, managingOrganization: mine } as Resource] : []),
      RESOURCES[3]!,
    ];
    const base = { patient: { reference: 'Patient/pat-gp' }, dateTime: days(now, -3), decisionMaker: 'person' as const };
    if (c.objection) record.push(objectionConsent({ ...base, id: 'o' }));
    if (c.refusedFor) record.push(sharingConsent({ ...base, id: 'r', recipient: c.refusedFor, decision: 'refused' }));
    if (c.voluntaryConsent) record.push(sharingConsent({ ...base, id: 'v', recipient: 'voluntary-sector', decision: 'given' }));
    const grant = (kind: 'self-claimed' | 'break-glass', ago: number) => ({ kind, userId: 'user-1', reason: 'r', grantedAt: hours(now, -ago), expiresAt: hours(now, 24) });
    return {
      requester: requester(c.role),
      record,
      grants: c.relationship === 'self-claim' ? [grant('self-claimed', 1)] : c.relationship === 'break-glass' ? [grant('break-glass', 1)] : c.relationship === 'expired-break-glass' ? [grant('break-glass', 5)] : [],
      permissionToView: c.permission === 'none' ? [] : [{ userId: 'user-1', outcome: c.permission === 'given' ? 'given' : 'refused', recordedAt: hours(now, -1) }],
      sourceOrganisations: { [GP_SOURCE]: c.ownsGpData ? q(ORG.requester) : q(ORG.otherPractice), [COUNCIL_SOURCE]: q(ORG.council) },
    };
  });

const resourceArb = fc.tuple(fc.constantFrom(...RESOURCES), labelArb, fc.constantFrom(GP_SOURCE, COUNCIL_SOURCE, undefined)).map(([r, l, source]): Resource => ({
  ...r,
  meta: { ...(source ? { source } : {}), security: securityLabels(l.sensitivities, l.confidentiality) },
}));

describe('access properties', () => {
  it('a denied request never returns content, whatever the resource', () => {
    fc.assert(
      fc.property(inputArb, resourceArb, (input, resource) => {
        const decision = decideAccess(input, now);
        if (decision.effect === 'deny') {
          expect(decideResource(decision, resource)).toEqual({ withheld: 'denied' });
          expect(decision.categories).toEqual([]);
          expect(decision.alerts).toEqual([]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('withheld labels always include every sensitivity the role is not granted', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const decision = decideAccess(input, now);
        if (decision.effect !== 'permit') return;
        const role = BASELINE_ROLES.roles[input.requester.role ?? '']!;
        for (const s of Object.values(Sensitivity)) {
          if (!role.sensitivities.includes(s)) expect(decision.withheldLabels).toContain(labelKey(SENSITIVITY_CODING[s]));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('whatever is returned carries no withheld label, sits in an allowed category and keeps to the role\'s elements', () => {
    fc.assert(
      fc.property(inputArb, resourceArb, (input, resource) => {
        const decision = decideAccess(input, now);
        const result = decideResource(decision, resource);
        if (!('resource' in result)) return;
        const keys = (result.resource.meta?.security ?? []).map(labelKey);
        expect(keys.filter((k) => decision.withheldLabels.includes(k))).toEqual([]);
        expect(categoriesOf(result.resource).some((c) => decision.categories.includes(c))).toBe(true);
        const rule = BASELINE_ROLES.roles[decision.role ?? '']?.redact[resource.resourceType];
        if (rule && rule !== 'withhold') {
          const allowed = new Set(['resourceType', 'id', 'meta', 'language', 'implicitRules', ...rule.keep]);
          expect(Object.keys(result.resource).filter((k) => !allowed.has(k))).toEqual([]);
        }
        if (decision.allowedSources) expect(decision.allowedSources).toContain(resource.meta?.source);
      }),
      { numRuns: 1000 },
    );
  });

  it('decisions are pure: the same input gives the same decision, and the input is not changed', () => {
    fc.assert(
      fc.property(inputArb, resourceArb, (input, resource) => {
        const before = JSON.stringify([input, resource]);
        const a = decideAccess(input, now);
        const b = decideAccess(input, now);
        expect(a).toEqual(b);
        expect(decideResource(a, resource)).toEqual(decideResource(b, resource));
        expect(JSON.stringify([input, resource])).toBe(before);
      }),
      { numRuns: 200 },
    );
  });
});
