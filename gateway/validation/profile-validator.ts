import { evalFhirPath } from '@medplum/core';
import type { ElementDefinition, ElementDefinitionSlicingDiscriminator, OperationOutcomeIssue, StructureDefinition } from '@medplum/fhirtypes';
import type { Terminology } from './terminology';

/**
 * Checks a resource against a profile's differential (UK Core publishes differentials only), on
 * top of the R4 base validation: cardinality (including "must have" elements, min ≥ 1), fixed and
 * pattern values, choice types the profile narrows, required bindings to value sets we can expand
 * locally (extensible ones warn), slices (by value/pattern discriminators, extensions by url),
 * closed slicing, extension definitions (each extension checked against its own definition),
 * and the profile's invariants (FHIRPath). A profile derived from another UK Core profile is
 * checked against its whole chain.
 *
 * Not checked (said here rather than silently passed): `type` and `profile` discriminators
 * (slices whose membership depends on a value set or a referenced resource's profile), target
 * profiles of references, bindings to value sets that need a terminology server (SNOMED CT
 * filters), and mustSupport (a promise about systems, not data).
 */

interface ProfileNode {
  readonly id: string;
  element?: ElementDefinition;
  readonly children: Map<string, ProfileNode>;
  readonly slices: Map<string, ProfileNode>;
}

export interface CompiledProfile {
  readonly definition: StructureDefinition;
  readonly root: ProfileNode;
  readonly byId: ReadonlyMap<string, ProfileNode>;
}

export interface ProfileSource {
  profile(url: string): CompiledProfile | undefined;
  readonly terminology: Terminology;
}

const newNode = (id: string): ProfileNode => ({ id, children: new Map(), slices: new Map() });

/** Splits an element id into [property, slice?] steps: `Patient.identifier:nhsNumber.system`. */
function idSteps(id: string): { property: string; slice?: string }[] {
  return id
    .split('.')
    .slice(1)
    .map((step) => {
      const colon = step.indexOf(':');
      return colon < 0 ? { property: step } : { property: step.slice(0, colon), slice: step.slice(colon + 1) };
    });
}

export function compileProfile(definition: StructureDefinition): CompiledProfile {
  const root = newNode(definition.type);
  const byId = new Map<string, ProfileNode>([[root.id, root]]);
  for (const element of definition.differential?.element ?? []) {
    const id = element.id ?? element.path;
    let node = root;
    let nodeId = root.id;
    for (const step of idSteps(id)) {
      nodeId = `${nodeId}.${step.property}`;
      let child = node.children.get(step.property);
      if (!child) {
        child = newNode(nodeId);
        node.children.set(step.property, child);
        byId.set(nodeId, child);
      }
      node = child;
      if (step.slice !== undefined) {
        nodeId = `${nodeId}:${step.slice}`;
        let slice = node.slices.get(step.slice);
        if (!slice) {
          slice = newNode(nodeId);
          node.slices.set(step.slice, slice);
          byId.set(nodeId, slice);
        }
        node = slice;
      }
    }
    node.element = element;
  }
  return { definition, root, byId };
}

// ── Values as the walker sees them ─────────────────────────────────────────────────────────────

interface Item {
  /** The JSON value (a primitive, or an object). */
  readonly value: unknown;
  /** Where child elements live: the object itself, or a primitive's `_name` companion. */
  readonly inner: Record<string, unknown> | undefined;
  /** The JSON property it came from (`valueQuantity`). */
  readonly key: string;
  readonly path: string;
}

const PRIMITIVES = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer', 'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The type a choice property names: `valueQuantity` → Quantity, `valueDateTime` → dateTime. */
function choiceType(stem: string, key: string): string {
  const suffix = key.slice(stem.length);
  const lower = suffix.charAt(0).toLowerCase() + suffix.slice(1);
  return PRIMITIVES.has(lower) ? lower : suffix;
}

function keysFor(obj: Record<string, unknown>, property: string): string[] {
  if (!property.endsWith('[x]')) return property in obj || `_${property}` in obj ? [property] : [];
  const stem = property.slice(0, -3);
  return Object.keys(obj).filter((k) => k.startsWith(stem) && k.length > stem.length && /[A-Z]/.test(k.charAt(stem.length)));
}

