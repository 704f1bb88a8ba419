import type { Resource } from '@medplum/fhirtypes';
import { BASELINE_CATEGORIES, categoriesOf, resourceTypesFor, type CategoryTable } from './categories';
import { describeDecisionMaker, readPersonDecisions, ruleAppliesTo, type SharingRule } from './consents';
import { isVeryRestricted, resourceLabelKeys, withheldLabelKeys, withheldSensitivities } from './labels';
import { latestEncounterIds } from './latest-encounters';
import { redact } from './redact';
import { findRelationships } from './relationship';
import { BASELINE_ROLES, type RoleDefinition, type RoleTable } from './roles';
import type {
  AccessAlert,
  AccessDecision,
  AccessInput,
  AccessPolicy,
  AccessRequester,
  PermissionToViewRecord,
  PermissionToViewState,
  RelationshipFinding,
  ResourceDecision,
} from './types';

/** The tables and policy a deployment runs with. */
export interface AccessRules {
  readonly roles: RoleTable;
  readonly categories: CategoryTable;
  readonly policy: AccessPolicy;
}

export const DEFAULT_POLICY: AccessPolicy = {
  selfClaimHours: 24,
  breakGlassHours: 4,
  permissionToViewSessionHours: 8,
  recentContactDays: 30,
  latestEncounters: 5,
  requirePermissionToView: true,
};

export const BASELINE_RULES: AccessRules = { roles: BASELINE_ROLES, categories: BASELINE_CATEGORIES, policy: DEFAULT_POLICY };

const HOUR = 3_600_000;

const DENIED: Omit<AccessDecision, 'role' | 'relationships' | 'reasons' | 'alerts'> = {
  effect: 'deny',
  relationship: undefined,
  breakGlass: false,
  categories: [],
  resourceTypes: [],
  nonPatientResources: false,
  withheldSensitivities: [],
  withheldLabels: [],
  allowedSources: undefined,
  withheldSources: [],
  latestEncounterIds: undefined,
  permissionToView: 'not-recorded',
  needsPermissionToView: false,
  validUntil: undefined,
};

/** Collects what a decision says as it is made, so every exit carries its reasons. */
class Ledger {
  readonly reasons: string[] = [];
  readonly alerts: AccessAlert[] = [];
  relationships: readonly RelationshipFinding[] = [];
  readonly expiries: string[] = [];
  constructor(readonly role: string | undefined) {}

  deny(reason: string, extra: Partial<AccessDecision> = {}): AccessDecision {
    // Alerts are about access given: a denied request is in the audit trail, not in the privacy officer's queue.
    return { ...DENIED, role: this.role, relationships: this.relationships, reasons: [...this.reasons, `denied: ${reason}`], alerts: [], ...extra };
  }

  validUntil(): string | undefined {
    return [...this.expiries].sort()[0];
  }
}

function requesterIds(requester: AccessRequester): string[] {
  return [requester.organisation, requester.workerId, ...(requester.teams ?? [])].filter((id): id is string => id !== undefined);
}

interface Relationship {
  readonly relationship: RelationshipFinding | undefined;
  readonly breakGlass: RelationshipFinding | undefined;
}

/** Which relationship the access rests on, and whether break-glass is in force for this role. */
function chooseRelationship(ledger: Ledger, role: RoleDefinition, input: AccessInput, now: Date, policy: AccessPolicy): Relationship {
  const established = (input.establishedRelationships ?? []).filter((r) => r.kind !== 'self-claimed' && r.kind !== 'break-glass');
  const all = [...findRelationships(input.requester, input.record, input.grants ?? [], now, policy), ...established];
  ledger.relationships = all;
  const fromRecord = all.filter((r) => r.kind !== 'self-claimed' && r.kind !== 'break-glass');
  const counted = fromRecord.filter((r) => role.relationshipKinds === undefined || role.relationshipKinds.includes(r.kind));
  for (const kind of new Set(fromRecord.filter((r) => !counted.includes(r)).map((r) => r.kind))) ledger.reasons.push(`a ${kind} relationship does not count for this role`);
  const selfClaim = all.find((r) => r.kind === 'self-claimed');
  if (selfClaim && !role.selfClaim) ledger.reasons.push('this role may not self-claim a relationship: the claim is ignored');
  const btg = all.find((r) => r.kind === 'break-glass');
  if (btg && !role.breakGlass) ledger.reasons.push('this role may not break glass: the break-glass is ignored');
  const breakGlass = btg && role.breakGlass ? btg : undefined;
  if (input.requester.purposeOfUse === 'BTG' && !breakGlass) ledger.reasons.push('purpose of use is break-glass, but no break-glass is in force for this user and person');
  const relationship = counted[0] ?? (role.selfClaim ? selfClaim : undefined) ?? breakGlass;
  return { relationship, breakGlass };
}

