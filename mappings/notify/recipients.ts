import type { CareTeam, CareTeamParticipant, EpisodeOfCare, Identifier, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { registeredGeneralPractitioners } from '../identity/registered-practice';
import { CARE_HOME_RESIDENCE_EXTENSION, CQC_LOCATION_SYSTEM, ODS_ORGANIZATION_SYSTEM, ONS_LOCAL_AUTHORITY_SYSTEM, qualifiedId } from '../identifiers';

/**
 * Who is told about a person's hospital events, read from the record (issue 10): the registered
 * GP practice, the organisations and teams on the active care team or allocation, the care home
 * the person lives in, and the named co-ordinator's team (and the co-ordinator, for a caseload
 * worklist). Pure: the caller passes the person's records (every source's Patient) and a lookup
 * for references that carry no `identifier` (mappings/identifiers.ts, the reference contract).
 */

export const RecipientRole = {
  GP_PRACTICE: 'gp-practice',
  CARE_TEAM: 'care-team',
  CARE_HOME: 'care-home',
  COORDINATOR_TEAM: 'coordinator-team',
  /** A worker (the named co-ordinator): caseload worklists only; subscriptions are by organisation or team. */
  COORDINATOR: 'coordinator',
} as const;
export type RecipientRole = (typeof RecipientRole)[keyof typeof RecipientRole];

export interface Recipient {
  /** `system|value` of an organisation, team or worker (mappings/identifiers.ts qualifiedId). */
  readonly id: string;
  readonly roles: readonly RecipientRole[];
}

export interface PersonRecords {
  readonly patients: readonly Patient[];
  readonly careTeams: readonly CareTeam[];
  readonly episodesOfCare: readonly EpisodeOfCare[];
  /** Resolves `Type/id` to a stored resource (for references without an identifier). */
  readonly lookup: (reference: string) => Resource | undefined;
  /** The event's time: care teams and episodes must be active then. */
  readonly at: string;
}

const ORGANISATION_SYSTEMS = new Set([ODS_ORGANIZATION_SYSTEM, ONS_LOCAL_AUTHORITY_SYSTEM, CQC_LOCATION_SYSTEM]);

/** Identifier systems that name an organisation, a team (`<source>/team`) or a worker (`<source>/worker`). */
export function isPartyIdentifier(identifier: Identifier | undefined): identifier is Identifier & { system: string; value: string } {
  const system = identifier?.system;
  if (!system || !identifier.value) return false;
  return ORGANISATION_SYSTEMS.has(system) || system.endsWith('/team') || system.endsWith('/worker');
}

const isWorker = (id: string): boolean => (id.split('|')[0] ?? '').endsWith('/worker');

/** The party a reference names: its own identifier, else the identifier of the resource it points at. */
export function partyOf(reference: Reference | undefined, lookup: PersonRecords['lookup']): string | undefined {
  if (!reference) return undefined;
  if (isPartyIdentifier(reference.identifier)) return qualifiedId(reference.identifier.system, reference.identifier.value);
  const target = reference.reference ? lookup(reference.reference) : undefined;
  const identifiers = (target as { identifier?: Identifier[] } | undefined)?.identifier ?? [];
  // ODS before anything else: a practice is known by its ODS code everywhere.
  const ranked = [...identifiers].filter(isPartyIdentifier).sort((a, b) => Number(b.system === ODS_ORGANIZATION_SYSTEM) - Number(a.system === ODS_ORGANIZATION_SYSTEM));
  const chosen = ranked[0];
  return chosen ? qualifiedId(chosen.system, chosen.value) : undefined;
}

function activeAt(period: { start?: string; end?: string } | undefined, at: string): boolean {
  const t = Date.parse(at);
  if (Number.isNaN(t) || !period) return true;
  const start = period.start ? Date.parse(period.start) : Number.NEGATIVE_INFINITY;
  // A date-only end means "to the end of that day".
  const end = period.end ? Date.parse(period.end.length === 10 ? `${period.end}T23:59:59.999Z` : period.end) : Number.POSITIVE_INFINITY;
  return t >= start && t <= end;
}

/** A care co-ordinator participant: the social care extract's CARE_COORDINATOR role or allocation type, by code or text. */
export function isCoordinator(participant: CareTeamParticipant): boolean {
  return (participant.role ?? []).some(
    (role) => /co-?ordinator/i.test(role.text ?? '') || (role.coding ?? []).some((c) => /^care[-_ ]?co-?ordinator$/i.test(c.code ?? '') || /care co-?ordinator/i.test(c.display ?? '')),
  );
}

class RecipientSet {
  private readonly roles = new Map<string, Set<RecipientRole>>();
  add(id: string | undefined, role: RecipientRole): void {
    if (!id) return;
    let set = this.roles.get(id);
    if (!set) {
      set = new Set();
      this.roles.set(id, set);
    }
    set.add(role);
  }
  list(): Recipient[] {
    return [...this.roles.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, roles]) => ({ id, roles: [...roles].sort() }));
  }
}