function itemsOf(obj: Record<string, unknown>, property: string, path: string): Item[] {
  const items: Item[] = [];
  for (const key of keysFor(obj, property)) {
    const value = obj[key];
    const companion = obj[`_${key}`];
    if (Array.isArray(value) || Array.isArray(companion)) {
      const values = Array.isArray(value) ? (value as unknown[]) : [];
      const companions = Array.isArray(companion) ? (companion as unknown[]) : [];
      const n = Math.max(values.length, companions.length);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        const c = companions[i];
        items.push({ value: v ?? undefined, inner: isObject(v) ? v : isObject(c) ? c : undefined, key, path: `${path}.${key}[${String(i)}]` });
      }
    } else {
      items.push({ value, inner: isObject(value) ? value : isObject(companion) ? companion : undefined, key, path: `${path}.${key}` });
    }
  }
  return items;
}

/** Values at a simple dotted path inside a value (`coding.code`), arrays flattened. */
function valuesAt(value: unknown, path: string): unknown[] {
  if (path === '$this' || path === '') return [value];
  let current: unknown[] = [value];
  for (const step of path.split('.')) {
    current = current.flatMap((v) => {
      if (!isObject(v)) return [];
      const next = v[step];
      return Array.isArray(next) ? (next as unknown[]) : next === undefined ? [] : [next];
    });
  }
  return current;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** FHIR pattern semantics: every element of the pattern is present in the value. */
function includesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) return Array.isArray(value) && pattern.every((p) => (value as unknown[]).some((v) => includesPattern(v, p)));
  if (isObject(pattern)) return isObject(value) && Object.entries(pattern).every(([k, p]) => includesPattern(value[k], p));
  return value === pattern;
}

function fixedOf(element: ElementDefinition | undefined): { kind: 'fixed' | 'pattern'; value: unknown } | undefined {
  if (!element) return undefined;
  for (const [key, value] of Object.entries(element)) {
    if (key.startsWith('fixed') && !key.startsWith('_')) return { kind: 'fixed', value };
    if (key.startsWith('pattern') && !key.startsWith('_')) return { kind: 'pattern', value };
  }
  return undefined;
}

function maxOf(element: ElementDefinition): number {
  if (element.max === undefined || element.max === '*') return Number.POSITIVE_INFINITY;
  return Number(element.max);
}

function codingsOf(value: unknown): { system?: string; code?: string }[] {
  if (typeof value === 'string') return [{ code: value }];
  if (!isObject(value)) return [];
  if (Array.isArray(value['coding'])) return (value['coding'] as unknown[]).filter(isObject).map((c) => ({ system: c['system'] as string | undefined, code: c['code'] as string | undefined }));
  if ('code' in value) return [{ system: value['system'] as string | undefined, code: value['code'] as string | undefined }];
  return [];
}

// ── The walk ───────────────────────────────────────────────────────────────────────────────────

const DEFAULT_EXTENSION_SLICING: ElementDefinitionSlicingDiscriminator[] = [{ type: 'value', path: 'url' }];

class ProfileWalk {
  readonly issues: OperationOutcomeIssue[] = [];

  constructor(
    private readonly source: ProfileSource,
    /** The profile and the UK Core profiles it derives from, most derived first. */
    private readonly chain: readonly CompiledProfile[],
    private readonly label: string,
    /** Extensions already checked against their definition (through a slice), shared by the walks of one validation. */
    private readonly checkedExtensions: WeakSet<object> = new WeakSet(),
  ) {}

  private issue(severity: 'error' | 'warning', code: OperationOutcomeIssue['code'], path: string, text: string): void {
    this.issues.push({ severity, code, details: { text: `${this.label}: ${text}` }, expression: [path] });
  }

  /** The same element id in the profiles this one derives from (slicing and fixed values are inherited). */
  private inherited(id: string): ProfileNode[] {
    return this.chain.map((p) => p.byId.get(id)).filter((n): n is ProfileNode => n !== undefined);
  }

  checkRoot(resource: Record<string, unknown>, root: ProfileNode, path: string): void {
    if (root.element) this.checkInvariants(root.element, resource, path);
    this.checkChildren(resource, root, path);
  }

  private checkChildren(obj: Record<string, unknown>, node: ProfileNode, path: string): void {
    for (const [property, child] of node.children) {
      this.checkElement(child, itemsOf(obj, property, path), `${path}.${property.replace('[x]', '')}`, property);
    }
  }

