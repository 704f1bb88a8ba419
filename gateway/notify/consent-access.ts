import { BASELINE_RULES, decideAccess, type AccessRules } from '../../consent/decide';
import { notificationWithheld } from '../../consent/notification';
import type { AccessRequester, RelationshipFinding, RelationshipKind } from '../../consent/types';
import { sourceWorkerSystem } from '../../mappings/identifiers';
import { RecipientRole, type Recipient } from '../../mappings/notify/recipients';
import { OrganisationKind, type Directory, type DirectoryOrganisation } from '../auth/directory';
import { CareRole } from '../auth/roles';
import { TOLD, WithheldBy, type NotificationAccessCheck, type NotificationVerdict } from './access';

/**
 * The production notification check: each recipient the record names is asked about as the
 * Caldicott decision of consent/ would be asked about a reader from that organisation or team
 * (specs/access-and-consent.md), with the person's Consents. Who the recipient is comes from the
 * directory (gateway/auth/directory.ts): its organisation, kind and so its role; its relationship
 * is the one the recipient resolution read from the record (registered GP practice, care team,
 * care home of residence). What is withheld: everything for a recipient the directory does not
 * know; the whole event when the decision denies the person (their objection, a refusal of
 * sharing with the recipient's class, a class that needs consent given), when the role sees
 * neither encounters nor passports, when a resource of the event carries a label the role is not
 * granted, or when its source is one the person's decisions keep from the recipient
 * (consent/notification.ts).
 */

/**
 * The role a notification to an organisation is judged as, by the organisation's kind: the
 * clinical (or care) role its staff read the record with. A team takes the role the directory's
 * role mappings give that team, when they give exactly one; otherwise its organisation's.
 */
export const ROLE_BY_ORGANISATION_KIND: Readonly<Record<OrganisationKind, CareRole>> = {
  [OrganisationKind.GP_PRACTICE]: CareRole.GP,
  [OrganisationKind.ACUTE_TRUST]: CareRole.HOSPITAL_CLINICIAN,
  [OrganisationKind.COMMUNITY_TRUST]: CareRole.COMMUNITY_NURSE,
  [OrganisationKind.MENTAL_HEALTH_TRUST]: CareRole.MENTAL_HEALTH,
  [OrganisationKind.AMBULANCE_TRUST]: CareRole.URGENT_CARE,
  [OrganisationKind.COUNCIL]: CareRole.SOCIAL_WORKER,
  [OrganisationKind.CARE_HOME]: CareRole.CARE_HOME_STAFF,
  [OrganisationKind.VOLUNTARY]: CareRole.VOLUNTARY_SECTOR,
};

/** Why the record names the recipient, as the relationship kind the rules know. */
const RELATIONSHIP_BY_RECIPIENT_ROLE: Readonly<Record<RecipientRole, { kind: RelationshipKind; reason: string }>> = {
  [RecipientRole.GP_PRACTICE]: { kind: 'registered-gp', reason: 'the record names the recipient as the registered GP practice' },
  [RecipientRole.CARE_TEAM]: { kind: 'care-team', reason: 'the record names the recipient on the active care team or allocation' },
  [RecipientRole.CARE_HOME]: { kind: 'care-home-residence', reason: 'the record names the recipient as the care home the person lives in' },
  [RecipientRole.COORDINATOR_TEAM]: { kind: 'care-team', reason: "the record names the recipient as the care co-ordinator's team" },
  [RecipientRole.COORDINATOR]: { kind: 'care-team', reason: 'the record names the recipient as the care co-ordinator' },
};

export type NotificationDirectory = Pick<Directory, 'organisation' | 'team' | 'systems' | 'roleMappings'>;

function teamRole(directory: NotificationDirectory, teamId: string, organisation: DirectoryOrganisation): CareRole | undefined {
  const roles = new Set(
    directory.roleMappings
      .filter(
        (m) =>
          m.role !== undefined &&
          m.teams.includes(teamId) &&
          (m.organisations.length === 0 || m.organisations.includes(organisation.id)) &&
          (m.organisationKinds.length === 0 || m.organisationKinds.includes(organisation.kind)),
      )
      .map((m) => m.role as CareRole),
  );
  if (roles.size > 1) return undefined;
  return [...roles][0] ?? ROLE_BY_ORGANISATION_KIND[organisation.kind];
}

