import { capitalize, removeDuplicates, tryGetDataType, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

/**
 * Search parameter values without the FHIRPath interpreter, for the expressions that are only a
 * walk down the resource's elements. Nine in ten of the R4 search parameters a resource type has
 * are such a walk (`Patient.identifier`, `Encounter.participant.individual`, `Observation.value
 * as Quantity`, `Condition.subject.where(resolve() is Patient)`); interpreting them costs about
 * 100 µs a resource, most of the time the store spends indexing a write. Here each is compiled
 * once, against the R4 type definitions, into the element names and types to follow, and then
 * walks the resource's JSON directly.
 *
 * The answer is exactly what `evalFhirPathTyped` gives for these shapes (medplum 4's semantics,
 * which the store was built on): the same values with the same FHIR types, in the same order;
 * `x as T` keeps the values of type T; the function form `.as(T)` passes its input through, as
 * medplum does; `where(resolve() is T)` keeps references whose target type, as medplum's
 * `resolve()` reads it from the reference, is T; a union removes duplicates.
 * `tests/store/param-extractor.test.ts` holds every fixture and UK Core example to that.
 * Any other shape (functions, comparisons, `.exists()`) is not compiled: the indexer interprets it.
 */

/**
 * Values of one search parameter for a resource, or undefined when this resource needs the
 * interpreter after all (a primitive element with `_element` extensions).
 */
export type ParamExtractor = (resource: Resource) => TypedValue[] | undefined;

interface Step {
  /** The JSON keys the element may be under, with the FHIR type each key holds (one, or one per type of a choice element). */
  readonly keys: readonly (readonly [key: string, type: string])[];
}

interface Branch {
  readonly steps: readonly Step[];
  /** `x as T`: keep values of type T. */
  readonly ofType?: string;
  /** `where(resolve() is T)`: keep references to a T. */
  readonly resolvesTo?: string;
}

const PATH = /^[A-Z][A-Za-z]*(\.[a-z][A-Za-z]*)+$/;
const TYPE_NAME = /^[A-Za-z]+$/;

/** Splits at the '|' that are outside parentheses; undefined when the parentheses do not balance. */
function splitUnion(expression: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
    if (depth < 0) return undefined;
  }
  if (depth !== 0) return undefined;
  parts.push(expression.slice(start).trim());
  return parts;
}

/** Whether the whole string is one parenthesised group: '(a | b)' yes, '(a) | (b)' no. */
function isWrapped(s: string): boolean {
  if (!s.startsWith('(') || !s.endsWith(')')) return false;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    if (depth === 0 && i < s.length - 1) return false;
  }
  return true;
}

/** The element `name` of FHIR type `type`: its JSON keys and types, or undefined if the definitions do not know it. */
function stepOf(type: string, name: string): Step | undefined {
  const schema = tryGetDataType(type);
  if (!schema) return undefined;
  const plain = schema.elements[name];
  if (plain) {
    if (plain.type.length !== 1) return undefined;
    return { keys: [[name, (plain.type[0] as { code: string }).code]] };
  }
  const choice = schema.elements[`${name}[x]`];
  if (choice && choice.type.length > 0) return { keys: choice.type.map((t) => [`${name}${capitalize(t.code)}`, t.code] as const) };
  return undefined;
}

function compilePath(resourceType: string, path: string): Step[] | undefined {
  if (!PATH.test(path)) return undefined;
  const [root, ...names] = path.split('.');
  if (root !== resourceType) return undefined;
  const steps: Step[] = [];
  let types = [resourceType];
  for (const name of names) {
    // A step after a choice element would have to follow several types: not compiled.
    if (types.length !== 1) return undefined;
    const step = stepOf(types[0] as string, name);
    if (!step) return undefined;
    steps.push(step);
    types = step.keys.map(([, t]) => t);
  }
  return steps;
}

