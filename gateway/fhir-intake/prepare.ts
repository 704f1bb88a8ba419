import type { Bundle, BundleEntry, Coding, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { resourceId } from '../../mappings/ids';
import { readLabels, securityLabels, type Sensitivity } from '../../mappings/security/labels';
import { isError, validateIncoming } from '../validation/uk-core';
import { AcceptedBundleType, checkBundleShape, issue } from './bundle-shape';

/**
 * A received Bundle made ready to store, without I/O: every resource gets a CareBridge id derived
 * from the sender and the sender's own key for it, every reference inside the Bundle is rewritten
 * to those ids, each resource is attributed to the sender (meta.source) and labelled, and all of
 * it is validated (R4, and UK Core where a profile is claimed). Any error anywhere refuses the
 * whole Bundle, with the entry index and path.
 *
 * The sender's key for an entry, in order of preference (ids are unique only within a sender,
 * so each becomes `resourceId(type, sourceUri, key)`):
 *   1. the resource's id (or a PUT's `Type/id`): the sender's own id;
 *   2. a conditional PUT url or POST ifNoneExist (`identifier=system|value`): the business identifier;
 *   3. the entry's fullUrl (e.g. `urn:uuid:…`): stable only if the sender reuses it; a sender that
 *      mints a new uuid per message should send ids or identifiers to update rather than add.
 *
 * References resolved: the fullUrls of the Bundle (urn:uuid, urn:oid, absolute), `Type/id` of
 * entries, conditional references `Type?identifier=system|value` matching an entry (else one thing the same system sent before), and `Type/id`
 * of what this sender sent before (looked up by the caller, passed as `stored`). `#contained`
 * references stay; absolute http(s) references to other servers stay as they are. Anything else
 * (a urn:uuid or `Type/id` that resolves to nothing) is a dangling reference and refuses the Bundle.
 */

export interface PrepareContext {
  /** The sending system's source URI (meta.source of everything it sends). */
  readonly sourceUri: string;
  /** `Type/id` (our ids) of resources this sender stored before. */
  readonly stored: ReadonlySet<string>;
  /**
   * What this sender stored before under each conditional reference's identifier
   * (`Type?identifier=system|value` → our `Type/id`s), for conditional references no entry matches.
   */
  readonly storedByIdentifier?: ReadonlyMap<string, readonly string[]>;
  /** Sensitivities a resource's codes imply (the sensitive-code lists); the sender's own labels are kept too. */
  readonly sensitivitiesOf: (resource: Resource) => readonly Sensitivity[];
}

export interface PreparedEntry {
  readonly index: number;
  readonly resourceType: string;
  readonly id: string;
  /** The sender's key the id was derived from. */
  readonly senderKey: string;
}

export interface PreparedBundle {
  readonly type: AcceptedBundleType;
  readonly bundle: Bundle;
  readonly resources: (Resource & { id: string })[];
  readonly entries: PreparedEntry[];
  readonly warnings: OperationOutcomeIssue[];
}

export type PrepareResult = { ok: true; prepared: PreparedBundle } | { ok: false; status: 400 | 422; issues: OperationOutcomeIssue[] };

const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE_RESTFUL = /\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** `identifier=system|value` from a query string (URL-decoded); undefined for any other search. */
function identifierQuery(query: string): { system: string; value: string } | undefined {
  const params = new URLSearchParams(query);
  const keys = [...params.keys()];
  const identifier = params.get('identifier');
  if (keys.length !== 1 || !identifier) return undefined;
  const bar = identifier.indexOf('|');
  if (bar <= 0 || bar === identifier.length - 1) return undefined;
  return { system: identifier.slice(0, bar), value: identifier.slice(bar + 1) };
}

const identifierKey = (type: string, system: string, value: string): string => `${type}?identifier=${system}|${value}`;

/** The sender's key for an entry (see the module comment), or an issue. */
function senderKeyOf(entry: BundleEntry & { resource: Resource }, index: number, type: AcceptedBundleType): { key: string } | { issue: OperationOutcomeIssue } {
  const at = `Bundle.entry[${String(index)}]`;
  const resource = entry.resource;
  const url = entry.request?.url;
  if (type === AcceptedBundleType.TRANSACTION && entry.request?.method === 'PUT' && url) {
    const [path, query] = url.split('?', 2) as [string, string | undefined];
    if (query !== undefined) {
      if (path !== resource.resourceType) return { issue: issue('invalid', `${at}.request.url`, `A conditional update for ${path} holds a ${resource.resourceType}`) };
      const identifier = identifierQuery(query);
      if (!identifier) return { issue: issue('not-supported', `${at}.request.url`, 'Conditional updates are accepted on identifier=system|value only') };
      return { key: identifierKey(resource.resourceType, identifier.system, identifier.value) };
    }
    const match = RELATIVE_REFERENCE.exec(path);
    if (match?.[1] !== resource.resourceType) return { issue: issue('invalid', `${at}.request.url`, `A PUT url must be ${resource.resourceType}/[id]`) };
    if (resource.id !== undefined && resource.id !== match[2]) return { issue: issue('invalid', `${at}.resource.id`, `The resource id ${resource.id} differs from the PUT url's ${match[2] ?? ''}`) };
    return { key: `id:${match[2] ?? ''}` };
  }
  if (resource.id) return { key: `id:${resource.id}` };
  const ifNoneExist = entry.request?.ifNoneExist;
  if (ifNoneExist) {
    const identifier = identifierQuery(ifNoneExist);
    if (!identifier) return { issue: issue('not-supported', `${at}.request.ifNoneExist`, 'Conditional creates are accepted on identifier=system|value only') };
    return { key: identifierKey(resource.resourceType, identifier.system, identifier.value) };
  }
  if (entry.fullUrl) return { key: `fullUrl:${entry.fullUrl}` };
  return { issue: issue('required', at, 'The entry needs a resource id, a fullUrl or a conditional url, so it can be recognised when sent again') };
}

/** Every Reference.reference in a value, with its JSON path, for rewriting in place. */
function forEachReference(value: unknown, path: string, visit: (holder: Record<string, unknown>, reference: string, path: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => forEachReference(v, `${path}[${String(i)}]`, visit));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const obj = value as Record<string, unknown>;
  if (typeof obj['reference'] === 'string') visit(obj, obj['reference'], `${path}.reference`);
  // Contained resources included: their '#' references stay, their references to entries are rewritten.
  for (const [key, child] of Object.entries(obj)) {
    if (typeof child === 'object' && child !== null) forEachReference(child, `${path}.${key}`, visit);
  }
}

/** `Type/id` references of a Bundle that may point at what the sender stored before, as our ids (for the caller to look up). */
export function storedCandidates(body: unknown, sourceUri: string): string[] {
  const out = new Set<string>();
  forEachReference(body, 'Bundle', (_holder, reference) => {
    const match = RELATIVE_REFERENCE.exec(reference);
    if (match?.[1] && match[2]) out.add(`${match[1]}/${resourceId(match[1], sourceUri, `id:${match[2]}`)}`);
  });
  return [...out];
}

interface ConditionalIdentifier {
  readonly resourceType: string;
  readonly system: string;
  readonly value: string;
  /** identifierKey of the three: how entries and stored resources are looked up. */
  readonly key: string;
}

/** A conditional reference `Type?…`: its identifier when it is `identifier=system|value` (the one form supported), 'unsupported' otherwise; undefined for any other reference. */
function conditionalIdentifier(reference: string): ConditionalIdentifier | 'unsupported' | undefined {
  const question = reference.indexOf('?');
  if (question <= 0) return undefined;
  const identifier = identifierQuery(reference.slice(question + 1));
  if (!identifier) return 'unsupported';
  const resourceType = reference.slice(0, question);
  return { resourceType, ...identifier, key: identifierKey(resourceType, identifier.system, identifier.value) };
}

/** The identifiers of a Bundle's conditional references (`Type?identifier=system|value`), for the caller to look up among what the sender stored. */
export function conditionalCandidates(body: unknown): ConditionalIdentifier[] {
  const out = new Map<string, ConditionalIdentifier>();
  forEachReference(body, 'Bundle', (_holder, reference) => {
    const conditional = conditionalIdentifier(reference);
    if (conditional !== undefined && conditional !== 'unsupported') out.set(conditional.key, conditional);
  });
  return [...out.values()];
}

function withLabels(resource: Resource, ctx: PrepareContext): Coding[] {
  const sent = readLabels(resource.meta);
  const sensitivities = [...new Set([...sent.sensitivities, ...ctx.sensitivitiesOf(resource)])];
  return securityLabels(sensitivities, sent.confidentiality, resource.meta?.security ?? []);
}

export function prepareBundle(body: unknown, ctx: PrepareContext): PrepareResult {
  const shape = checkBundleShape(body);
  if (!shape.ok) return { ok: false, status: 400, issues: shape.issues };
  const { bundle, entries } = shape;
  const issues: OperationOutcomeIssue[] = [];

  // 1. Our id for every entry.
  const prepared: PreparedEntry[] = [];
  entries.forEach((entry, index) => {
    const key = senderKeyOf(entry, index, bundle.type);
    if ('issue' in key) {
      issues.push(key.issue);
      return;
    }
    prepared.push({ index, resourceType: entry.resource.resourceType, id: resourceId(entry.resource.resourceType, ctx.sourceUri, key.key), senderKey: key.key });
  });
  if (issues.length > 0) return { ok: false, status: 422, issues };

  // 2. Every name an entry can be referred to by.
  const aliases = new Map<string, { target: string; index: number }>();
  const addAlias = (alias: string, target: string, index: number): void => {
    const before = aliases.get(alias);
    if (before && before.target !== target) {
      issues.push(issue('duplicate', `Bundle.entry[${String(index)}]`, `${alias} names both Bundle.entry[${String(before.index)}] and this entry`));
      return;
    }
    aliases.set(alias, { target, index });
  };
  const seen = new Map<string, number>();
  for (const p of prepared) {
    const entry = entries[p.index] as BundleEntry & { resource: Resource };
    const target = `${p.resourceType}/${p.id}`;
    const first = seen.get(target);
    if (first !== undefined) issues.push(issue('duplicate', `Bundle.entry[${String(p.index)}]`, `This entry is the same ${p.resourceType} as Bundle.entry[${String(first)}] (${p.senderKey.replace(/^id:/, 'id ')})`));
    seen.set(target, p.index);
    if (entry.fullUrl) {
      addAlias(entry.fullUrl, target, p.index);
      const restful = ABSOLUTE_RESTFUL.exec(entry.fullUrl);
      if (restful?.[1] === p.resourceType && restful[2]) addAlias(`${restful[1]}/${restful[2]}`, target, p.index);
    }
    if (p.senderKey.startsWith('id:')) addAlias(`${p.resourceType}/${p.senderKey.slice(3)}`, target, p.index);
    const identifiers = (entry.resource as { identifier?: unknown }).identifier;
    for (const id of Array.isArray(identifiers) ? (identifiers as { system?: string; value?: string }[]) : identifiers ? [identifiers as { system?: string; value?: string }] : []) {
      if (id.system && id.value) addAlias(identifierKey(p.resourceType, id.system, id.value), target, p.index);
    }
  }
  if (issues.length > 0) return { ok: false, status: 422, issues };

  // 3. Rewrite, attribute, label, validate.
  const resources: (Resource & { id: string })[] = [];
  const warnings: OperationOutcomeIssue[] = [];
  for (const p of prepared) {
    const at = `Bundle.entry[${String(p.index)}].resource`;
    const resource = structuredClone((entries[p.index] as BundleEntry & { resource: Resource }).resource) as Resource & { id: string };
    forEachReference(resource, at, (holder, reference, path) => {
      const resolved = resolveReference(reference, aliases, ctx);
      if (resolved === undefined) return;
      if ('dangling' in resolved) issues.push(issue('not-found', path, resolved.dangling));
      else holder['reference'] = resolved.target;
    });
    resource.id = p.id;
    const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta ?? {};
    resource.meta = { ...meta, source: ctx.sourceUri, security: withLabels(resource, ctx) };
    for (const found of validateIncoming(resource)) {
      const located = { ...found, expression: (found.expression ?? [resource.resourceType]).map((e) => `${at}${e.slice(resource.resourceType.length)}`) };
      if (isError(found)) issues.push(located);
      else if (found.severity === 'warning') warnings.push(located);
    }
    resources.push(resource);
  }
  if (issues.length > 0) return { ok: false, status: 422, issues };
  return { ok: true, prepared: { type: bundle.type, bundle, resources, entries: prepared, warnings } };
}

/** What a reference becomes: a target, a dangling-reference error, or undefined (left as it is). */
function resolveReference(reference: string, aliases: ReadonlyMap<string, { target: string }>, ctx: PrepareContext): { target: string } | { dangling: string } | undefined {
  if (reference.startsWith('#')) return undefined;
  const alias = aliases.get(reference);
  if (alias) return { target: alias.target };
  const relative = RELATIVE_REFERENCE.exec(reference);
  if (relative?.[1] && relative[2]) {
    const unversioned = aliases.get(`${relative[1]}/${relative[2]}`);
    if (unversioned) return { target: unversioned.target };
    const stored = `${relative[1]}/${resourceId(relative[1], ctx.sourceUri, `id:${relative[2]}`)}`;
    if (ctx.stored.has(stored)) return { target: stored };
    return { dangling: `${reference} is neither in this Bundle nor something this system sent before` };
  }
  const conditional = conditionalIdentifier(reference);
  if (conditional === 'unsupported') return { dangling: `The conditional reference ${reference} is not supported (identifier=system|value only)` };
  if (conditional !== undefined) {
    const match = aliases.get(conditional.key);
    if (match) return { target: match.target };
    // As a FHIR server resolves a conditional reference by searching: here among what this system sent before, one match only.
    const stored = ctx.storedByIdentifier?.get(conditional.key) ?? [];
    if (stored.length === 1 && stored[0] !== undefined) return { target: stored[0] };
    if (stored.length > 1) return { dangling: `The conditional reference ${reference} matches ${String(stored.length)} resources this system sent before, not one` };
    return { dangling: `The conditional reference ${reference} matches no entry of this Bundle and nothing this system sent before` };
  }
  if (reference.startsWith('urn:')) return { dangling: `${reference} is not the fullUrl of any entry` };
  // An absolute reference to another server: kept as sent.
  return undefined;
}
