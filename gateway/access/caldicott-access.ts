import type { Patient, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';
import { BASELINE_RULES, decideAccess, decideResource, type AccessRules } from '../../consent/decide';
import type { AccessAlert, AccessDecision, AccessGrant, PermissionToViewRecord } from '../../consent/types';
import { patientCompartmentParams } from '../fhir/definitions';
import { NOTHING_SCOPE, SYSTEM_SCOPE, type AccessScope } from '../store/access-scope';
import type { SqlClient } from '../store/engine';
import { readMatches, type ScopedMatch } from '../store/resource-reader';
import type { SearchQuery } from '../store/search-query';
import { GrantKind, grantsAt, type Grant } from './grants';
import { AccessRefusal, Interaction, type AccessExplanation, type AccessHook, type ReadRequest, type Requester } from './hooks';
import { compartmentOf, loadPersonRecord, readPersonAndEpoch, type PersonAndEpoch } from './person-record';
import { sourceOrganisations } from './source-systems';
import { nextChange } from '../../consent/validity';
import { sameList } from '../identity/resolver';
import { DecisionCache, DEFAULT_DECISION_CACHE } from './decision-cache';

/**
 * The access hook of the shared record: for every read, whose record it is about, the decision of
 * consent/ for that person (role, legitimate relationship, the person's consents, labels), turned
 * into SQL before paging (AccessScope) and applied again to each resource read (minimum
 * necessary). Source systems read nothing; a search that is not about identifiable people is
 * refused for people, because the rules decide person by person.
 */

/** Most people a single person-finding search may return before it must be narrowed. */
export const MAX_PEOPLE_PER_SEARCH = 50;

export interface PersonAccess {
  readonly personIds: readonly string[];
  readonly decision: AccessDecision;
}

interface RequestContext {
  readonly persons: PersonAccess[];
  readonly byPatientId: Map<string, PersonAccess>;
  /** Organisation, Practitioner and the like: visible when the request is about them or a permitted person's record lets them be. */
  directory: boolean;
  readonly alerts: AccessAlert[];
  /** The request's scope once decided: asked again about the same request, the hook answers with it. */
  scope?: AccessScope;
  /** Set when decideRequest took the request's decision ahead of its reads. */
  readonly decidedAhead?: true;
  /** Every match of a Patient search, read to find the people to decide for (searchPatients). */
  found?: readonly ScopedMatch[];
}

export interface CaldicottAccessOptions {
  readonly rules?: AccessRules;
  readonly now?: () => Date;
  /** meta.source → organisation holding the data, from configuration (the directory's systems); these win over what intakes register. */
  readonly staticSources?: Readonly<Record<string, string>>;
  /**
   * Decisions remembered per (requester, person), used again while nothing they read has changed
   * (decision-cache.ts). maxEntries 0 turns it off.
   */
  readonly decisionCache?: { readonly maxEntries: number; readonly ttlMs: number };
}

/**
 * Everything of the requester, so that a field the rules come to read later is in the key too: one
 * decision per distinct requester and person. The fields in a fixed order, then any others.
 */
const KEY_FIELDS = ['userId', 'role', 'organisation', 'teams', 'workerId', 'system', 'purposeOfUse', 'displayName'] as const;
const requesterKey = (r: Requester): string => {
  const rest = Object.keys(r).filter((k) => !(KEY_FIELDS as readonly string[]).includes(k)).sort();
  const field = (k: string): unknown => (r as unknown as Record<string, unknown>)[k] ?? null;
  return JSON.stringify([...KEY_FIELDS.map(field), ...rest.map((k) => [k, field(k)])]);
};

function patientRefsIn(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) patientRefsIn(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'reference' && typeof inner === 'string' && inner.startsWith('Patient/')) found.add(inner.slice('Patient/'.length).split('/')[0] ?? '');
      else patientRefsIn(inner, found);
    }
  }
}

const isDirectoryType = (type: string): boolean => type !== 'Patient' && patientCompartmentParams(type).length === 0;

function toConsentGrants(grants: readonly Grant[]): { grants: AccessGrant[]; permissionToView: PermissionToViewRecord[] } {
  const out: AccessGrant[] = [];
  const ptv: PermissionToViewRecord[] = [];
  for (const g of grants) {
    switch (g.kind) {
      case GrantKind.PERMISSION_TO_VIEW:
        if (g.decision) ptv.push({ userId: g.userId, outcome: g.decision, ...(g.reasonText ? { reason: g.reasonText } : {}), recordedAt: g.createdAt });
        break;
      case GrantKind.SELF_CLAIM:
      case GrantKind.BREAK_GLASS:
        out.push({ kind: g.kind === GrantKind.SELF_CLAIM ? 'self-claimed' : 'break-glass', userId: g.userId, reason: g.reasonText ?? g.reasonCode ?? '', grantedAt: g.createdAt, expiresAt: g.expiresAt });
        break;
    }
  }
  return { grants: out, permissionToView: ptv };
}