function compileTerm(resourceType: string, term: string): Branch[] | undefined {
  const t = term.trim();
  if (isWrapped(t)) return compileUnion(resourceType, t.slice(1, -1));
  let m = /^(\S+) as (\S+)$/.exec(t);
  if (m && TYPE_NAME.test(m[2] as string)) {
    const steps = compilePath(resourceType, m[1] as string);
    return steps ? [{ steps, ofType: m[2] }] : undefined;
  }
  m = /^(\S+)\.as\(([A-Za-z]+)\)$/.exec(t);
  if (m) {
    const steps = compilePath(resourceType, m[1] as string);
    return steps ? [{ steps }] : undefined;
  }
  m = /^(\S+)\.where\(\(?resolve\(\) is ([A-Za-z]+)\)?\)$/.exec(t);
  if (m) {
    const steps = compilePath(resourceType, m[1] as string);
    const last = steps?.[steps.length - 1];
    // Only references are resolved here.
    return steps && last?.keys.length === 1 && last.keys[0]?.[1] === 'Reference' ? [{ steps, resolvesTo: m[2] }] : undefined;
  }
  const steps = compilePath(resourceType, t);
  return steps ? [{ steps }] : undefined;
}

function compileUnion(resourceType: string, expression: string): Branch[] | undefined {
  const parts = splitUnion(expression);
  if (!parts || parts.some((p) => p.length === 0)) return undefined;
  if (parts.length === 1) return compileTerm(resourceType, parts[0] as string);
  const branches: Branch[] = [];
  for (const part of parts) {
    const compiled = compileTerm(resourceType, part);
    if (!compiled) return undefined;
    branches.push(...compiled);
  }
  return branches;
}

function isEmptyValue(value: unknown): boolean {
  if (value === null || value === '') return true;
  if (typeof value !== 'object') return false;
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

function push(out: TypedValue[], value: unknown, type: string): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value as unknown[]) if (v !== undefined && v !== null) out.push({ type, value: v });
    return;
  }
  out.push({ type, value });
}

function walk(resource: Resource, branch: Branch): TypedValue[] | undefined {
  let current: TypedValue[] = [{ type: resource.resourceType, value: resource }];
  for (const step of branch.steps) {
    const next: TypedValue[] = [];
    for (const item of current) {
      const obj = item.value as Record<string, unknown>;
      if (typeof obj !== 'object') continue;
      for (const [key, type] of step.keys) {
        // Primitive extensions (`_birthDate`) are merged into the value by the interpreter: its answer.
        if (obj[`_${key}`] !== undefined) return undefined;
        const v = obj[key];
        if (v !== undefined) {
          // As the interpreter: an empty value ('', {}, [], null) is no value, and ends a choice's search.
          if (!isEmptyValue(v)) push(next, v, type);
          if (step.keys.length > 1) break;
        }
      }
    }
    current = next;
    if (current.length === 0) return current;
  }
  if (branch.ofType !== undefined) return current.filter((v) => v.type === branch.ofType);
  if (branch.resolvesTo !== undefined) return current.filter((v) => resolvedType(v.value as Record<string, unknown>) === branch.resolvesTo);
  return current;
}

/** The target type medplum's `resolve()` gives a Reference, without resolving it. */
function resolvedType(ref: Record<string, unknown>): string | undefined {
  const contained = ref['resource'] as { resourceType?: string } | undefined;
  if (contained && typeof contained === 'object') return contained.resourceType;
  let target: string | undefined;
  if (typeof ref['reference'] === 'string' && ref['reference'] !== '') target = ref['reference'];
  else if (typeof ref['type'] === 'string' && ref['type'] !== '' && ref['identifier']) {
    const id = ref['identifier'] as { system?: string; value?: string };
    target = `${ref['type']}?identifier=${String(id.system)}|${String(id.value)}`;
  }
  if (target === undefined) return undefined;
  if (target.includes('?')) return target.split('?')[0];
  if (target.includes('/')) return target.split('/')[0];
  return undefined;
}

/**
 * The extractor for a search parameter's expression on one resource type (the expression as
 * narrowed to that type, e.g. `Patient.identifier`), or undefined when it is not a plain walk.
 */
export function compileParamExtractor(resourceType: string, expression: string): ParamExtractor | undefined {
  const branches = compileUnion(resourceType, expression);
  if (!branches || branches.length === 0) return undefined;
  if (branches.length === 1) {
    const only = branches[0] as Branch;
    return (resource) => walk(resource, only);
  }
  return (resource) => {
    const values: TypedValue[] = [];
    for (const branch of branches) {
      const found = walk(resource, branch);
      if (found === undefined) return undefined;
      values.push(...found);
    }
    return removeDuplicates(values);
  };
}
