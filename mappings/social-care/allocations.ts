import type { CareTeam, CareTeamParticipant, ContactPoint, EpisodeOfCare, Reference, Resource } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { ALLOCATION_TYPE, WORKER_ROLE } from './codes';
import { contractCodeSystem, councilReference, idFor, IssueCode, meta, patientReference, reference, RowIssues, type Retirement, type SocialCareContext } from './context';
import { code, extractDate, period, text, type ReadCode, type RowReader } from './fields';
import { practitioner, practitionerRole, teamIdentifier, teamOrganization, teamReference, workerReference } from './organisations';
import { endedBy, readerFor, type RowMapping } from './row-result';

/**
 * allocations.csv: each row names a worker (Practitioner, and a PractitionerRole in their team with
 * phone and email) and a team (an Organization, part of the council). A person's allocations
 * together are their social care CareTeam (the named care co-ordinator and key worker first, their
 * contact details on the team), and their open cases (specs/social-care-extract.md: an allocation
 * without an END_DATE, or ending in the future) are one EpisodeOfCare per allocated team, from the
 * earliest such allocation's start. A team whose allocations have all ended keeps its episode,
 * finished.
 */
export const SOCIAL_CARE_TEAM_CATEGORY = { system: contractCodeSystem('CARE_TEAM'), code: 'social-care-allocation', display: 'Adult social care allocation' } as const;
export const SOCIAL_CARE_EPISODE_TYPE = { system: contractCodeSystem('EPISODE'), code: 'adult-social-care', display: 'Adult social care case' } as const;
export const ALLOCATED_TEAM_ROLE = { system: contractCodeSystem('ALLOCATION_TYPE'), code: 'ALLOCATED_TEAM', display: 'Allocated team' } as const;

/** Row-level: the worker and team the allocation names (shared resources, merged by the importer). */
export function mapAllocationRow(context: SocialCareContext, row: SourceRow): RowMapping {
  const r = readerFor(context, row, 'ALLOCATION_ID');
  const a = readAllocation(r);
  const resources: (Resource & { id: string })[] = [];
  if (!a.worker && !a.team) r.issues.warning(IssueCode.INCONSISTENT, 'WORKER_ID', 'The allocation names neither a worker nor a team');
  if (a.team) resources.push(teamOrganization(context, a.team, a.teamName));
  if (a.worker) {
    resources.push(practitioner(context, a.worker, a.workerName));
    resources.push(practitionerRole(context, a.worker, a.team, { name: a.workerName, teamName: a.teamName, role: a.role, phone: a.phone, email: a.email }));
  }
  return { resources, issues: r.issues.items };
}

interface Allocation {
  readonly id: string;
  readonly worker?: string;
  readonly workerName?: string;
  readonly role?: ReadCode<keyof typeof WORKER_ROLE>;
  readonly phone?: string;
  readonly email?: string;
  readonly team?: string;
  readonly teamName?: string;
  readonly type?: ReadCode<keyof typeof ALLOCATION_TYPE>;
  readonly period?: { start?: string; end?: string };
}

function readAllocation(r: RowReader, retirement?: Retirement): Allocation {
  const value = (c: string): Record<string, string> => {
    const v = text(r, c);
    return v === undefined ? {} : { [c]: v };
  };
  const when = endedBy(period(r, 'START_DATE', 'END_DATE'), retirement);
  const role = code(r, 'WORKER_ROLE', WORKER_ROLE);
  const type = code(r, 'ALLOCATION_TYPE', ALLOCATION_TYPE);
  const v = { ...value('WORKER_ID'), ...value('WORKER_NAME'), ...value('WORKER_PHONE'), ...value('WORKER_EMAIL'), ...value('TEAM_ID'), ...value('TEAM_NAME') };
  return {
    id: text(r, 'ALLOCATION_ID') ?? '',
    ...(v['WORKER_ID'] ? { worker: v['WORKER_ID'] } : {}),
    ...(v['WORKER_NAME'] ? { workerName: v['WORKER_NAME'] } : {}),
    ...(v['WORKER_PHONE'] ? { phone: v['WORKER_PHONE'] } : {}),
    ...(v['WORKER_EMAIL'] ? { email: v['WORKER_EMAIL'] } : {}),
    ...(v['TEAM_ID'] ? { team: v['TEAM_ID'] } : {}),
    ...(v['TEAM_NAME'] ? { teamName: v['TEAM_NAME'] } : {}),
    ...(role ? { role } : {}),
    ...(type ? { type } : {}),
    ...(when ? { period: when } : {}),
  };
}

/** A stored allocation row of the person, and whether (and since when) the source no longer holds it. */
export interface PersonRow {
  readonly row: SourceRow;
  readonly retirement?: Retirement;
}

const isCurrent = (a: Allocation, today: string): boolean => a.period?.end === undefined || a.period.end > today;
const TYPE_ORDER: Readonly<Record<string, number>> = { CARE_COORDINATOR: 0, KEY_WORKER: 1, INVOLVED: 2 };
const byImportance = (a: Allocation, b: Allocation): number =>
  (TYPE_ORDER[a.type?.known ?? ''] ?? 3) - (TYPE_ORDER[b.type?.known ?? ''] ?? 3) || (a.period?.start ?? '').localeCompare(b.period?.start ?? '') || a.id.localeCompare(b.id);

function minStart(list: readonly Allocation[]): string | undefined {
  return list.map((a) => a.period?.start).filter((s): s is string => s !== undefined).sort()[0];
}
function maxEnd(list: readonly Allocation[]): string | undefined {
  return list.map((a) => a.period?.end).filter((s): s is string => s !== undefined).sort().at(-1);
}

