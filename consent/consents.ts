import type { Coding, Consent, ConsentProvision, Resource } from '@medplum/fhirtypes';
import { labelKey } from '../mappings/security/labels';
import {
  ACT_REASON_SYSTEM,
  CONSENT_SCOPE_SYSTEM,
  CONSENT_TOPIC_SYSTEM,
  ConsentTopic,
  DATA_SOURCE_EXTENSION,
  DECISION_EXTENSION,
  DECISION_MAKER_DISPLAY,
  DECISION_MAKER_EXTENSION,
  DECISION_MAKER_SYSTEM,
  DecisionMaker,
  DECISION_SYSTEM,
  MENTAL_CAPACITY_EXTENSION,
  RECIPIENT_CLASS_SYSTEM,
  RESOURCE_TYPE_SYSTEM,
  SharingDecision,
} from './consent-shape';
import { periodIsCurrent, referenceKey } from './relationship';
import { RecipientClass } from './types';

/**
 * The person's decisions about sharing, read from their FHIR Consent resources (every source's).
 * The shape is consent/README.md's; Consents from elsewhere are read by the same elements
 * (provision.type, actor.role, purpose, class, securityLabel), so a foreign "deny everything" is
 * an objection too. Only scope patient-privacy is read here; adr Consents are data (plans).
 */

export interface SharingRule {
  /** 'Consent/id', for reasons and the audit record. */
  readonly consent: string;
  readonly topic: ConsentTopic | undefined;
  readonly effect: 'permit' | 'deny';
  /** Recipient classes it applies to; with `actors`, empty both = everyone. */
  readonly recipients: readonly RecipientClass[];
  /** Named recipients (provision.actor.reference identifiers, `system|value`: a worker, team or organisation). */
  readonly actors: readonly string[];
  /** Purposes of use it applies to; empty = any. */
  readonly purposes: readonly string[];
  /** Data it covers by meta.source; empty = all. */
  readonly dataSources: readonly string[];
  /** Resource types it covers (provision.class); empty = all. */
  readonly resourceTypes: readonly string[];
  /** Labels it covers (provision.securityLabel) as `system|code`; empty = all. */
  readonly securityLabels: readonly string[];
  /** The organisation holding the data and managing the decision (`system|value`). */
  readonly custodian: string | undefined;
  readonly decision: SharingDecision | undefined;
  readonly decisionMaker: DecisionMaker | undefined;
  readonly hasCapacity: boolean | undefined;
  readonly dateTime: string | undefined;
}

export interface PersonDecisions {
  /** The right to object, in force (each the latest objection decision of its topic and a deny, or a foreign deny-everything). */
  readonly objections: readonly SharingRule[];
  /** Consent by purpose and recipient in force: the latest per topic, plus every foreign rule. */
  readonly sharing: readonly SharingRule[];
  /** Active Consents that could not be read as a rule (e.g. an actor in no known class), for reasons. */
  readonly unread: readonly string[];
}

const RECIPIENTS = new Set<string>(Object.values(RecipientClass));
const TOPICS: readonly ConsentTopic[] = Object.values(ConsentTopic);
const MAKERS: readonly DecisionMaker[] = Object.values(DecisionMaker);
const DECISIONS: readonly SharingDecision[] = Object.values(SharingDecision);

function codeIn<T extends string>(codings: readonly Coding[], system: string, allowed: readonly T[]): T | undefined {
  return allowed.find((code) => codings.some((c) => c.system === system && c.code === code));
}

const codings = (coding: Coding | undefined): Coding[] => (coding ? [coding] : []);

function isPrivacyScope(consent: Consent): boolean {
  return consent.scope.coding?.some((c) => c.system === CONSENT_SCOPE_SYSTEM && c.code === 'patient-privacy') ?? false;
}

function inForce(consent: Consent, now: Date): boolean {
  if (consent.status !== 'active' || !isPrivacyScope(consent)) return false;
  const made = consent.dateTime ? Date.parse(consent.dateTime) : undefined;
  if (made !== undefined && !Number.isNaN(made) && made > now.getTime()) return false;
  return periodIsCurrent(consent.provision?.period, now);
}