interface ConsentOutcome {
  readonly denied?: string;
  readonly allowedSources: Set<string> | undefined;
  readonly withheldSources: Set<string>;
  readonly withheldTypes: Set<string>;
  readonly withheldLabels: Set<string>;
  readonly overridden: string[];
}

const intersect = (current: Set<string> | undefined, next: readonly string[]): Set<string> => new Set(current ? next.filter((s) => current.has(s)) : next);

/** The person's decisions: objection, consent by purpose and recipient, consent-only recipients. */
function applyPersonDecisions(ledger: Ledger, role: RoleDefinition, rules: AccessRules, input: AccessInput, now: Date, breakGlass: boolean): ConsentOutcome {
  const out: ConsentOutcome = { allowedSources: undefined, withheldSources: new Set(), withheldTypes: new Set(), withheldLabels: new Set(), overridden: [] };
  let allowedSources: Set<string> | undefined;
  const done = (denied?: string): ConsentOutcome => ({ ...out, allowedSources, ...(denied ? { denied } : {}) });
  if (role.recipientClass === 'governance') {
    ledger.reasons.push('governance role: the person\'s sharing decisions govern care, not the privacy office; it sees no clinical content');
    return done();
  }
  const { requester } = input;
  const decisions = readPersonDecisions(input.record, now);
  for (const consent of decisions.unread) ledger.reasons.push(`${consent} names a recipient that is neither a recipient class nor an identified organisation, team or worker: not applied`);
  const ownSources = Object.entries(input.sourceOrganisations ?? {})
    .filter(([, org]) => requester.organisation !== undefined && org === requester.organisation)
    .map(([source]) => source);

  for (const objection of decisions.objections) {
    const who = describeDecisionMaker(objection);
    if (breakGlass) {
      out.overridden.push(`objection to sharing (${who})`);
      continue;
    }
    if (objection.dataSources.length === 0) {
      if (ownSources.length === 0) return done(`the person objected to sharing (${who}) and the requester's organisation holds none of their data`);
      allowedSources = intersect(allowedSources, ownSources);
      ledger.reasons.push(`the person objected to sharing (${who}): only data held by the requester's organisation is shown`);
    } else {
      const others = objection.dataSources.filter((s) => !ownSources.includes(s));
      for (const s of others) out.withheldSources.add(s);
      ledger.reasons.push(`the person objected to sharing data from ${objection.dataSources.length} source(s) (${who})`);
    }
  }

  const ids = requesterIds(requester);
  const applying = decisions.sharing.filter((r) => ruleAppliesTo(r, role.recipientClass, ids, requester.purposeOfUse));
  for (const rule of applying.filter((r) => r.effect === 'deny')) {
    const who = describeDecisionMaker(rule);
    if (breakGlass) {
      out.overridden.push(`refusal of sharing with ${role.recipientClass} (${who})`);
      continue;
    }
    const sources = rule.dataSources.filter((s) => !ownSources.includes(s));
    if (rule.dataSources.length > 0 && sources.length === 0) {
      ledger.reasons.push(`a refusal of sharing covers only the requester's own organisation's data: not applied (${who})`);
      continue;
    }
    const whole = rule.resourceTypes.length === 0 && rule.securityLabels.length === 0;
    if (whole && rule.dataSources.length === 0) return done(`the person refused sharing with ${role.recipientClass} (${who})`);
    if (whole) {
      for (const s of sources) out.withheldSources.add(s);
      ledger.reasons.push(`the person refused sharing data from ${sources.length} source(s) with ${role.recipientClass} (${who})`);
    } else {
      // A refusal of some types or labels withholds them from every source: stricter than a per-source
      // narrowing, which the flat scope cannot express.
      for (const t of rule.resourceTypes) out.withheldTypes.add(t);
      for (const l of rule.securityLabels) out.withheldLabels.add(l);
      ledger.reasons.push(`the person refused sharing some data with ${role.recipientClass} (${who})`);
    }
  }

  if (rules.roles.consentRequiredFor.includes(role.recipientClass)) {
    const permits: SharingRule[] = applying.filter((r) => r.effect === 'permit' && (r.recipients.includes(role.recipientClass) || r.actors.some((a) => ids.includes(a))));
    if (permits.length === 0) {
      if (!breakGlass) return done(`${role.recipientClass} sees the record only with the person's consent, and none is in force`);
      out.overridden.push(`no consent to sharing with ${role.recipientClass}`);
    } else {
      ledger.reasons.push(`the person consented to sharing with ${role.recipientClass} (${permits.map(describeDecisionMaker).join('; ')})`);
      if (permits.every((p) => p.dataSources.length > 0)) allowedSources = intersect(allowedSources, permits.flatMap((p) => p.dataSources));
    }
  }
  return done();
}