/** Name, birth date, sex, NHS number and postcode: enough to know it is the right person, nothing of their care. */
export function identificationOnly(patient: Patient): Patient {
  return {
    resourceType: 'Patient',
    ...(patient.id ? { id: patient.id } : {}),
    meta: { ...(patient.meta?.source ? { source: patient.meta.source } : {}), security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' }] },
    ...(patient.identifier ? { identifier: patient.identifier.filter((i) => i.system === NHS_NUMBER_SYSTEM) } : {}),
    ...(patient.name ? { name: patient.name } : {}),
    ...(patient.gender ? { gender: patient.gender } : {}),
    ...(patient.birthDate ? { birthDate: patient.birthDate } : {}),
    ...(patient.address ? { address: patient.address.flatMap((a) => (a.postalCode ? [{ postalCode: a.postalCode }] : [])) } : {}),
  };
}

export function scopeFor(person: PersonAccess): AccessScope {
  const d = person.decision;
  if (d.effect !== 'permit') return NOTHING_SCOPE;
  return {
    patientIds: person.personIds,
    nonPatientResources: d.nonPatientResources,
    resourceTypes: d.resourceTypes,
    withheldLabels: d.withheldLabels,
    ...(d.allowedSources ? { allowedSources: d.allowedSources } : {}),
    ...(d.withheldSources.length > 0 ? { withheldSources: d.withheldSources } : {}),
    ...(d.latestEncounterIds ? { onlyIds: { Encounter: d.latestEncounterIds } } : {}),
  };
}

function addPerson(context: RequestContext, person: PersonAccess): void {
  context.persons.push(person);
  for (const id of person.personIds) context.byPatientId.set(id, person);
}

export class CaldicottAccess implements AccessHook {
  private readonly contexts = new WeakMap<ReadRequest, RequestContext>();
  private readonly rules: AccessRules;
  private readonly now: () => Date;
  private readonly staticSources: Readonly<Record<string, string>>;
  private readonly cache: DecisionCache<PersonAccess>;

  constructor(
    private readonly db: SqlClient,
    options: CaldicottAccessOptions = {},
  ) {
    this.rules = options.rules ?? BASELINE_RULES;
    this.now = options.now ?? ((): Date => new Date());
    this.staticSources = options.staticSources ?? {};
    this.cache = new DecisionCache(options.decisionCache ?? DEFAULT_DECISION_CACHE);
  }

  /**
   * The decision for one person, as the requester would get it now (the viewer and the access API
   * use this too). Remembered: asked again, it is checked with one statement (the person's ids and
   * access epoch; none when `known` brings them, read with the resource's compartment) and taken
   * afresh only when something it read has changed or the clock has passed a moment at which it
   * could change.
   */
  async decide(request: Pick<ReadRequest, 'requester'>, patientId: string, known?: PersonAndEpoch): Promise<PersonAccess> {
    const key = `${requesterKey(request.requester)}|${patientId}`;
    const current = known ?? (await readPersonAndEpoch(this.db, patientId));
    // The clock after the epoch: a grant the epoch counts was recorded no later than this (on this clock).
    const now = this.now();
    const remembered = this.cache.get(key, now.getTime());
    if (remembered && remembered.epoch === current.epoch && sameList(remembered.personIds, current.personIds)) return remembered.value;
    const record = await loadPersonRecord(this.db, patientId, current);
    // Which organisation holds each source's data matters only to the person's own decisions
    // (objection, sharing), and those are the record's Consents: without one, nothing reads it.
    const decisionsRecorded = record.resources.some((r) => r.resourceType === 'Consent');
    const [{ active: grants, nextChange: grantsChange }, sources] = await Promise.all([
      grantsAt(this.db, request.requester.userId, record.personIds, now),
      decisionsRecorded ? sourceOrganisations(this.db) : Promise.resolve({}),
    ]);
    const input = { requester: request.requester, record: record.resources, ...toConsentGrants(grants), sourceOrganisations: { ...sources, ...this.staticSources } };
    const decision = decideAccess(input, now, this.rules);
    const person: PersonAccess = { personIds: record.personIds, decision };
    // The first moment the rules, or the grants' own times in SQL (a later start, an end), could read otherwise.
    const changesAt = Math.min(
      nextChange(input, now, this.rules.policy) ?? Number.POSITIVE_INFINITY,
      decision.validUntil ? Date.parse(decision.validUntil) : Number.POSITIVE_INFINITY,
      grantsChange ?? Number.POSITIVE_INFINITY,
    );
    this.cache.set(key, { value: person, personIds: record.personIds, epoch: record.epoch, nowMs: now.getTime(), changesAt: Number.isFinite(changesAt) ? changesAt : undefined });
    return person;
  }

  /**
   * The decision for the one person an $everything request is about, taken once for that request:
   * the viewer chooses its page by it, and the reader's scope and checks for this same request
   * object are built from it (scope() finds it), so a record page decides once, not once per
   * reader. It is exactly the decision scope() would take for the request (its requester, its
   * patient, now); a source system's request is not seeded (scope() gives it nothing).
   */
  async decideRequest(request: ReadRequest): Promise<PersonAccess> {
    if (request.interaction !== Interaction.EVERYTHING || !request.patientId) throw new Error('decideRequest takes an $everything request about one patient');
    const earlier = this.contexts.get(request);
    if (earlier?.decidedAhead) return earlier.persons[0] as PersonAccess;
    if (earlier) throw new Error('decideRequest: the reader has already decided this request');
    const person = await this.decide(request, request.patientId);
    if (!request.requester.system) {
      const context: RequestContext = { persons: [], byPatientId: new Map(), directory: false, alerts: [], decidedAhead: true };
      addPerson(context, person);
      this.contexts.set(request, context);
    }
    return person;
  }

  /**
   * One request, one decision: $everything reads the Patient and then the compartment under the
   * same request (the viewer pages it), so a second call answers with the first's scope and
   * persons. Alerts raised by checking resources belong to the audit record they were explained in.
   */
  async scope(request: ReadRequest): Promise<AccessScope> {
    const earlier = this.contexts.get(request);
    if (earlier?.scope) {
      earlier.alerts.length = 0;
      return earlier.scope;
    }
    if (earlier?.decidedAhead) {
      // Decided by decideRequest: the scope of that decision.
      earlier.scope = this.scopeOfPersons(request, earlier);
      return earlier.scope;
    }
    const context: RequestContext = { persons: [], byPatientId: new Map(), directory: false, alerts: [] };
    this.contexts.set(request, context);
    context.scope = await this.decideScope(request, context);
    return context.scope;
  }

  private async decideScope(request: ReadRequest, context: RequestContext): Promise<AccessScope> {
    // Source systems write through intake; they never read the record.
    if (request.requester.system) return NOTHING_SCOPE;
    const known = new Map<string, PersonAndEpoch>();
    const concerned = await this.patientsConcerned(request, context, known);
    if (concerned === 'directory') {
      context.directory = true;
      return { patientIds: [], nonPatientResources: true, resourceTypes: 'all', withheldLabels: [] };
    }
    for (const patientId of concerned) {
      if (context.byPatientId.has(patientId)) continue;
      addPerson(context, await this.decide(request, patientId, known.get(patientId)));
    }
    return this.scopeOfPersons(request, context);
  }

  /** The scope of the persons decided for a request (decideScope's, or decideRequest's one person). */
  private scopeOfPersons(request: ReadRequest, context: RequestContext): AccessScope {
    if (context.persons.length === 1 && request.interaction !== Interaction.SEARCH) {
      const only = context.persons[0] as PersonAccess;
      if (only.decision.needsPermissionToView) {
        throw new AccessRefusal(403, 'Record whether the person gave permission to view their record before opening it (POST /access/Patient/{id}/permission-to-view).', 'suppressed');
      }
    }
    const scopes = context.persons.flatMap((p) => {
      if (p.decision.effect === 'permit') return [scopeFor(p)];
      // Finding a person shows who they are (to confirm identity, then open the record, claim a
      // relationship or break glass), never more: their Patient records only, identification fields.
      if (this.findsPeople(request)) return [{ patientIds: p.personIds, nonPatientResources: false, resourceTypes: ['Patient'], withheldLabels: [] }];
      return [];
    });
    if (scopes.length === 0) return NOTHING_SCOPE;
    if (scopes.length === 1) return scopes[0] as AccessScope;
    return { ...SYSTEM_SCOPE, anyOf: scopes };
  }

  check(request: ReadRequest, resource: Resource): Resource | undefined {
    const context = this.contexts.get(request);
    if (!context) return undefined;
    if (isDirectoryType(resource.resourceType)) {
      return context.directory || context.persons.some((p) => p.decision.effect === 'permit' && p.decision.nonPatientResources) ? resource : undefined;
    }
    const person = this.personOf(context, resource);
    if (!person) return undefined;
    if (person.decision.effect !== 'permit') return this.findsPeople(request) && resource.resourceType === 'Patient' ? identificationOnly(resource) : undefined;
    const result = decideResource(person.decision, resource, this.rules);
    if ('withheld' in result) return undefined;
    context.alerts.push(...result.alerts);
    return result.resource;
  }

  /**
   * Every match of the request's own query, when deciding it read them all (a Patient search reads
   * the people it finds, at most MAX_PEOPLE_PER_SEARCH, with the system's rights): the reader applies
   * the request's scope to these instead of running the same search again. Undefined before the
   * request's scope is decided, and for every other request. Handed out once: the request keeps
   * them no longer, so a second search on it searches (scoped, in SQL) again.
   */
  matchesRead(request: ReadRequest): readonly ScopedMatch[] | undefined {
    const context = this.contexts.get(request);
    if (!context?.scope) return undefined;
    const found = context.found;
    context.found = undefined;
    return found;
  }

  /** What the audit record needs to say about the decision: for each person, the effect and why. */
  explain(request: ReadRequest): AccessExplanation {
    const context = this.contexts.get(request);
    if (!context) return { patientIds: [], decisions: [], alerts: [] };
    return {
      patientIds: context.persons.flatMap((p) => p.personIds),
      decisions: context.persons.map(({ decision: d }) => ({ effect: d.effect, ...(d.relationship ? { relationship: d.relationship.kind } : {}), breakGlass: d.breakGlass, reasons: d.reasons })),
      alerts: [...context.persons.flatMap((p) => p.decision.alerts), ...context.alerts],
    };
  }

  /** A search for people (Patient search by a person): answered with identification for everyone found. */
  private findsPeople(request: ReadRequest): boolean {
    return request.interaction === Interaction.SEARCH && request.resourceType === 'Patient' && !request.requester.system && request.requester.role !== undefined;
  }

  private personOf(context: RequestContext, resource: Resource): PersonAccess | undefined {
    if (resource.resourceType === 'Patient') return context.byPatientId.get(resource.id ?? '');
    if (context.persons.length === 1) {
      // The scope already kept the query to this person's compartment.
      return context.persons[0];
    }
    const refs = new Set<string>();
    patientRefsIn(resource, refs);
    for (const id of refs) {
      const person = context.byPatientId.get(id);
      if (person) return person;
    }
    return undefined;
  }

  /** The patients a request is about; `known` gets the person and epoch of those read with a compartment. */
  private async patientsConcerned(request: ReadRequest, context: RequestContext, known: Map<string, PersonAndEpoch>): Promise<string[] | 'directory'> {
    const type = request.resourceType ?? '';
    switch (request.interaction) {
      case Interaction.EVERYTHING:
        return request.patientId ? [request.patientId] : [];
      case Interaction.READ:
      case Interaction.VREAD:
      case Interaction.HISTORY: {
        if (request.patientId) return [request.patientId];
        if (isDirectoryType(type)) return 'directory';
        if (!request.resourceId) return [];
        return this.compartment(type, request.resourceId, known);
      }
      case Interaction.SEARCH:
        return this.searchPatients(type, request.query, context, known);
    }
  }

  private async compartment(type: string, id: string, known: Map<string, PersonAndEpoch>): Promise<string[]> {
    const found = await compartmentOf(this.db, type, id);
    const first = found?.patientIds[0];
    if (first !== undefined && found?.first && !known.has(first)) known.set(first, found.first);
    return found?.patientIds ?? [];
  }

  private async searchPatients(type: string, query: SearchQuery | undefined, context: RequestContext, known: Map<string, PersonAndEpoch>): Promise<string[] | 'directory'> {
    if (isDirectoryType(type)) return 'directory';
    if (!query) return [];
    if (type === 'Patient') {
      const narrowing = query.filters.some((f) => f.kind === 'id' || (f.kind === 'token' && f.code === 'identifier' && !f.negate) || (f.kind === 'date' && f.code === 'birthdate'));
      if (!narrowing) throw new AccessRefusal(400, 'To find a person, search by NHS number or other identifier, or by name with date of birth.', 'required');
      const found = await readMatches(this.db, query, MAX_PEOPLE_PER_SEARCH + 1);
      if (found.length > MAX_PEOPLE_PER_SEARCH) throw new AccessRefusal(400, `More than ${MAX_PEOPLE_PER_SEARCH} people match: narrow the search (add date of birth or NHS number).`, 'too-costly');
      // Every match, then: the reader can scope these rather than search again (matchesRead).
      context.found = found;
      return found.map((m) => m.row.id);
    }
    // The patient compartment's own parameters, and `patient`, which many types define as their subject when it is a Patient.
    const compartment = new Set([...patientCompartmentParams(type), 'patient']);
    const ids: string[] = [];
    let named = false;
    for (const filter of query.filters) {
      if (filter.kind === 'reference' && compartment.has(filter.code)) {
        named = true;
        for (const v of filter.values) if (!v.type || v.type === 'Patient') ids.push(v.id);
      } else if (filter.kind === 'id') {
        named = true;
        for (const id of filter.values) ids.push(...(await this.compartment(type, id, known)));
      }
    }
    if (!named) throw new AccessRefusal(400, `A search of ${type} must name the patient (patient= or subject=): access is decided person by person.`, 'required');
    return ids;
  }
}
