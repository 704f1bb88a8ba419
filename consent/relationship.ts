import type { CareTeam, Encounter, EpisodeOfCare, Patient, Period, Reference, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { CARE_HOME_RESIDENCE_EXTENSION, qualifiedId } from '../mappings/identifiers';
import { registrationRecords } from '../mappings/identity/registered-practice';
import type { AccessGrant, AccessPolicy, AccessRequester, RelationshipFinding, RelationshipKind } from './types';

/**
 * Legitimate relationship, read from the record itself (specs/access-and-consent.md, "Legitimate
 * relationship"). References carry `identifier` (mappings/identifiers.ts, reference contract), so
 * the requester's organisation, teams and worker id (`system|value`) are compared with no joins.
 */

type Who = 'organisation' | 'team' | 'worker';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The `system|value` a reference carries, if it carries a complete identifier. */
export function referenceKey(ref: Reference | undefined): string | undefined {
  const id = ref?.identifier;
  return id?.system && id.value ? qualifiedId(id.system, id.value) : undefined;
}

function whoMatches(requester: AccessRequester, ref: Reference | undefined): Who | undefined {
  const key = referenceKey(ref);
  if (key === undefined) return undefined;
  if (requester.workerId === key) return 'worker';
  if (requester.teams?.includes(key)) return 'team';
  if (requester.organisation === key) return 'organisation';
  return undefined;
}

const time = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

/** A period is current when it has started (or has no start) and has not ended. */
export function periodIsCurrent(period: Period | undefined, now: Date): boolean {
  const start = time(period?.start);
  const end = time(period?.end);
  return (start === undefined || start <= now.getTime()) && (end === undefined || end > now.getTime());
}

/** Ended within the last `days` (and not in the future). */
function endedWithin(period: Period | undefined, now: Date, days: number): boolean {
  const end = time(period?.end);
  return end !== undefined && end <= now.getTime() && now.getTime() - end <= days * DAY;
}

const ref = (r: Resource): string => `${r.resourceType}/${r.id ?? '?'}`;

/** `registration`: the records whose registered practice is believed now (registrationRecords: after a move, the old practice's stale record is not). */
function fromPatient(requester: AccessRequester, patient: Patient, registration: ReadonlySet<Patient>): RelationshipFinding[] {
  if (patient.active === false) return [];
  const found: RelationshipFinding[] = [];
  if (registration.has(patient) && patient.generalPractitioner?.some((gp) => whoMatches(requester, gp) === 'organisation')) {
    found.push({ kind: 'registered-gp', reason: `requester's organisation is the registered GP practice (${ref(patient)})` });
  }
  const residence = patient.extension?.filter((e) => e.url === CARE_HOME_RESIDENCE_EXTENSION) ?? [];
  if (residence.some((e) => whoMatches(requester, e.valueReference) === 'organisation')) {
    found.push({ kind: 'care-home-residence', reason: `the person lives in the requester's care home (${ref(patient)})` });
  }
  return found;
}

function fromCareTeam(requester: AccessRequester, team: CareTeam, now: Date): RelationshipFinding[] {
  if (team.status !== 'active' || !periodIsCurrent(team.period, now)) return [];
  const member = team.participant?.find((p) => periodIsCurrent(p.period, now) && whoMatches(requester, p.member) !== undefined);
  if (member) return [{ kind: 'care-team', reason: `requester's ${whoMatches(requester, member.member) ?? ''} is on the active care team (${ref(team)})` }];
  if (team.managingOrganization?.some((o) => whoMatches(requester, o) === 'organisation')) {
    return [{ kind: 'care-team', reason: `requester's organisation manages the active care team (${ref(team)})` }];
  }
  return [];
}

const OPEN_EPISODE = new Set(['active', 'waitlist', 'onhold']);

function fromEpisode(requester: AccessRequester, episode: EpisodeOfCare, now: Date, policy: AccessPolicy): RelationshipFinding[] {
  const open = OPEN_EPISODE.has(episode.status) && periodIsCurrent(episode.period, now);
  const recent = !open && episode.status !== 'cancelled' && episode.status !== 'entered-in-error' && endedWithin(episode.period, now, policy.recentContactDays);
  if (!open && !recent) return [];
  const found: RelationshipFinding[] = [];
  // An open allocation to the requester or their team is their caseload (care team); the organisation's
  // episode, open or closed within the window, is an episode of care.
  if (open && (whoMatches(requester, episode.careManager) === 'worker' || episode.team?.some((t) => whoMatches(requester, t) !== undefined))) {
    found.push({ kind: 'care-team', reason: `requester or their team is allocated to the open episode of care (${ref(episode)})` });
  }
  const byOrganisation = whoMatches(requester, episode.managingOrganization) === 'organisation';
  const byAllocation = whoMatches(requester, episode.careManager) !== undefined || (episode.team?.some((t) => whoMatches(requester, t) !== undefined) ?? false);
  if (byOrganisation || (recent && byAllocation)) {
    found.push({
      kind: 'episode-of-care',
      reason: open ? `requester's organisation has an open episode of care (${ref(episode)})` : `requester's episode of care closed within ${policy.recentContactDays} days (${ref(episode)})`,
    });
  }
  return found;
}

const OPEN_ENCOUNTER = new Set(['arrived', 'triaged', 'in-progress', 'onleave']);

/** Open: in progress (or arrived, triaged, on leave) and not ended. */
export function encounterIsOpen(encounter: Encounter, now: Date): boolean {
  const end = time(encounter.period?.end);
  return OPEN_ENCOUNTER.has(encounter.status) && (end === undefined || end > now.getTime());
}

function fromEncounter(requester: AccessRequester, encounter: Encounter, now: Date, policy: AccessPolicy): RelationshipFinding[] {
  const open = encounterIsOpen(encounter, now);
  const recent = !open && encounter.status === 'finished' && endedWithin(encounter.period, now, policy.recentContactDays);
  if (!open && !recent) return [];
  const byOrganisation = whoMatches(requester, encounter.serviceProvider) === 'organisation';
  const byParticipant = encounter.participant?.some((p) => whoMatches(requester, p.individual) === 'worker') ?? false;
  if (!byOrganisation && !byParticipant) return [];
  return [
    {
      kind: 'encounter',
      reason: open ? `requester's organisation has an open encounter (${ref(encounter)})` : `requester's organisation had an encounter that closed within ${policy.recentContactDays} days (${ref(encounter)})`,
    },
  ];
}

const OPEN_REFERRAL = new Set(['active', 'on-hold']);

function fromReferral(requester: AccessRequester, referral: ServiceRequest): RelationshipFinding[] {
  if (!OPEN_REFERRAL.has(referral.status)) return [];
  const to = referral.performer?.map((p) => whoMatches(requester, p)).find((w) => w !== undefined);
  return to ? [{ kind: 'open-referral', reason: `an open referral is to the requester's ${to} (${ref(referral)})` }] : [];
}

/** When a grant ends: its recorded expiry, never later than the policy's duration after it was granted. */
export function grantExpiry(grant: Pick<AccessGrant, 'kind' | 'grantedAt'> & { readonly expiresAt?: string }, policy: Pick<AccessPolicy, 'selfClaimHours' | 'breakGlassHours'>): Date | undefined {
  const granted = time(grant.grantedAt);
  if (granted === undefined) return undefined;
  const hours = grant.kind === 'break-glass' ? policy.breakGlassHours : policy.selfClaimHours;
  const cap = granted + hours * HOUR;
  const recorded = time(grant.expiresAt);
  return new Date(recorded === undefined ? cap : Math.min(recorded, cap));
}

/** The grants in force now for this user: started, not expired, with a reason. */
export function activeGrants(requester: AccessRequester, grants: readonly AccessGrant[], now: Date, policy: AccessPolicy): { grant: AccessGrant; expiresAt: Date }[] {
  const out: { grant: AccessGrant; expiresAt: Date }[] = [];
  for (const grant of grants) {
    if (grant.userId !== requester.userId || grant.reason.trim() === '') continue;
    const granted = time(grant.grantedAt);
    const expiresAt = grantExpiry(grant, policy);
    if (granted === undefined || expiresAt === undefined || granted > now.getTime() || expiresAt.getTime() <= now.getTime()) continue;
    out.push({ grant, expiresAt });
  }
  return out;
}

/** Relationships held in the record itself, strongest first. */
export function recordRelationships(requester: AccessRequester, record: readonly Resource[], now: Date, policy: AccessPolicy): RelationshipFinding[] {
  const found: RelationshipFinding[] = [];
  const registration = new Set(registrationRecords(record.filter((r): r is Patient => r.resourceType === 'Patient'), now));
  for (const resource of record) {
    switch (resource.resourceType) {
      case 'Patient':
        found.push(...fromPatient(requester, resource, registration));
        break;
      case 'CareTeam':
        found.push(...fromCareTeam(requester, resource, now));
        break;
      case 'EpisodeOfCare':
        found.push(...fromEpisode(requester, resource, now, policy));
        break;
      case 'Encounter':
        found.push(...fromEncounter(requester, resource, now, policy));
        break;
      case 'ServiceRequest':
        found.push(...fromReferral(requester, resource));
        break;
      default:
        break;
    }
  }
  return found.sort((a, b) => STRENGTH.indexOf(a.kind) - STRENGTH.indexOf(b.kind));
}

const STRENGTH: readonly RelationshipKind[] = ['registered-gp', 'care-team', 'care-home-residence', 'encounter', 'episode-of-care', 'open-referral', 'self-claimed', 'break-glass'];

/** Every relationship: from the record, then granted ones (self-claimed, break-glass) in force now. */
export function findRelationships(requester: AccessRequester, record: readonly Resource[], grants: readonly AccessGrant[], now: Date, policy: AccessPolicy): RelationshipFinding[] {
  const granted = activeGrants(requester, grants, now, policy).map(({ grant, expiresAt }) => ({
    kind: grant.kind,
    reason: grant.kind === 'break-glass' ? 'break-glass in force' : 'self-claimed relationship in force',
    expiresAt: expiresAt.toISOString(),
  }));
  return [...recordRelationships(requester, record, now, policy), ...granted.sort((a, b) => STRENGTH.indexOf(a.kind) - STRENGTH.indexOf(b.kind))];
}
