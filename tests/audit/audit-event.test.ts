import { validateResource } from '@medplum/core';
import type { AuditEvent } from '@medplum/fhirtypes';
import { Interaction, PurposeOfUse } from '../../gateway/access/hooks';
import { AuditDecision, AuditOperation, auditColumns, buildAuditEvent, entryFromOperation, entryFromRecord, returnedOf } from '../../gateway/audit/audit-event';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { GP_PRACTICE, readRecord, requester } from './support';

const ID = '6f1c1f5e-7a53-4c38-9a8e-0d6b0a1c2b3d';
const WHEN = '2026-11-23T10:15:00.000Z';

describe('the AuditEvent of a request', () => {
  beforeAll(() => {
    loadFhirDefinitions();
  });

  const interactions = Object.values(Interaction);
  test.each(interactions)('a %s is a valid FHIR R4 AuditEvent', (interaction) => {
    const event = buildAuditEvent(
      entryFromRecord(readRecord(1, { request: { ...readRecord(1).request, interaction, client: { address: '10.0.0.7', userAgent: 'TestBrowser/1.0' } }, query: interaction === Interaction.SEARCH ? 'name=x' : undefined }), ID, WHEN, []),
      'node-1',
    );
    expect(() => {
      validateResource(event);
    }).not.toThrow();
  });

  test.each(Object.values(AuditOperation))('the operation %s is a valid FHIR R4 AuditEvent', (operation) => {
    const event = buildAuditEvent(entryFromOperation({ requestId: 'r1', requester: requester(), operation, outcome: AuditDecision.PERMIT, patientIds: ['pat-1'], entities: ['Consent/c1'], reasons: ['why'] }, ID, WHEN), 'node-1');
    expect(() => {
      validateResource(event);
    }).not.toThrow();
  });

  test('a search says who, role, organisation, teams, purpose, patients, what was returned and withheld, decision, reasons, request id and source', () => {
    const nhs = demoNhsNumber(3);
    const record = readRecord(1, {
      request: {
        requestId: 'req-42',
        requester: requester({ workerId: 'https://council.test/worker|W9' }),
        interaction: Interaction.SEARCH,
        resourceType: 'Observation',
        client: { address: '10.0.0.7', userAgent: 'TestBrowser/1.0' },
      },
      returned: ['Observation/o1', 'Observation/o2'],
      withheld: 3,
      reasons: ['relationship: registered GP', 'label R withheld'],
      query: `patient.identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`,
    });
    const event = buildAuditEvent(entryFromRecord(record, ID, WHEN, ['pat-7']), 'node-1');
    expect(event).toEqual<AuditEvent>({
      resourceType: 'AuditEvent',
      id: ID,
      extension: [
        {
          url: 'https://carebridge.nhs.uk/fhir/StructureDefinition/access-decision',
          extension: [
            { url: 'decision', valueCode: 'permit' },
            { url: 'withheld', valueInteger: 3 },
            { url: 'reason', valueString: 'relationship: registered GP' },
            { url: 'reason', valueString: 'label R withheld' },
          ],
        },
      ],
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'search-type' }],
      action: 'E',
      recorded: WHEN,
      outcome: '0',
      outcomeDesc: 'permit; 3 withheld: relationship: registered GP; label R withheld',
      purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }],
      agent: [
        {
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
          who: { identifier: { system: 'https://carebridge.nhs.uk/Id/user', value: 'user-gp-1' }, display: 'Dr Test Example' },
          altId: 'https://council.test/worker|W9',
          requestor: true,
          role: [{ coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/role', code: 'gp' }] }],
          purposeOfUse: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }],
          network: { address: '10.0.0.7', type: '2' },
          extension: [{ url: 'https://carebridge.nhs.uk/fhir/StructureDefinition/user-agent', valueString: 'TestBrowser/1.0' }],
        },
        { type: { coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/audit-agent-type', code: 'organisation' }] }, who: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y00001' } }, requestor: false },
        { type: { coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/audit-agent-type', code: 'team' }] }, who: { identifier: { system: 'https://example-gp-system.test/team', value: 'T1' } }, requestor: false },
      ],
      source: {
        observer: { identifier: { system: 'https://carebridge.nhs.uk/Id/node', value: 'node-1' }, display: 'CareBridge node-1' },
        type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
      },
      entity: [
        { what: { identifier: { value: 'req-42' } }, type: { system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType', code: 'XrequestId' } },
        { what: { reference: 'Patient/pat-7' }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' } },
        { what: { reference: 'Observation/o1' }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' } },
        { what: { reference: 'Observation/o2' }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' } },
        {
          type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
          role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' },
          query: Buffer.from(`patient.identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`).toString('base64'),
        },
      ],
    });
    expect(() => {
      validateResource(event);
    }).not.toThrow();
    // The query (which may carry an NHS number) is kept only base64-encoded inside the restricted trail.
    expect(JSON.stringify(event)).not.toContain(nhs);
    expect(auditColumns(event)).toEqual({
      id: ID,
      recorded: WHEN,
      requestId: 'req-42',
      userId: 'user-gp-1',
      organisation: GP_PRACTICE,
      role: 'gp',
      purpose: 'TREAT',
      interaction: 'search-type',
      outcome: 'permit',
      patientIds: ['pat-7'],
    });
    expect(returnedOf(event)).toEqual(['Observation/o1', 'Observation/o2']);
  });

  test('a refused read by a source system: outcome 4, the system as agent, no returned entity', () => {
    const record = readRecord(2, { request: { requestId: 'r2', requester: { userId: 'x', system: 'hospital-pas', purposeOfUse: PurposeOfUse.TREAT }, interaction: Interaction.READ, resourceType: 'Patient', patientId: 'pat-2' }, outcome: 'deny', returned: [], withheld: 1 });
    const event = buildAuditEvent(entryFromRecord(record, ID, WHEN, []), 'node-1');
    expect(event.outcome).toBe('4');
    expect(event.action).toBe('R');
    expect(event.agent[0]?.who).toEqual({ identifier: { system: 'https://carebridge.nhs.uk/Id/source-system', value: 'hospital-pas' } });
    expect(auditColumns(event).userId).toBe('system:hospital-pas');
    expect(auditColumns(event).patientIds).toEqual(['pat-2']);
    expect(returnedOf(event)).toEqual([]);
    expect(() => {
      validateResource(event);
    }).not.toThrow();
  });

  test('the validator is live: an agent without the required requestor flag is refused', () => {
    const event = buildAuditEvent(entryFromRecord(readRecord(1), ID, WHEN, []), 'n');
    const broken = { ...event, agent: event.agent.map(({ requestor: _r, ...rest }) => rest) } as unknown as AuditEvent;
    expect(() => {
      validateResource(broken);
    }).toThrow(/requestor/);
  });

  test('$everything is an operation subtype; an error is outcome 8', () => {
    const record = readRecord(3, { request: { ...readRecord(3).request, interaction: Interaction.EVERYTHING }, outcome: 'error', returned: [] });
    const event = buildAuditEvent(entryFromRecord(record, ID, WHEN, []), 'n');
    expect(event.subtype).toEqual([
      { system: 'http://hl7.org/fhir/restful-interaction', code: 'operation' },
      { system: 'https://carebridge.nhs.uk/fhir/CodeSystem/audit-operation', code: 'everything' },
    ]);
    expect(event.outcome).toBe('8');
    expect(auditColumns(event).interaction).toBe('everything');
  });
});
