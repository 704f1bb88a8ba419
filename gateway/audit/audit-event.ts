import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding, Identifier } from '@medplum/fhirtypes';
import { Interaction, type AuditRecord, type ClientInfo, type Requester } from '../access/hooks';

/**
 * The FHIR R4 AuditEvent of one audited request, and the search columns derived back from it.
 * The event names who asked (user, role, organisation, teams, purpose), which patients, what was
 * returned (references only) and how much was withheld, the decision and its reasons, the request
 * id and where the request came from. It never holds clinical content: references, counts, codes.
 * A search's query text is kept (base64, as FHIR has it) because the trail is itself restricted to
 * privacy officers; it can hold an NHS number, so it never goes to a log.
 */

/** Named write operations and privacy-officer actions, audited beside the FHIR reads. */
export const AuditOperation = {
  ALERT_REVIEW: 'alert-review',
  AUDIT_SEARCH: 'audit-search',
  ACCESS_REPORT: 'access-report',
  BREAK_GLASS: 'break-glass',
  SELF_CLAIM: 'self-claim',
  PERMISSION_TO_VIEW: 'permission-to-view',
  CONSENT_RECORD: 'consent-record',
  IDENTITY_DECISION: 'identity-decision',
  /** The care home's transfer form recorded and a red bag passport issued from it. */
  PASSPORT_ISSUE: 'passport-issue',
  /** A red bag passport (a reader's copy of a version) read. */
  PASSPORT_READ: 'passport-read',
  /** A person acknowledged a worklist item (an admission or discharge their organisation, team or caseload was told of). */
  WORKLIST_ACKNOWLEDGE: 'worklist-acknowledge',
  /** A bearer token refused at the edge (401 not valid, 403 refused by the directory): who it claimed to be and what it asked for. */
  AUTHENTICATION: 'authentication',
  /** A viewer sign-in with OpenID Connect: a session opened, or verified claims the directory could not place. */
  SIGN_IN: 'sign-in',
} as const;
export type AuditOperation = (typeof AuditOperation)[keyof typeof AuditOperation];

export const AuditDecision = { PERMIT: 'permit', DENY: 'deny', NOT_FOUND: 'not-found', ERROR: 'error' } as const;
export type AuditDecision = (typeof AuditDecision)[keyof typeof AuditDecision];

/** A named operation to audit (break-glass, an alert review, a privacy officer's search…). */
export interface OperationRecord {
  readonly requestId: string;
  readonly requester: Requester;
  readonly operation: AuditOperation;
  readonly outcome: AuditDecision;
  readonly patientIds: readonly string[];
  /** References of what the operation wrote or returned ('Consent/1', 'AuditEvent/…'). */
  readonly entities?: readonly string[];
  readonly reasons?: readonly string[];
  readonly query?: string;
  readonly client?: ClientInfo;
}

/** Everything one entry says, before it is given its place in the chain. */
export interface AuditEntry {
  readonly id: string;
  readonly recorded: string;
  readonly requestId: string;
  readonly requester: Requester;
  readonly client?: ClientInfo;
  readonly what: Interaction | AuditOperation;
  readonly decision: AuditDecision;
  readonly reasons: readonly string[];
  readonly patientIds: readonly string[];
  readonly returned: readonly string[];
  readonly withheld: number;
  readonly query?: string;
}

export const CAREBRIDGE_NODE_SYSTEM = 'https://carebridge.nhs.uk/Id/node';
export const CAREBRIDGE_USER_SYSTEM = 'https://carebridge.nhs.uk/Id/user';
export const CAREBRIDGE_SYSTEM_SYSTEM = 'https://carebridge.nhs.uk/Id/source-system';
export const CAREBRIDGE_ROLE_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/role';
export const AUDIT_OPERATION_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/audit-operation';
export const AUDIT_AGENT_TYPE_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/audit-agent-type';
export const ACCESS_DECISION_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/access-decision';
export const USER_AGENT_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/user-agent';

const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const V3_ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const V3_PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
/** IHE Basic Audit Log Patterns: the X-Request-Id entity. */
const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';

const REST_TYPE: Coding = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' };
const PATIENT_ENTITY = { type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } };
const RETURNED_ENTITY = { type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } };
const QUERY_ENTITY = { type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '24', display: 'Query' } };

type Action = NonNullable<AuditEvent['action']>;