/**
 * The recipient as a requester of consent/: its organisation, team or worker id and role, or
 * undefined when the directory does not know it (or gives it no single role): told nothing.
 */
export function notifiedRequester(directory: NotificationDirectory, recipient: Recipient): AccessRequester | undefined {
  const base = { userId: `notification:${recipient.id}`, purposeOfUse: 'TREAT' as const };
  const organisation = directory.organisation(recipient.id);
  if (organisation) return { ...base, role: ROLE_BY_ORGANISATION_KIND[organisation.kind], organisation: organisation.id };
  const team = directory.team(recipient.id);
  if (team) {
    const role = teamRole(directory, recipient.id, team.organisation);
    return role ? { ...base, role, organisation: team.organisation.id, teams: [recipient.id] } : undefined;
  }
  // A named co-ordinator (caseload worklists): a worker of a source system the directory lists, at its organisation.
  const system = recipient.id.slice(0, Math.max(0, recipient.id.indexOf('|')));
  if (recipient.roles.includes(RecipientRole.COORDINATOR)) {
    const source = directory.systems.find((s) => s.organisation !== undefined && sourceWorkerSystem(s.sourceUri) === system);
    const employer = source?.organisation ? directory.organisation(source.organisation) : undefined;
    if (employer) return { ...base, role: CareRole.CARE_COORDINATOR, organisation: employer.id, workerId: recipient.id };
  }
  return undefined;
}

export interface ConsentNotificationAccessOptions {
  readonly directory: NotificationDirectory;
  readonly rules?: AccessRules;
  readonly now?: () => Date;
  /** meta.source → organisation from configuration (the directory's systems); the store's registrations win. */
  readonly staticSources?: Readonly<Record<string, string>>;
}

/** The directory's systems as meta.source → organisation (what composeAccess gives the read path). */
export function directorySources(directory: Pick<Directory, 'systems'>): Record<string, string> {
  return Object.fromEntries(directory.systems.flatMap((s) => (s.organisation ? [[s.sourceUri, s.organisation] as const] : [])));
}

export function consentNotificationAccess(options: ConsentNotificationAccessOptions): NotificationAccessCheck {
  const base = options.rules ?? BASELINE_RULES;
  // Permission to view is asked when someone opens the record in a session; a notification opens nothing.
  const rules: AccessRules = { ...base, policy: { ...base.policy, requirePermissionToView: false } };
  const now = options.now ?? ((): Date => new Date());
  const staticSources = options.staticSources ?? directorySources(options.directory);
  return (event, recipientId): NotificationVerdict => {
    const recipient = event.recipients.find((r) => r.id === recipientId);
    if (!recipient) return { told: false, reason: WithheldBy.NO_RELATIONSHIP };
    const requester = notifiedRequester(options.directory, recipient);
    if (!requester) return { told: false, reason: WithheldBy.UNKNOWN_RECIPIENT };
    const establishedRelationships: RelationshipFinding[] = recipient.roles.map((role) => RELATIONSHIP_BY_RECIPIENT_ROLE[role]);
    const decision = decideAccess({ requester, record: event.record, establishedRelationships, sourceOrganisations: { ...event.sourceOrganisations, ...staticSources } }, now(), rules);
    const withheld = notificationWithheld(decision, event.resources);
    switch (withheld) {
      case undefined:
        return TOLD;
      case 'denied':
        return { told: false, reason: WithheldBy.DENIED, ...(decision.reasons.length > 0 ? { detail: decision.reasons[decision.reasons.length - 1] as string } : {}) };
      case 'category':
        return { told: false, reason: WithheldBy.CATEGORY };
      case 'label':
        return { told: false, reason: WithheldBy.LABEL };
      case 'source':
        return { told: false, reason: WithheldBy.SOURCE };
    }
  };
}