function addCareTeam(set: RecipientSet, team: CareTeam, records: PersonRecords): void {
  if (team.status !== undefined && team.status !== 'active') return;
  if (!activeAt(team.period, records.at)) return;
  const { lookup } = records;
  // The CareTeam itself is a team when it carries a team identifier.
  const ownTeam = (team.identifier ?? []).find((i) => isPartyIdentifier(i) && i.system.endsWith('/team'));
  if (ownTeam?.system && ownTeam.value) set.add(qualifiedId(ownTeam.system, ownTeam.value), RecipientRole.CARE_TEAM);
  for (const organisation of team.managingOrganization ?? []) set.add(partyOf(organisation, lookup), RecipientRole.CARE_TEAM);
  for (const participant of team.participant ?? []) {
    if (!activeAt(participant.period, records.at)) continue;
    const member = partyOf(participant.member, lookup);
    const onBehalfOf = partyOf(participant.onBehalfOf, lookup);
    if (isCoordinator(participant)) {
      if (member && isWorker(member)) set.add(member, RecipientRole.COORDINATOR);
      else set.add(member, RecipientRole.COORDINATOR_TEAM);
      set.add(onBehalfOf, RecipientRole.COORDINATOR_TEAM);
      if (ownTeam?.system && ownTeam.value) set.add(qualifiedId(ownTeam.system, ownTeam.value), RecipientRole.COORDINATOR_TEAM);
    } else {
      // Workers are told through their team or organisation; a worker alone is no subscriber.
      if (member && !isWorker(member)) set.add(member, RecipientRole.CARE_TEAM);
      set.add(onBehalfOf, RecipientRole.CARE_TEAM);
    }
  }
}

/** Every party to tell about an event of this person, with why (sorted by id, stable). */
export function resolveRecipients(records: PersonRecords): Recipient[] {
  const set = new RecipientSet();
  const { lookup } = records;
  // The practice the person is registered with now: after a move, not the one they left.
  for (const gp of registeredGeneralPractitioners(records.patients, new Date(records.at))) {
    // A registered GP (Practitioner) is told through the practice; only organisations count here.
    if (gp.reference?.startsWith('Practitioner/') && !isPartyIdentifier(gp.identifier)) continue;
    const party = partyOf(gp, lookup);
    if (party?.startsWith(`${ODS_ORGANIZATION_SYSTEM}|`)) set.add(party, RecipientRole.GP_PRACTICE);
  }
  for (const patient of records.patients) {
    for (const extension of patient.extension ?? []) {
      if (extension.url === CARE_HOME_RESIDENCE_EXTENSION) set.add(partyOf(extension.valueReference, lookup), RecipientRole.CARE_HOME);
    }
  }
  for (const team of records.careTeams) addCareTeam(set, team, records);
  for (const episode of records.episodesOfCare) {
    if (episode.status !== 'active' && episode.status !== 'waitlist' && episode.status !== 'onhold') continue;
    if (!activeAt(episode.period, records.at)) continue;
    set.add(partyOf(episode.managingOrganization, lookup), RecipientRole.CARE_TEAM);
    for (const team of episode.team ?? []) {
      const party = partyOf(team, lookup);
      if (party) set.add(party, RecipientRole.CARE_TEAM);
      else {
        const careTeam = team.reference ? lookup(team.reference) : undefined;
        if (careTeam?.resourceType === 'CareTeam') addCareTeam(set, careTeam, records);
      }
    }
  }
  return set.list();
}