/** The FHIR subtype codings and action of each audited thing (R4 AuditEvent.subtype, .action). */
function subtypeOf(what: Interaction | AuditOperation): { subtype: Coding[]; action: Action } {
  const rest = (code: string): Coding => ({ system: RESTFUL_INTERACTION, code });
  const op = (code: string): Coding[] => [rest('operation'), { system: AUDIT_OPERATION_SYSTEM, code }];
  switch (what) {
    case Interaction.READ:
      return { subtype: [rest('read')], action: 'R' };
    case Interaction.VREAD:
      return { subtype: [rest('vread')], action: 'R' };
    case Interaction.HISTORY:
      return { subtype: [rest('history-instance')], action: 'R' };
    case Interaction.SEARCH:
      return { subtype: [rest('search-type')], action: 'E' };
    case Interaction.EVERYTHING:
      return { subtype: op('everything'), action: 'E' };
    case AuditOperation.AUDIT_SEARCH:
    case AuditOperation.ACCESS_REPORT:
    case AuditOperation.BREAK_GLASS:
    case AuditOperation.SIGN_IN:
      return { subtype: op(what), action: 'E' };
    case AuditOperation.SELF_CLAIM:
    case AuditOperation.PERMISSION_TO_VIEW:
    case AuditOperation.CONSENT_RECORD:
    case AuditOperation.PASSPORT_ISSUE:
      return { subtype: op(what), action: 'C' };
    case AuditOperation.PASSPORT_READ:
      return { subtype: op(what), action: 'R' };
    case AuditOperation.AUTHENTICATION:
      return { subtype: op(what), action: 'E' };
    case AuditOperation.ALERT_REVIEW:
    case AuditOperation.IDENTITY_DECISION:
    case AuditOperation.WORKLIST_ACKNOWLEDGE:
      return { subtype: op(what), action: 'U' };
  }
}

/** R4 AuditEvent.outcome: 0 success, 4 minor failure (refused, not found), 8 serious failure. */
function outcomeCode(decision: AuditDecision): NonNullable<AuditEvent['outcome']> {
  switch (decision) {
    case AuditDecision.PERMIT:
      return '0';
    case AuditDecision.DENY:
    case AuditDecision.NOT_FOUND:
      return '4';
    case AuditDecision.ERROR:
      return '8';
  }
}

/** 'system|value' (how tokens carry organisations and teams) as a FHIR Identifier. */
export function identifierOf(qualified: string): Identifier {
  const bar = qualified.indexOf('|');
  return bar < 0 ? { value: qualified } : { system: qualified.slice(0, bar), value: qualified.slice(bar + 1) };
}

function qualifiedOf(identifier: Identifier | undefined): string | undefined {
  if (!identifier?.value) return undefined;
  return identifier.system ? `${identifier.system}|${identifier.value}` : identifier.value;
}

const agentType = (code: string): AuditEventAgent['type'] => ({ coding: [{ system: AUDIT_AGENT_TYPE_SYSTEM, code }] });

function agents(requester: Requester, client: ClientInfo | undefined): AuditEventAgent[] {
  const purpose = [{ coding: [{ system: V3_ACT_REASON, code: requester.purposeOfUse }] }];
  const user: AuditEventAgent = {
    type: { coding: [{ system: V3_PARTICIPATION_TYPE, code: 'IRCP', display: 'information recipient' }] },
    who: requester.system
      ? { identifier: { system: CAREBRIDGE_SYSTEM_SYSTEM, value: requester.system } }
      : { identifier: { system: CAREBRIDGE_USER_SYSTEM, value: requester.userId }, ...(requester.displayName ? { display: requester.displayName } : {}) },
    ...(requester.workerId ? { altId: requester.workerId } : {}),
    requestor: true,
    ...(requester.role ? { role: [{ coding: [{ system: CAREBRIDGE_ROLE_SYSTEM, code: requester.role }] }] } : {}),
    purposeOfUse: purpose,
    ...(client?.address ? { network: { address: client.address, type: '2' as const } } : {}),
    ...(client?.userAgent ? { extension: [{ url: USER_AGENT_EXTENSION, valueString: client.userAgent }] } : {}),
  };
  const result = [user];
  if (requester.organisation) result.push({ type: agentType('organisation'), who: { identifier: identifierOf(requester.organisation) }, requestor: false });
  for (const team of requester.teams ?? []) result.push({ type: agentType('team'), who: { identifier: identifierOf(team) }, requestor: false });
  return result;
}

/** 'Type/id' or 'Type/id/_history/v' → 'Type/id'. */
export function baseReference(ref: string): string {
  const parts = ref.split('/');
  return parts.length >= 2 ? `${parts[0] ?? ''}/${parts[1] ?? ''}` : ref;
}