  private checkElement(node: ProfileNode, items: readonly Item[], elementPath: string, property: string, sliceName?: string): void {
    const element = node.element;
    const what = sliceName ? `slice ${property}:${sliceName}` : property;
    if (element) {
      if (element.min !== undefined && items.length < element.min) {
        this.issue('error', 'required', elementPath, `${what} is required (at least ${String(element.min)}), found ${String(items.length)}`);
      }
      const max = maxOf(element);
      if (items.length > max) this.issue('error', 'structure', elementPath, `${what} allows at most ${String(max)}, found ${String(items.length)}`);
      for (const item of items) this.checkValue(element, item, property);
    }
    for (const item of items) {
      if (item.inner) this.checkChildren(item.inner, node, item.path);
    }
    if (node.slices.size > 0) this.checkSlices(node, items, elementPath, property);
  }

  private checkValue(element: ElementDefinition, item: Item, property: string): void {
    if (property.endsWith('[x]') && element.type?.length) {
      const type = choiceType(property.slice(0, -3), item.key);
      if (!element.type.some((t) => t.code === type)) {
        this.issue('error', 'structure', item.path, `${property} must be ${element.type.map((t) => t.code).join(' or ')}, not ${type}`);
        return;
      }
    }
    const fixed = fixedOf(element);
    if (fixed && item.value !== undefined) {
      const ok = fixed.kind === 'fixed' ? deepEqual(item.value, fixed.value) : includesPattern(item.value, fixed.value);
      if (!ok) this.issue('error', 'value', item.path, `must be ${fixed.kind === 'fixed' ? '' : 'like '}${JSON.stringify(fixed.value)}`);
    }
    this.checkBinding(element, item);
    this.checkInvariants(element, item.value ?? item.inner, item.path);
    const extensionProfile = element.type?.find((t) => t.code === 'Extension')?.profile?.[0];
    if (extensionProfile && isObject(item.value)) this.checkExtension(extensionProfile, item.value, item.path);
  }

  private checkBinding(element: ElementDefinition, item: Item): void {
    const binding = element.binding;
    if (!binding?.valueSet || (binding.strength !== 'required' && binding.strength !== 'extensible') || item.value === undefined) return;
    const expansion = this.source.terminology.expand(binding.valueSet);
    if (!expansion) return;
    const codings = codingsOf(item.value);
    const inSet = codings.some((c) => (c.system ? expansion.codes.has(`${c.system}|${c.code ?? ''}`) : [...expansion.systems].some((s) => expansion.codes.has(`${s}|${c.code ?? ''}`))));
    if (inSet) return;
    if (binding.strength === 'required') {
      this.issue('error', 'code-invalid', item.path, codings.length === 0 ? `needs a code from ${binding.valueSet} (required binding)` : `code is not in ${binding.valueSet} (required binding)`);
    } else if (codings.some((c) => c.system !== undefined && expansion.systems.has(c.system))) {
      // Extensible: another system may be used when the value set has no suitable concept, but a
      // code from the value set's own system that is not a member is an error.
      this.issue('error', 'code-invalid', item.path, `code is not in ${binding.valueSet}, yet its system is the value set's (extensible binding)`);
    }
  }

  private checkInvariants(element: ElementDefinition, value: unknown, path: string): void {
    for (const constraint of element.constraint ?? []) {
      if (constraint.severity !== 'error' || !constraint.expression || value === undefined) continue;
      let result: unknown[];
      try {
        result = evalFhirPath(constraint.expression, value);
      } catch {
        this.issue('warning', 'processing', path, `invariant ${constraint.key} could not be evaluated`);
        continue;
      }
      if (!(result.length === 1 && result[0] === true)) this.issue('error', 'invariant', path, `invariant ${constraint.key} failed: ${constraint.human}`);
    }
  }

  checkExtension(url: string, extension: Record<string, unknown>, path: string): void {
    const definition = this.source.profile(url);
    if (!definition || this.checkedExtensions.has(extension)) return; // no definition held: its url matched, nothing more to check
    this.checkedExtensions.add(extension);
    const walk = new ProfileWalk(this.source, [definition], `${this.label} > ${definition.definition.name}`, this.checkedExtensions);
    walk.checkRoot(extension, definition.root, path);
    this.issues.push(...walk.issues);
  }

  private discriminators(node: ProfileNode, property: string): ElementDefinitionSlicingDiscriminator[] | undefined {
    for (const n of [node, ...this.inherited(node.id)]) {
      const d = n.element?.slicing?.discriminator;
      if (d?.length) return d;
    }
    return property === 'extension' || property === 'modifierExtension' ? DEFAULT_EXTENSION_SLICING : undefined;
  }

