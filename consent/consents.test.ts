import type { Consent, Resource } from '@medplum/fhirtypes';
import { objectionConsent, sharingConsent } from './consent-builders';
import { readPersonDecisions } from './consents';
import { COUNCIL_SOURCE, days, identified, ORG } from './testing/scenario';

const now = new Date('2026-11-23T12:00:00Z');
const base = { patient: { reference: 'Patient/p1' }, dateTime: '2026-11-01', decisionMaker: 'person' as const };

describe('the Consent shape', () => {
  it('a refusal to share social care data with health, decided by an attorney, is written as documented', () => {
    const consent = sharingConsent({
      ...base,
      id: 'c1',
      source: COUNCIL_SOURCE,
      recipient: 'health',
      decision: 'refused',
      decisionMaker: 'lpa-health-welfare',
      hasCapacity: false,
      dataSources: [COUNCIL_SOURCE],
      custodian: identified('Organization', ORG.council),
      recordedBy: identified('Practitioner', { system: `${COUNCIL_SOURCE}/worker`, value: 'W7' }),
    });
    expect(consent).toEqual({
      resourceType: 'Consent',
      id: 'c1',
      meta: { source: COUNCIL_SOURCE },
      extension: [
        { url: 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-decision', valueCoding: { system: 'https://carebridge.nhs.uk/fhir/CodeSystem/consent-decision', code: 'refused' } },
        { url: 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-decision-maker', valueCoding: { system: 'https://carebridge.nhs.uk/fhir/CodeSystem/consent-decision-maker', code: 'lpa-health-welfare', display: 'an attorney (lasting power of attorney, health and welfare)' } },
        { url: 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-mental-capacity', valueBoolean: false },
        { url: 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-recorded-by', valueReference: { reference: 'Practitioner/W7', identifier: { system: `${COUNCIL_SOURCE}/worker`, value: 'W7' } } },
      ],
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [
        { coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] },
        { coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/consent-topic', code: 'share-with-health' }] },
      ],
      patient: { reference: 'Patient/p1' },
      dateTime: '2026-11-01',
      organization: [{ reference: 'Organization/E09999999', identifier: { system: 'https://carebridge.nhs.uk/Id/ons-local-authority-code', value: 'E09999999' } }],
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
      provision: {
        type: 'deny',
        extension: [{ url: 'https://carebridge.nhs.uk/fhir/StructureDefinition/consent-data-source', valueUri: COUNCIL_SOURCE }],
        actor: [{ role: { coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/recipient-class', code: 'health' }] }, reference: { display: 'recipients: health' } }],
      },
    });
  });

  it('reads back what the builders write', () => {
    const decisions = readPersonDecisions([sharingConsent({ ...base, id: 'c1', recipient: 'health', decision: 'refused', dataSources: [COUNCIL_SOURCE], purposes: ['TREAT'], decisionMaker: 'court-deputy', hasCapacity: false })], now);
    expect(decisions.objections).toEqual([]);
    expect(decisions.sharing).toEqual([
      { consent: 'Consent/c1', topic: 'share-with-health', effect: 'deny', recipients: ['health'], actors: [], purposes: ['TREAT'], dataSources: [COUNCIL_SOURCE], resourceTypes: [], securityLabels: [], custodian: undefined, decision: 'refused', decisionMaker: 'court-deputy', hasCapacity: false, dateTime: '2026-11-01' },
    ]);
  });
});

describe('which decisions are in force', () => {
  const objection = (overrides: Partial<Consent> = {}): Resource => ({ ...objectionConsent({ ...base, id: 'o' }), ...overrides });

  it('an active objection is in force; an inactive, future-dated or ended one is not', () => {
    expect(readPersonDecisions([objection()], now).objections.map((o) => o.consent)).toEqual(['Consent/o']);
    expect(readPersonDecisions([objection({ status: 'inactive' })], now).objections).toEqual([]);
    expect(readPersonDecisions([objection({ dateTime: days(now, 1) })], now).objections).toEqual([]);
    expect(readPersonDecisions([objection({ provision: { type: 'deny', period: { end: days(now, -1) } } })], now).objections).toEqual([]);
  });

  it('a Consent of another scope (an advance decision) is data, not a sharing decision', () => {
    expect(readPersonDecisions([objection({ scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'adr' }] } })], now)).toEqual({ objections: [], sharing: [], unread: [] });
  });

  it('a Consent naming a recipient we cannot place is reported, not silently applied or dropped', () => {
    const odd = objection({ provision: { type: 'deny', actor: [{ role: { text: 'someone' }, reference: { display: 'a neighbour' } }] } });
    expect(readPersonDecisions([odd], now)).toEqual({ objections: [], sharing: [], unread: ['Consent/o'] });
  });

  it('a nested deny inside a permit is read as its own refusal', () => {
    const permit = sharingConsent({ ...base, id: 'p', recipient: 'carer', decision: 'given' });
    const nested = { ...permit, provision: { ...permit.provision, provision: [{ type: 'deny' as const, class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Condition' }] }] } };
    const rules = readPersonDecisions([nested], now).sharing;
    expect(rules.map((r) => [r.effect, r.resourceTypes])).toEqual([['permit', []], ['deny', ['Condition']]]);
  });
});
