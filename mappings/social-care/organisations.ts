import type { Identifier, Organization, Practitioner, PractitionerRole, Reference } from '@medplum/fhirtypes';
import { CQC_LOCATION_SYSTEM, ODS_ORGANIZATION_SYSTEM } from '../identifiers';
import { councilIdentifier, councilId, councilReference, idFor, localSystem, meta, reference, type SocialCareContext } from './context';
import type { ReadCode } from './fields';

/**
 * The council, its teams and workers, care homes, providers and GP practices, identified as the
 * access model needs (specs/access-and-consent.md, "Organisation and team identity"): the council
 * by its ONS code, teams and workers by the extract's TEAM_ID and WORKER_ID under the source's
 * URI, care homes and providers by CQC location id, GP practices by ODS code. Every reference
 * carries the identifier beside `reference` (mappings/identifiers.ts, the reference contract).
 */
const ORGANIZATION_TYPE = 'http://terminology.hl7.org/CodeSystem/organization-type';

export function councilOrganization(context: SocialCareContext): Organization & { id: string } {
  return {
    resourceType: 'Organization',
    id: councilId(context),
    meta: meta(context),
    identifier: [councilIdentifier(context)],
    active: true,
    type: [{ coding: [{ system: ORGANIZATION_TYPE, code: 'govt', display: 'Government' }], text: 'Local authority adult social care' }],
    name: context.council.name,
  };
}

export const teamIdentifier = (context: SocialCareContext, teamId: string): Identifier => ({ system: localSystem.team(context.source), value: teamId });
export const teamId = (context: SocialCareContext, team: string): string => idFor(context, 'Organization', `team|${team}`);

export function teamReference(context: SocialCareContext, team: string, name?: string): Reference<Organization> {
  return reference<Organization>('Organization', teamId(context, team), teamIdentifier(context, team), name);
}

/** A council team: an Organization that is part of the council. */
export function teamOrganization(context: SocialCareContext, team: string, name: string | undefined): Organization & { id: string } {
  return {
    resourceType: 'Organization',
    id: teamId(context, team),
    meta: meta(context),
    identifier: [teamIdentifier(context, team)],
    active: true,
    type: [{ coding: [{ system: ORGANIZATION_TYPE, code: 'team', display: 'Organizational team' }] }],
    ...(name ? { name } : {}),
    partOf: councilReference(context),
  };
}

export const workerIdentifier = (context: SocialCareContext, workerId: string): Identifier => ({ system: localSystem.worker(context.source), value: workerId });
export const practitionerId = (context: SocialCareContext, workerId: string): string => idFor(context, 'Practitioner', `worker|${workerId}`);

export function workerReference(context: SocialCareContext, workerId: string, name?: string): Reference<Practitioner> {
  return reference<Practitioner>('Practitioner', practitionerId(context, workerId), workerIdentifier(context, workerId), name);
}

/** A worker as the source names them ("Jo Bloggs" or "Bloggs, Jo"). */
export function practitioner(context: SocialCareContext, workerId: string, name: string | undefined): Practitioner & { id: string } {
  return {
    resourceType: 'Practitioner',
    id: practitionerId(context, workerId),
    meta: meta(context),
    identifier: [workerIdentifier(context, workerId)],
    active: true,
    ...(name ? { name: [workerName(name)] } : {}),
  };
}

function workerName(name: string): { text: string; family?: string; given?: string[] } {
  const comma = /^([^,]+),\s*(.+)$/.exec(name);
  if (comma) return { text: `${comma[2] ?? ''} ${comma[1] ?? ''}`.trim(), family: (comma[1] ?? '').trim(), given: (comma[2] ?? '').split(/\s+/) };
  const parts = name.split(/\s+/);
  const family = parts.length > 1 ? parts.pop() : undefined;
  return { text: name, ...(family ? { family, given: parts } : {}) };
}

/** The worker in their team: their role, phone and email. */
export function practitionerRole(
  context: SocialCareContext,
  workerId: string,
  team: string | undefined,
  details: { name?: string; teamName?: string; role?: ReadCode<string>; phone?: string; email?: string },
): PractitionerRole & { id: string } {
  const telecom = [
    ...(details.phone ? [{ system: 'phone' as const, value: details.phone, use: 'work' as const }] : []),
    ...(details.email ? [{ system: 'email' as const, value: details.email, use: 'work' as const }] : []),
  ];
  return {
    resourceType: 'PractitionerRole',
    id: idFor(context, 'PractitionerRole', `worker|${workerId}|team|${team ?? ''}`),
    meta: meta(context),
    identifier: [workerIdentifier(context, workerId)],
    active: true,
    practitioner: workerReference(context, workerId, details.name),
    organization: team ? teamReference(context, team, details.teamName) : councilReference(context),
    ...(details.role ? { code: [{ coding: [details.role.coding], text: details.role.coding.display ?? details.role.code }] } : {}),
    ...(telecom.length > 0 ? { telecom } : {}),
  };
}

export const cqcIdentifier = (cqcId: string): Identifier => ({ system: CQC_LOCATION_SYSTEM, value: cqcId });
export const cqcOrganizationId = (context: SocialCareContext, cqcId: string): string => idFor(context, 'Organization', `cqc|${cqcId}`);

/** A care home or care provider by its CQC location id (the source's own record of it). */
export function cqcOrganization(context: SocialCareContext, cqcId: string, name: string | undefined, kind: string): Organization & { id: string } {
  return {
    resourceType: 'Organization',
    id: cqcOrganizationId(context, cqcId),
    meta: meta(context),
    identifier: [cqcIdentifier(cqcId)],
    active: true,
    type: [{ coding: [{ system: ORGANIZATION_TYPE, code: 'prov', display: 'Healthcare Provider' }], text: kind }],
    ...(name ? { name } : {}),
  };
}

export function cqcReference(context: SocialCareContext, cqcId: string, name?: string): Reference<Organization> {
  return reference<Organization>('Organization', cqcOrganizationId(context, cqcId), cqcIdentifier(cqcId), name);
}

export const odsIdentifier = (code: string): Identifier => ({ system: ODS_ORGANIZATION_SYSTEM, value: code });
export const gpPracticeId = (context: SocialCareContext, code: string): string => idFor(context, 'Organization', `ods|${code}`);

/** The registered GP practice as this source knows it: its ODS code and nothing more. */
export function gpPractice(context: SocialCareContext, code: string): Organization & { id: string } {
  return {
    resourceType: 'Organization',
    id: gpPracticeId(context, code),
    meta: meta(context),
    identifier: [odsIdentifier(code)],
    type: [{ coding: [{ system: ORGANIZATION_TYPE, code: 'prov', display: 'Healthcare Provider' }], text: 'GP practice' }],
  };
}

export function gpPracticeReference(context: SocialCareContext, code: string): Reference<Organization> {
  return reference<Organization>('Organization', gpPracticeId(context, code), odsIdentifier(code));
}