function ruleOf(consent: Consent, provision: ConsentProvision, effect: 'permit' | 'deny'): SharingRule | undefined {
  const actorRoles = (provision.actor ?? []).flatMap((a) => a.role.coding ?? []);
  const recipients = actorRoles.filter((c) => c.system === RECIPIENT_CLASS_SYSTEM && c.code !== undefined && RECIPIENTS.has(c.code)).map((c) => c.code as RecipientClass);
  const actors = (provision.actor ?? []).map((a) => referenceKey(a.reference)).filter((k): k is string => k !== undefined);
  // An actor we can place neither in a recipient class nor by identifier: the rule names someone, but not anyone we know.
  if ((provision.actor ?? []).length > 0 && recipients.length === 0 && actors.length === 0) return undefined;
  const extension = (url: string): NonNullable<Consent['extension']>[number] | undefined => consent.extension?.find((e) => e.url === url);
  return {
    consent: `Consent/${consent.id ?? '?'}`,
    topic: codeIn(consent.category.flatMap((c) => c.coding ?? []), CONSENT_TOPIC_SYSTEM, TOPICS),
    effect,
    recipients: [...new Set(recipients)],
    actors: [...new Set(actors)],
    purposes: (provision.purpose ?? []).filter((p) => p.system === ACT_REASON_SYSTEM && p.code).map((p) => p.code ?? ''),
    dataSources: (provision.extension ?? []).filter((e) => e.url === DATA_SOURCE_EXTENSION && e.valueUri).map((e) => e.valueUri ?? ''),
    resourceTypes: (provision.class ?? []).filter((c) => c.system === RESOURCE_TYPE_SYSTEM && c.code).map((c) => c.code ?? ''),
    securityLabels: (provision.securityLabel ?? []).filter((c) => c.system && c.code).map(labelKey),
    custodian: consent.organization?.map(referenceKey).find((k) => k !== undefined),
    decision: codeIn(codings(extension(DECISION_EXTENSION)?.valueCoding), DECISION_SYSTEM, DECISIONS),
    decisionMaker: codeIn(codings(extension(DECISION_MAKER_EXTENSION)?.valueCoding), DECISION_MAKER_SYSTEM, MAKERS),
    hasCapacity: extension(MENTAL_CAPACITY_EXTENSION)?.valueBoolean,
    dateTime: consent.dateTime,
  };
}

/** A provision and its nested deny exceptions (a nested permit only narrows a deny: ignoring it withholds more, never less). */
function rulesOf(consent: Consent): SharingRule[] | undefined {
  const top = consent.provision;
  const effect = top?.type ?? 'deny';
  const main = ruleOf(consent, top ?? {}, effect);
  if (!main) return undefined;
  const nested = (top?.provision ?? []).filter((p) => p.type === 'deny').map((p) => ruleOf(consent, p, 'deny'));
  return [main, ...nested.filter((r): r is SharingRule => r !== undefined)];
}

/** Everything else equal, the topic's latest decision wins; on a tie, a deny. */
function later(a: SharingRule, b: SharingRule): SharingRule {
  const ta = a.dateTime ? Date.parse(a.dateTime) : Number.NEGATIVE_INFINITY;
  const tb = b.dateTime ? Date.parse(b.dateTime) : Number.NEGATIVE_INFINITY;
  if (ta !== tb) return ta > tb ? a : b;
  return a.effect === 'deny' ? a : b;
}

/** Objection-equivalent: a deny for everyone, all data, any purpose (whatever its topic says). */
function deniesEverything(rule: SharingRule): boolean {
  return rule.effect === 'deny' && rule.recipients.length === 0 && rule.actors.length === 0 && rule.purposes.length === 0 && rule.dataSources.length === 0 && rule.resourceTypes.length === 0 && rule.securityLabels.length === 0;
}

export function readPersonDecisions(record: readonly Resource[], now: Date): PersonDecisions {
  const latestByTopic = new Map<string, SharingRule>();
  const foreign: SharingRule[] = [];
  const unread: string[] = [];
  for (const resource of record) {
    if (resource.resourceType !== 'Consent' || !inForce(resource, now)) continue;
    const rules = rulesOf(resource);
    if (!rules) {
      unread.push(`Consent/${resource.id ?? '?'}`);
      continue;
    }
    const [main, ...exceptions] = rules;
    if (main?.topic) {
      const key = [main.topic, main.custodian ?? '', [...main.dataSources].sort().join(' ')].join('|');
      const previous = latestByTopic.get(key);
      latestByTopic.set(key, previous ? later(previous, main) : main);
    } else if (main) {
      foreign.push(main);
    }
    foreign.push(...exceptions);
  }
  const inEffect = [...latestByTopic.values(), ...foreign];
  const objections = inEffect.filter((r) => (r.topic === 'objection' && r.effect === 'deny') || deniesEverything(r));
  return {
    objections,
    sharing: inEffect.filter((r) => r.topic !== 'objection' && !objections.includes(r)),
    unread,
  };
}

/** Who decided, for reasons: "decided by an attorney (…); the person lacked capacity". No names. */
export function describeDecisionMaker(rule: SharingRule): string {
  const who = rule.decisionMaker ? DECISION_MAKER_DISPLAY[rule.decisionMaker] : 'not recorded';
  const capacity = rule.hasCapacity === undefined ? '' : rule.hasCapacity ? '; the person had capacity' : '; the person lacked capacity for this decision';
  return `decided by ${who}${capacity} (${rule.consent}${rule.dateTime ? `, ${rule.dateTime}` : ''})`;
}

/** Whether a rule applies to this requester: their recipient class or one of their ids is named (or no one is), and the purpose matches. */
export function ruleAppliesTo(rule: SharingRule, recipient: RecipientClass, requesterIds: readonly string[], purpose: string): boolean {
  const everyone = rule.recipients.length === 0 && rule.actors.length === 0;
  const named = rule.recipients.includes(recipient) || rule.actors.some((a) => requesterIds.includes(a));
  return (everyone || named) && (rule.purposes.length === 0 || rule.purposes.includes(purpose));
}