/** The latest permission-to-view record of this user within the session. */
function permissionInSession(records: readonly PermissionToViewRecord[], userId: string, now: Date, hours: number): PermissionToViewRecord | undefined {
  const from = now.getTime() - hours * HOUR;
  return records
    .filter((r) => {
      const t = Date.parse(r.recordedAt);
      return r.userId === userId && !Number.isNaN(t) && t >= from && t <= now.getTime();
    })
    .sort((a, b) => Date.parse(b.recordedAt) - Date.parse(a.recordedAt))[0];
}

/**
 * The request-level decision (specs/access-and-consent.md): may this requester see this person's
 * record now, which categories, which labels and sources are withheld, what must alert the privacy
 * officer, and why. Deny by default: every permit rests on a role, a relationship, the person's
 * decisions and permission to view, each named in `reasons`.
 */
export function decideAccess(input: AccessInput, now: Date, rules: AccessRules = BASELINE_RULES): AccessDecision {
  const { requester } = input;
  const { policy } = rules;
  const ledger = new Ledger(requester.role);
  if (requester.system !== undefined) return ledger.deny('source systems write through the intake endpoints and read nothing');
  const role = requester.role === undefined ? undefined : rules.roles.roles[requester.role];
  if (!role) return ledger.deny(requester.role === undefined ? 'the requester has no role' : `role "${requester.role}" is not in the role table`);
  if (role.categories.length === 0) return ledger.deny('the role sees no data category');

  // 1. Legitimate relationship.
  const { relationship, breakGlass } = chooseRelationship(ledger, role, input, now, policy);
  if (role.relationship === 'required' && !relationship) {
    const options = [role.selfClaim ? 'self-claim a relationship' : '', role.breakGlass ? 'break glass' : ''].filter((o) => o !== '');
    return ledger.deny(`no legitimate relationship with the person${options.length ? ` (the user may ${options.join(' or ')})` : ''}`);
  }
  if (relationship) ledger.reasons.push(`relationship: ${relationship.reason}`);
  else ledger.reasons.push('this role needs no relationship');
  if (relationship?.kind === 'self-claimed') {
    ledger.alerts.push({ kind: 'self-claim', reason: 'access rests on a self-claimed relationship' });
    if (relationship.expiresAt) ledger.expiries.push(relationship.expiresAt);
  }
  if (breakGlass) {
    ledger.alerts.push({ kind: 'break-glass', reason: 'break-glass access: review required' });
    ledger.reasons.push('break-glass in force: everything the role may see, whatever the person decided');
    if (breakGlass.expiresAt) ledger.expiries.push(breakGlass.expiresAt);
  }

  // 2. The person's decisions.
  const consent = applyPersonDecisions(ledger, role, rules, input, now, breakGlass !== undefined);
  if (consent.denied) return ledger.deny(consent.denied);

  // 3. Permission to view, once per session.
  let permissionToView: PermissionToViewState = 'not-required';
  if (role.permissionToView) {
    const record = permissionInSession(input.permissionToView ?? [], requester.userId, now, policy.permissionToViewSessionHours);
    const usable = record && !(record.outcome === 'could-not-ask' && !record.reason?.trim());
    if (record && !usable) ledger.reasons.push('"could not be asked" was recorded without a reason: treated as not recorded');
    permissionToView = usable ? record.outcome : 'not-recorded';
    if (usable) ledger.expiries.push(new Date(Date.parse(record.recordedAt) + policy.permissionToViewSessionHours * HOUR).toISOString());
    if (permissionToView === 'refused') {
      if (!breakGlass) return ledger.deny('the person refused permission to view in this session', { permissionToView });
      consent.overridden.push('refusal of permission to view');
    } else if (permissionToView === 'not-recorded') {
      if (breakGlass) ledger.reasons.push('permission to view not recorded: not needed under break-glass');
      else if (policy.requirePermissionToView) return ledger.deny('permission to view has not been recorded in this session', { permissionToView, needsPermissionToView: true });
      else ledger.reasons.push('permission to view not recorded (not required by this deployment)');
    } else {
      ledger.reasons.push(`permission to view: ${permissionToView}${permissionToView === 'could-not-ask' ? ' (reason recorded)' : ''}`);
    }
  }
  if (consent.overridden.length > 0) {
    ledger.alerts.push({ kind: 'refusal-override', reason: `break-glass overrode: ${consent.overridden.join('; ')}` });
    ledger.reasons.push(`break-glass overrode: ${consent.overridden.join('; ')}`);
  }

  // 4. What the role may see.
  const categories = [...role.categories];
  const resourceTypes = resourceTypesFor(categories, rules.categories).filter((t) => !consent.withheldTypes.has(t));
  const withheldLabels = [...new Set([...withheldLabelKeys(role), ...consent.withheldLabels])];
  const latest = role.limits.encounters === 'latest' && categories.includes('encounters') ? latestEncounterIds(input.record, now, policy.latestEncounters) : undefined;
  ledger.reasons.push(`permitted categories: ${categories.join(', ')}${latest ? `; encounters limited to the latest ${policy.latestEncounters} and any open` : ''}`);
  const withheld = withheldSensitivities(role);
  if (withheld.length > 0) ledger.reasons.push(`withheld sensitivities: ${withheld.join(', ')}`);
  if (role.maxConfidentiality !== 'V') ledger.reasons.push(`confidentiality above ${role.maxConfidentiality} withheld`);
  return {
    effect: 'permit',
    role: requester.role,
    relationship,
    relationships: ledger.relationships,
    breakGlass: breakGlass !== undefined,
    categories,
    resourceTypes,
    nonPatientResources: categories.includes('directory'),
    withheldSensitivities: withheld,
    withheldLabels,
    allowedSources: consent.allowedSources ? [...consent.allowedSources].sort() : undefined,
    withheldSources: [...consent.withheldSources].sort(),
    latestEncounterIds: latest,
    permissionToView,
    needsPermissionToView: false,
    validUntil: ledger.validUntil(),
    alerts: ledger.alerts,
    reasons: ledger.reasons,
  };
}

