import type { Resource } from '@medplum/fhirtypes';
import type { Request } from 'express';
import type { Recipient } from '../../mappings/notify/recipients';
import type { Topic } from '../../mappings/notify/topics';
import type { Requester } from '../access/hooks';

/**
 * The seams the access-control work fills in. Every default refuses rather than opens: no
 * requester means 401, and a notification goes only to parties the record names, about events
 * whose resources carry no restricted label. Production replaces the notification check with the
 * consent decision (consent-access.ts).
 */

/** An event as the access check sees it. */
export interface NotifyEventView {
  readonly outboxId: string;
  readonly kind: string;
  readonly topic: Topic | undefined;
  readonly patientId: string | undefined;
  readonly encounterId: string | undefined;
  /** Who the record says is responsible for the person (resolved recipients). */
  readonly recipients: readonly Recipient[];
  /** The event's own resources (the Encounter, the Patient it names), labels and all. */
  readonly resources: readonly Resource[];
  /** Any of them labelled restricted or very restricted. */
  readonly restricted: boolean;
  /**
   * The person's resources the access rules read (consent/ AccessInput.record): every source's
   * Patient, their CareTeams and EpisodesOfCare, the event's Encounter, and their Consents.
   */
  readonly record: readonly Resource[];
  /** meta.source → the organisation holding that data (gateway/access/source-systems.ts). */
  readonly sourceOrganisations: Readonly<Record<string, string>>;
}

/** Why a recipient is not told: a code for status and metrics, never content. */
export const WithheldBy = {
  /** The record does not name the recipient for the person (no resolved relationship). */
  NO_RELATIONSHIP: 'no-relationship',
  /** A resource of the event is labelled restricted or very restricted (the default check). */
  RESTRICTED: 'restricted',
  /** The recipient is not in the directory, or no role can be given to it. */
  UNKNOWN_RECIPIENT: 'unknown-recipient',
  /** The access decision denies the person: their objection, a refusal for the recipient's class, a consent the class needs. */
  DENIED: 'denied',
  /** The recipient's role sees neither encounters nor the passport (or the person refused the type). */
  CATEGORY: 'category',
  /** A security label the recipient's role is not granted. */
  LABEL: 'label',
  /** The person's decisions withhold the data of the event's source from the recipient. */
  SOURCE: 'source',
} as const;
export type WithheldBy = (typeof WithheldBy)[keyof typeof WithheldBy];

export type NotificationVerdict =
  | { readonly told: true }
  | {
      readonly told: false;
      readonly reason: WithheldBy;
      /** The decision's own words (consent/ reasons: no patient data), for the withheld record. */
      readonly detail?: string;
    };

/** May this recipient (`system|value` of an organisation, team or worker) be told about this event? */
export type NotificationAccessCheck = (event: NotifyEventView, recipient: string) => NotificationVerdict;

export const TOLD: NotificationVerdict = { told: true };

/** Default: a legitimate relationship by the record (a resolved recipient) and nothing restricted. */
export const relationshipAndNoRestrictedLabel: NotificationAccessCheck = (event, recipient) => {
  if (!event.recipients.some((r) => r.id === recipient)) return { told: false, reason: WithheldBy.NO_RELATIONSHIP };
  if (event.restricted) return { told: false, reason: WithheldBy.RESTRICTED };
  return TOLD;
};

/** Who is asking, from a verified token (gateway/auth); undefined answers 401. */
export type RequesterResolver = (req: Request) => Requester | undefined | Promise<Requester | undefined>;

/** Until authentication is wired, nobody is anyone. */
export const nobody: RequesterResolver = () => undefined;

/** May this requester create, read or delete subscriptions for this recipient? */
export type SubscriptionPermission = (requester: Requester, recipient: string) => boolean;

/** Default: systems only, for their own organisation (or a team the token names). */
export const ownOrganisationSystemsOnly: SubscriptionPermission = (requester, recipient) =>
  requester.system !== undefined && (requester.organisation === recipient || (requester.teams ?? []).includes(recipient));

export const WorklistScope = { ORGANISATION: 'org', TEAM: 'team', CASELOAD: 'worker' } as const;
export type WorklistScope = (typeof WorklistScope)[keyof typeof WorklistScope];

/** May this requester see (and acknowledge) the worklist of this organisation, team or caseload? */
export type WorklistPermission = (requester: Requester, scope: WorklistScope, party: string) => boolean;

/** Default: your own organisation, one of your teams, your own caseload. */
export const ownPartiesOnly: WorklistPermission = (requester, scope, party) => {
  switch (scope) {
    case WorklistScope.ORGANISATION:
      return requester.organisation === party;
    case WorklistScope.TEAM:
      return (requester.teams ?? []).includes(party);
    case WorklistScope.CASELOAD:
      return requester.workerId === party;
  }
};

/** An acknowledgement, for the audit trail the access-control work keeps. */
export interface AcknowledgementRecord {
  readonly requester: Requester;
  readonly itemId: string;
  readonly recipient: string;
  readonly patientId: string | undefined;
  readonly at: string;
  /** The request that acknowledged it (X-Request-Id), for the audit entry. */
  readonly requestId?: string;
  /** Whether this request recorded the acknowledgement (false: it had been acknowledged already). */
  readonly recorded?: boolean;
}

export type AcknowledgementAudit = (record: AcknowledgementRecord) => Promise<void>;
export const noAcknowledgementAudit: AcknowledgementAudit = () => Promise.resolve();