/** Builds the AuditEvent of an entry. `node` names this CareBridge node (source.observer). */
export function buildAuditEvent(entry: AuditEntry, node: string): AuditEvent {
  const { subtype, action } = subtypeOf(entry.what);
  const decisionText = `${entry.decision}${entry.withheld > 0 ? `; ${String(entry.withheld)} withheld` : ''}${entry.reasons.length > 0 ? `: ${entry.reasons.join('; ')}` : ''}`;
  const entity: AuditEventEntity[] = [
    { what: { identifier: { value: entry.requestId } }, type: { system: BALP_ENTITY_TYPE, code: 'XrequestId' } },
    ...[...new Set(entry.patientIds)].sort().map((id) => ({ what: { reference: `Patient/${id}` }, ...PATIENT_ENTITY })),
    ...entry.returned.map((reference) => ({ what: { reference }, ...RETURNED_ENTITY })),
    ...(entry.query !== undefined ? [{ ...QUERY_ENTITY, query: Buffer.from(entry.query, 'utf8').toString('base64') }] : []),
  ];
  return {
    resourceType: 'AuditEvent',
    id: entry.id,
    extension: [
      {
        url: ACCESS_DECISION_EXTENSION,
        extension: [
          { url: 'decision', valueCode: entry.decision },
          { url: 'withheld', valueInteger: entry.withheld },
          ...entry.reasons.map((reason) => ({ url: 'reason', valueString: reason })),
        ],
      },
    ],
    type: REST_TYPE,
    subtype,
    action,
    recorded: entry.recorded,
    outcome: outcomeCode(entry.decision),
    outcomeDesc: decisionText,
    purposeOfEvent: [{ coding: [{ system: V3_ACT_REASON, code: entry.requester.purposeOfUse }] }],
    agent: agents(entry.requester, entry.client),
    source: {
      observer: { identifier: { system: CAREBRIDGE_NODE_SYSTEM, value: node }, display: `CareBridge ${node}` },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity,
  };
}

/** An AuditHook record as an entry. Patients: the request's, the record's, and those found for what was returned. */
export function entryFromRecord(record: AuditRecord, id: string, recorded: string, patientsOfReturned: readonly string[]): AuditEntry {
  const patients = new Set<string>([...(record.request.patientId ? [record.request.patientId] : []), ...(record.patientIds ?? []), ...patientsOfReturned]);
  return {
    id,
    recorded,
    requestId: record.request.requestId,
    requester: record.request.requester,
    client: record.request.client,
    what: record.request.interaction,
    decision: record.outcome,
    reasons: record.reasons ?? [],
    patientIds: [...patients].sort(),
    returned: record.returned,
    withheld: record.withheld,
    query: record.query,
  };
}

export function entryFromOperation(op: OperationRecord, id: string, recorded: string): AuditEntry {
  return {
    id,
    recorded,
    requestId: op.requestId,
    requester: op.requester,
    client: op.client,
    what: op.operation,
    decision: op.outcome,
    reasons: op.reasons ?? [],
    patientIds: [...new Set(op.patientIds)].sort(),
    returned: op.entities ?? [],
    withheld: 0,
    query: op.query,
  };
}

/** The indexed columns of audit_event, derived from the event alone (so verify can check them). */
export interface AuditColumns {
  readonly id: string;
  readonly recorded: string;
  readonly requestId: string | null;
  readonly userId: string;
  readonly organisation: string | null;
  readonly role: string | null;
  readonly purpose: string | null;
  readonly interaction: string;
  readonly outcome: string;
  readonly patientIds: readonly string[];
}

export function decisionOf(event: AuditEvent): { decision: string; withheld: number; reasons: string[] } {
  const ext = event.extension?.find((e) => e.url === ACCESS_DECISION_EXTENSION)?.extension ?? [];
  return {
    decision: ext.find((e) => e.url === 'decision')?.valueCode ?? '',
    withheld: ext.find((e) => e.url === 'withheld')?.valueInteger ?? 0,
    reasons: ext.filter((e) => e.url === 'reason').map((e) => e.valueString ?? ''),
  };
}

const agentOfType = (event: AuditEvent, code: string): AuditEventAgent[] =>
  event.agent.filter((a) => a.type?.coding?.some((c) => c.system === AUDIT_AGENT_TYPE_SYSTEM && c.code === code));

export function auditColumns(event: AuditEvent): AuditColumns {
  const user = event.agent.find((a) => a.requestor);
  const operation = event.subtype?.find((c) => c.system === AUDIT_OPERATION_SYSTEM)?.code;
  const rest = event.subtype?.find((c) => c.system === RESTFUL_INTERACTION)?.code;
  return {
    id: event.id ?? '',
    recorded: event.recorded,
    requestId: event.entity?.find((e) => e.type?.system === BALP_ENTITY_TYPE && e.type.code === 'XrequestId')?.what?.identifier?.value ?? null,
    userId: user?.who?.identifier?.system === CAREBRIDGE_SYSTEM_SYSTEM ? `system:${user.who.identifier.value ?? ''}` : (user?.who?.identifier?.value ?? ''),
    organisation: qualifiedOf(agentOfType(event, 'organisation')[0]?.who?.identifier) ?? null,
    role: user?.role?.[0]?.coding?.[0]?.code ?? null,
    purpose: event.purposeOfEvent?.[0]?.coding?.[0]?.code ?? null,
    interaction: operation ?? rest ?? '',
    outcome: decisionOf(event).decision,
    patientIds: (event.entity ?? [])
      .filter((e) => e.role?.system === OBJECT_ROLE && e.role.code === '1' && e.what?.reference?.startsWith('Patient/'))
      .map((e) => (e.what?.reference ?? '').slice('Patient/'.length))
      .sort(),
  };
}

/** References of what was returned (entities of role Domain Resource). */
export function returnedOf(event: AuditEvent): string[] {
  return (event.entity ?? []).filter((e) => e.role?.system === OBJECT_ROLE && e.role.code === '4').map((e) => e.what?.reference ?? '');
}

export function teamsOf(event: AuditEvent): string[] {
  return agentOfType(event, 'team').flatMap((a) => {
    const q = qualifiedOf(a.who?.identifier);
    return q ? [q] : [];
  });
}