  /** The value a slice requires at a discriminator path, from the slice or the profiles it derives from. */
  private expectedAt(slice: ProfileNode, path: string): { kind: 'fixed' | 'pattern'; value: unknown } | undefined {
    for (const candidate of [slice, ...this.inherited(slice.id)]) {
      if (path === 'url') {
        const profile = candidate.element?.type?.find((t) => t.code === 'Extension')?.profile?.[0];
        if (profile) return { kind: 'fixed', value: profile };
      }
      let node: ProfileNode | undefined = candidate;
      if (path !== '$this') for (const step of path.split('.')) node = node?.children.get(step);
      const fixed = fixedOf(node?.element);
      if (fixed) return fixed;
    }
    return undefined;
  }

  /** Whether an item belongs to a slice; undefined when the discriminator cannot be evaluated here. */
  private inSlice(item: Item, slice: ProfileNode, discriminators: readonly ElementDefinitionSlicingDiscriminator[]): boolean | undefined {
    for (const d of discriminators) {
      if (d.type !== 'value' && d.type !== 'pattern') return undefined;
      const expected = this.expectedAt(slice, d.path);
      if (!expected) return undefined;
      const actual = valuesAt(item.value, d.path);
      const match = actual.some((v) => (expected.kind === 'fixed' ? deepEqual(v, expected.value) : includesPattern(v, expected.value)));
      if (!match) return false;
    }
    return true;
  }

  private checkSlices(node: ProfileNode, items: readonly Item[], elementPath: string, property: string): void {
    // `value[x]:valueQuantity`: a slice per type of a choice element.
    if (property.endsWith('[x]')) {
      for (const [name, slice] of node.slices) this.checkElement(slice, items.filter((i) => i.key === name), elementPath, property, name);
      return;
    }
    const discriminators = this.discriminators(node, property);
    if (!discriminators) return;
    const matched = new Map<string, Item[]>();
    const unmatched = new Set(items);
    const undecidable = new Set<string>();
    for (const [name, slice] of node.slices) {
      const members: Item[] = [];
      for (const item of items) {
        const inSlice = this.inSlice(item, slice, discriminators);
        if (inSlice === undefined) undecidable.add(name);
        if (inSlice) {
          members.push(item);
          unmatched.delete(item);
        }
      }
      matched.set(name, members);
    }
    for (const [name, slice] of node.slices) {
      if (undecidable.has(name)) continue;
      this.checkElement(slice, matched.get(name) ?? [], elementPath, property, name);
    }
    const rules = [node, ...this.inherited(node.id)].map((n) => n.element?.slicing?.rules).find((r) => r !== undefined);
    if (rules === 'closed' && undecidable.size === 0) {
      for (const item of unmatched) this.issue('error', 'structure', item.path, `${property} matches none of the slices the profile allows (closed slicing)`);
    }
  }
}

/** Checks a resource (or an extension) against a profile and the UK Core profiles it derives from. */
export function validateAgainstProfile(source: ProfileSource, value: Record<string, unknown>, url: string, path: string): OperationOutcomeIssue[] {
  const chain: CompiledProfile[] = [];
  for (let current = source.profile(url); current && !chain.includes(current); current = source.profile(current.definition.baseDefinition ?? '')) chain.push(current);
  const issues: OperationOutcomeIssue[] = [];
  const checkedExtensions = new WeakSet();
  chain.forEach((profile, i) => {
    const walk = new ProfileWalk(source, chain.slice(i), profile.definition.name, checkedExtensions);
    walk.checkRoot(value, profile.root, path);
    issues.push(...walk.issues);
  });
  // Extensions the profile does not slice in are still checked against their definition when we
  // hold it (an unknown url passes: extensions are open).
  const first = chain[0];
  if (first) {
    const walk = new ProfileWalk(source, [first], first.definition.name, checkedExtensions);
    forEachExtension(value, path, (extension, at) => walk.checkExtension(extension['url'] as string, extension, at));
    issues.push(...walk.issues);
  }
  return issues;
}

/** Every extension and modifierExtension in a value (contained resources excluded), with its path. */
function forEachExtension(value: unknown, path: string, visit: (extension: Record<string, unknown>, path: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => forEachExtension(v, `${path}[${String(i)}]`, visit));
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'contained') continue;
    const at = `${path}.${key}`;
    if ((key === 'extension' || key === 'modifierExtension') && Array.isArray(child)) {
      child.forEach((e, i) => {
        if (isObject(e) && typeof e['url'] === 'string') visit(e, `${at}[${String(i)}]`);
      });
    }
    forEachExtension(child, at, visit);
  }
}
