import type { CareTeam, Encounter, Organization, Patient, Resource } from '@medplum/fhirtypes';
import express, { type Express } from 'express';
import type { Requester } from '../../gateway/access/hooks';
import { outcomeErrorHandler } from '../../gateway/api/fhir-router';
import { createLogger } from '../../gateway/logger';
import { notifyRouter, subscriptionRouter, worklistRouter } from '../../gateway/notify/router';
import type { SqlClient } from '../../gateway/store/engine';
import type { Store } from '../../gateway/store/store';
import { CARE_HOME_RESIDENCE_EXTENSION, CQC_LOCATION_SYSTEM, ODS_ORGANIZATION_SYSTEM, sourceTeamSystem, sourceWorkerSystem } from '../../mappings/identifiers';
import { securityLabels } from '../../mappings/security/labels';
import { syntheticPatient } from '../support/synthetic';

/**
 * A small synthetic world for notification tests: a GP practice, a council's community team with a
 * named co-ordinator, a care home, and people registered with them; hospital events written to the
 * outbox exactly as gateway/hl7v2/apply.ts writes them.
 */
export const PRACTICE = 'Y90001';
export const PRACTICE_ID = `${ODS_ORGANIZATION_SYSTEM}|${PRACTICE}`;
export const OTHER_PRACTICE_ID = `${ODS_ORGANIZATION_SYSTEM}|Y90002`;
export const COUNCIL = 'https://social-care.example-council.invalid';
export const TEAM_ID = `${sourceTeamSystem(COUNCIL)}|T-NORTH`;
export const WORKER_ID = `${sourceWorkerSystem(COUNCIL)}|W-17`;
export const CARE_HOME_ID = `${CQC_LOCATION_SYSTEM}|1-000000001`;
export const HOSPITAL_SOURCE = 'https://pas.northfield-trust.invalid/hl7v2';

export function gpSystem(organisation = PRACTICE_ID): Requester {
  return { userId: 'gp-system', system: 'gp-practice-system', organisation, purposeOfUse: 'TREAT' };
}

export function person(n: number, options: { practice?: string; careHome?: boolean; restricted?: boolean } = {}): Patient {
  const [system, value] = (options.practice ?? PRACTICE_ID).split('|') as [string, string];
  return syntheticPatient(n, {
    ...(options.restricted ? { meta: { security: securityLabels([], 'R') } } : {}),
    generalPractitioner: [{ reference: `Organization/org-${value}`, identifier: { system, value } }],
    ...(options.careHome ? { extension: [{ url: CARE_HOME_RESIDENCE_EXTENSION, valueReference: { reference: 'Organization/care-home', identifier: { system: CQC_LOCATION_SYSTEM, value: '1-000000001' } } }] } : {}),
  });
}

export function communityTeam(patientId: string): CareTeam {
  return {
    resourceType: 'CareTeam',
    id: `ct-${patientId}`,
    status: 'active',
    subject: { reference: `Patient/${patientId}` },
    participant: [
      { role: [{ coding: [{ code: 'CARE_COORDINATOR', display: 'Care co-ordinator' }] }], member: { reference: 'Practitioner/w17', identifier: { system: sourceWorkerSystem(COUNCIL), value: 'W-17' } }, onBehalfOf: { reference: 'Organization/team-north', identifier: { system: sourceTeamSystem(COUNCIL), value: 'T-NORTH' } } },
    ],
  };
}

export function ward(): Organization[] {
  return [{ resourceType: 'Organization', id: 'hospital', identifier: [{ system: ODS_ORGANIZATION_SYSTEM, value: 'RZZ' }] }];
}

export function stay(id: string, patientId: string, fields: Partial<Encounter> = {}): Encounter {
  return {
    resourceType: 'Encounter',
    id,
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: `Patient/${patientId}` },
    serviceProvider: { reference: 'Organization/hospital' },
    location: [{ location: { reference: 'Location/ward-7', display: 'Ward 7' }, status: 'active' }],
    ...fields,
  };
}

export const WARD_LOCATION: Resource = { resourceType: 'Location', id: 'ward-7', name: 'Ward 7', physicalType: { coding: [{ code: 'wa' }] } };

let inboxSeq = 1_000_000;

/** An outbox row as the hospital feed writes it. */
export async function recordEvent(db: SqlClient, event: { kind: string; patientId: string; encounterId: string; eventTime: string; changedState?: boolean }): Promise<string> {
  inboxSeq++;
  const rows = await db.query<{ id: string }>(
    `INSERT INTO outbox (kind, patient_id, encounter_id, source, inbox_id, event_time, payload) VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::jsonb) RETURNING id::text AS id`,
    [event.kind, event.patientId, event.encounterId, HOSPITAL_SOURCE, inboxSeq, event.eventTime, JSON.stringify({ trigger: 'test', controlId: `C${String(inboxSeq)}`, changedState: event.changedState ?? true })],
  );
  return rows.rows[0]?.id as string;
}

/** A subscription's status as stored. */
export async function subscriptionStatus(db: SqlClient, id: string): Promise<string | undefined> {
  const rows = await db.query<{ status: string }>(`SELECT status FROM notify_subscription WHERE id = $1`, [id]);
  return rows.rows[0]?.status;
}

/** The three routers on an app, as app.ts mounts them, with a test's requester. */
export function notifyApp(store: Store, requester: () => Requester | undefined, options: { emailEnabled?: boolean; now?: () => Date } = {}): Express {
  const app = express();
  app.use('/fhir/Subscription', subscriptionRouter({ db: store.engine, requester, allowHttp: true, emailEnabled: options.emailEnabled ?? false, publicBaseUrl: 'https://carebridge.test' }));
  app.use('/worklist', worklistRouter({ db: store.engine, requester, ...(options.now ? { now: options.now } : {}) }));
  app.use('/notify', notifyRouter({ db: store.engine, requester }));
  app.use(outcomeErrorHandler(createLogger('silent')));
  return app;
}

/** A subscription as a system would POST it; the timeout is generous so a loaded test machine does not cause retries. */
export function subscriptionBody(topic: string, endpoint: string, recipient = PRACTICE_ID, extra: Record<string, unknown> = {}, timeoutSeconds = 10): Record<string, unknown> {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Tell the practice',
    criteria: `https://carebridge.nhs.uk/fhir/SubscriptionTopic/${topic}`,
    _criteria: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria', valueString: `recipient=${recipient}` }] },
    channel: {
      type: endpoint.startsWith('mailto:') ? 'email' : 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: 'id-only' }] },
      extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-timeout', valueUnsignedInt: timeoutSeconds }],
    },
    ...extra,
  };
}