/** The person's CareTeam and EpisodeOfCare resources from all their allocation rows (issues were reported row by row). */
export function mapPersonAllocations(context: SocialCareContext, personId: string, rows: readonly PersonRow[]): (Resource & { id: string })[] {
  if (rows.length === 0) return [];
  const today = extractDate(context);
  const allocations = rows
    .map(({ row, retirement }) => ({ ...readAllocation({ context, row, issues: new RowIssues(row) }, retirement), retired: retirement !== undefined }))
    .sort(byImportance);
  const current = allocations.filter((a) => isCurrent(a, today));
  const careTeamId = idFor(context, 'CareTeam', `allocations|${personId}`);
  const participant: CareTeamParticipant[] = [];
  for (const a of allocations) {
    const role = [
      ...(a.type ? [{ coding: [a.type.coding], text: a.type.coding.display ?? a.type.code }] : []),
      ...(a.role ? [{ coding: [a.role.coding], text: a.role.coding.display ?? a.role.code }] : []),
    ];
    const member = a.worker ? workerReference(context, a.worker, a.workerName) : a.team ? teamReference(context, a.team, a.teamName) : undefined;
    if (!member) continue;
    participant.push({
      ...(role.length ? { role } : {}),
      member,
      ...(a.worker && a.team ? { onBehalfOf: teamReference(context, a.team, a.teamName) } : {}),
      ...(a.period ? { period: a.period } : {}),
    });
  }
  const teams = [...new Set(allocations.map((a) => a.team ?? ''))].sort();
  for (const team of teams.filter(Boolean)) {
    const ofTeam = allocations.filter((a) => a.team === team);
    const open = ofTeam.some((a) => isCurrent(a, today));
    const start = minStart(ofTeam);
    const end = open ? undefined : maxEnd(ofTeam);
    participant.push({
      role: [{ coding: [{ ...ALLOCATED_TEAM_ROLE }] }],
      member: teamReference(context, team, ofTeam.find((a) => a.teamName)?.teamName),
      ...(start || end ? { period: { ...(start ? { start } : {}), ...(end ? { end } : {}) } } : {}),
    });
  }
  // The named co-ordinator's (else the key worker's) phone and email are the team's contact details.
  const contact = current.find((a) => a.type?.known === 'CARE_COORDINATOR' && (a.phone || a.email)) ?? current.find((a) => a.type?.known === 'KEY_WORKER' && (a.phone || a.email));
  const telecom: ContactPoint[] = [
    ...(contact?.phone ? [{ system: 'phone' as const, value: contact.phone, use: 'work' as const }] : []),
    ...(contact?.email ? [{ system: 'email' as const, value: contact.email, use: 'work' as const }] : []),
  ];
  const active = current.length > 0;
  const start = minStart(allocations);
  const end = active ? undefined : maxEnd(allocations);
  const allRetired = allocations.every((a) => a.retired);
  const careTeam: CareTeam & { id: string } = {
    resourceType: 'CareTeam',
    id: careTeamId,
    meta: meta(context, [], 'N', allRetired),
    status: active ? 'active' : 'inactive',
    category: [{ coding: [{ ...SOCIAL_CARE_TEAM_CATEGORY }] }],
    name: `${context.council.name}: allocated workers`,
    subject: patientReference(context, personId),
    ...(start || end ? { period: { ...(start ? { start } : {}), ...(end ? { end } : {}) } } : {}),
    ...(participant.length ? { participant } : {}),
    managingOrganization: [councilReference(context)],
    ...(telecom.length ? { telecom } : {}),
  };
  const out: (Resource & { id: string })[] = [careTeam];
  for (const team of teams) {
    const ofTeam = allocations.filter((a) => (a.team ?? '') === team);
    const open = ofTeam.filter((a) => isCurrent(a, today));
    const teamName = ofTeam.find((a) => a.teamName)?.teamName;
    const episodeStart = minStart(open.length ? open : ofTeam);
    const episodeEnd = open.length ? undefined : maxEnd(ofTeam);
    const manager = [...open, ...ofTeam].find((a) => a.worker && a.type?.known === 'CARE_COORDINATOR') ?? [...open, ...ofTeam].find((a) => a.worker && a.type?.known === 'KEY_WORKER');
    // EpisodeOfCare.team is a CareTeam reference: the person's care team, carrying the allocated team's identifier for the access rules.
    const teamRef: Reference<CareTeam> | undefined = team ? reference<CareTeam>('CareTeam', careTeamId, teamIdentifier(context, team), teamName) : undefined;
    out.push({
      resourceType: 'EpisodeOfCare',
      id: idFor(context, 'EpisodeOfCare', `case|${personId}|team|${team}`),
      meta: meta(context, [], 'N', ofTeam.every((a) => a.retired)),
      status: open.length ? 'active' : 'finished',
      type: [{ coding: [{ ...SOCIAL_CARE_EPISODE_TYPE }] }],
      patient: patientReference(context, personId),
      managingOrganization: councilReference(context),
      ...(episodeStart || episodeEnd ? { period: { ...(episodeStart ? { start: episodeStart } : {}), ...(episodeEnd ? { end: episodeEnd } : {}) } } : {}),
      ...(manager?.worker ? { careManager: workerReference(context, manager.worker, manager.workerName) } : {}),
      ...(teamRef ? { team: [teamRef] } : {}),
    } satisfies EpisodeOfCare & { id: string });
  }
  return out;
}