/**
 * The per-resource part, after the SQL scope: the resource as the requester may see it (redacted
 * to the role's minimum necessary and marked REDACTED), or why it is withheld. Reading very
 * restricted data returns an alert for the privacy officer.
 */
export function decideResource(decision: AccessDecision, resource: Resource, rules: AccessRules = BASELINE_RULES): ResourceDecision {
  if (decision.effect !== 'permit') return { withheld: 'denied' };
  const role = decision.role === undefined ? undefined : rules.roles.roles[decision.role];
  if (!role) return { withheld: 'denied' };
  if (!decision.resourceTypes.includes(resource.resourceType)) return { withheld: 'category' };
  if (!categoriesOf(resource, rules.categories).some((c) => decision.categories.includes(c))) return { withheld: 'category' };
  const withheldLabels = new Set(decision.withheldLabels);
  if (resourceLabelKeys(resource).some((k) => withheldLabels.has(k))) return { withheld: 'label' };
  const source = resource.meta?.source;
  if (decision.allowedSources && (source === undefined || !decision.allowedSources.includes(source))) return { withheld: 'source' };
  if (source !== undefined && decision.withheldSources.includes(source)) return { withheld: 'source' };
  if (resource.resourceType === 'Encounter' && decision.latestEncounterIds && !decision.latestEncounterIds.includes(resource.id ?? '')) return { withheld: 'not-latest-encounter' };
  const rule = role.redact[resource.resourceType];
  if (rule === 'withhold') return { withheld: 'role-redaction' };
  const shown = rule ? redact(resource, rule) : { resource, redacted: false };
  const alerts: AccessAlert[] = isVeryRestricted(resource) ? [{ kind: 'very-restricted', reason: `very restricted ${resource.resourceType} shown` }] : [];
  return { resource: shown.resource, redacted: shown.redacted, alerts };
}
