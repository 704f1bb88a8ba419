import { badRequest, OperationOutcomeError } from '@medplum/core';
import { IndexKind, indexedParams, isResourceType, type IndexedParam } from '../fhir/definitions';
import { parseFhirDateRange } from '../fhir/dates';
import { indexedIdentifierValue, normalizeString } from '../store/indexer';
import { Prefix, type IncludeSpec, type IndexTable, type SearchFilter, type SearchQuery, type SortKey } from '../store/search-query';

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

/** FHIR logical ids: [A-Za-z0-9\-\.]{1,64} (R4 §2.26.0.1). */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

const RESULT_PARAMS = new Set(['_count', '_sort', '_include', '_revinclude', '_summary', '_total', '_cursor', '_format', '_pretty']);
const PREFIXES = new Set<string>(Object.values(Prefix));

function fail(message: string, parameter: string): never {
  throw new OperationOutcomeError(badRequest(message, parameter));
}

/**
 * Comma separates alternatives (OR). A backslash escapes ',', '|', '$' and itself (R4 §3.1.1.5.1);
 * only the commas are resolved here, so a token can still tell an escaped '|' from its separator.
 */
function splitValues(raw: string): string[] {
  const values: string[] = [];
  let current = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charAt(i);
    const after = raw.charAt(i + 1);
    if (c === '\\' && after === ',') {
      current += after;
      i++;
    } else if (c === '\\' && (after === '\\' || after === '|' || after === '$')) {
      current += c + after;
      i++;
    } else if (c === ',') {
      values.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  values.push(current);
  return values;
}

function unescapeValue(value: string): string {
  return value.replace(/\\([\\|$])/g, '$1');
}

/** The index of the first '|' not escaped by a backslash, or -1. */
function unescapedBar(value: string): number {
  for (let i = 0; i < value.length; i++) {
    if (value.charAt(i) === '\\') i++;
    else if (value.charAt(i) === '|') return i;
  }
  return -1;
}

function splitPrefix(value: string): { prefix: Prefix; rest: string } {
  const candidate = value.slice(0, 2);
  if (PREFIXES.has(candidate) && /^[a-z]{2}[\d-]/.test(value)) return { prefix: candidate as Prefix, rest: value.slice(2) };
  return { prefix: Prefix.EQ, rest: value };
}

function tableOf(kind: IndexKind): IndexTable {
  switch (kind) {
    case IndexKind.TOKEN:
    case IndexKind.URI:
      return 'sp_token';
    case IndexKind.STRING:
      return 'sp_string';
    case IndexKind.DATE:
      return 'sp_date';
    case IndexKind.REFERENCE:
      return 'sp_reference';
    case IndexKind.NUMBER:
    case IndexKind.QUANTITY:
      return 'sp_number';
  }
}

function parseDates(key: string, values: string[]): { prefix: Prefix; range: NonNullable<ReturnType<typeof parseFhirDateRange>> }[] {
  return values.map((v) => {
    const { prefix, rest } = splitPrefix(v);
    const range = parseFhirDateRange(rest);
    if (!range) fail(`'${v}' is not a valid date for ${key}: expected [prefix]YYYY[-MM[-DD[Thh:mm[:ss][zone]]]]`, key);
    return { prefix, range };
  });
}

function parseNumber(key: string, raw: string, quantity: boolean): Extract<SearchFilter, { kind: 'number' }>['values'][number] {
  const { prefix, rest } = splitPrefix(raw);
  const [num, system, unit] = quantity ? rest.split(/(?<!\\)\|/).map(unescapeValue) : [rest];
  if (!num || !/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(num)) fail(`'${raw}' is not a valid number for ${key}`, key);
  const value = Number(num);
  // Implicit precision: '100' means [99.5, 100.5), '100.0' means [99.95, 100.05).
  const decimals = num.includes('.') ? (num.split('.')[1] as string).replace(/[eE].*$/, '').length : 0;
  const half = 0.5 * 10 ** -decimals;
  return { prefix, value, low: value - half, high: value + half, system: system || undefined, unit: unit || undefined };
}

function parseReferenceValue(key: string, raw: string, typeModifier: string | undefined, param: IndexedParam): { type?: string; id: string } {
  const parts = raw.split('/').filter((p) => p.length > 0);
  const history = parts.indexOf('_history');
  const usable = history >= 0 ? parts.slice(0, history) : parts;
  let type = typeModifier;
  let id: string | undefined;
  if (usable.length >= 2) {
    type = usable[usable.length - 2];
    id = usable[usable.length - 1];
  } else {
    id = usable[0];
    if (!type && param.targets.length === 1) type = param.targets[0];
  }
  if (!id || !ID_PATTERN.test(id)) fail(`'${raw}' is not a valid reference for ${key}: expected [Type/]id`, key);
  if (type !== undefined && (!isResourceType(type) || (param.targets.length > 0 && !param.targets.includes(type)))) {
    fail(`${key} cannot refer to a resource of type '${type}'`, key);
  }
  return { type, id };
}

function parseFilter(resourceType: string, key: string, raw: string): SearchFilter {
  const [code, modifier, ...rest] = key.split(':');
  if (!code || rest.length > 0) fail(`Unknown search parameter '${key}'`, key);
  if (code.includes('.')) fail(`Chained search ('${key}') is not supported`, key);
  const escapedValues = splitValues(raw);
  if (escapedValues.some((v) => v.length === 0)) fail(`Empty value for search parameter '${key}'`, key);
  const values = escapedValues.map(unescapeValue);

  if (code === '_id') {
    if (modifier) fail(`Modifier ':${modifier}' is not supported on _id`, key);
    for (const v of values) if (!ID_PATTERN.test(v)) fail(`'${v}' is not a valid resource id`, key);
    return { kind: 'id', values };
  }
  if (code === '_lastUpdated') {
    if (modifier) fail(`Modifier ':${modifier}' is not supported on _lastUpdated`, key);
    return { kind: 'lastUpdated', values: parseDates(key, values) };
  }
  const param = indexedParams(resourceType).get(code);
  if (!param) fail(`Unknown search parameter '${code}' for ${resourceType}`, key);

  if (modifier === 'missing') {
    if (raw !== 'true' && raw !== 'false') fail(`${key} takes true or false`, key);
    return { kind: 'missing', code, table: tableOf(param.kind), missing: raw === 'true' };
  }
  switch (param.kind) {
    case IndexKind.TOKEN:
    case IndexKind.URI: {
      if (modifier && modifier !== 'not') fail(`Modifier ':${modifier}' is not supported on ${code}`, key);
      const parsed = escapedValues.map((v) => {
        const bar = unescapedBar(v);
        if (param.kind === IndexKind.URI || bar < 0) return { value: unescapeValue(v) };
        const system = unescapeValue(v.slice(0, bar));
        const value = indexedIdentifierValue(system, unescapeValue(v.slice(bar + 1)));
        if (system === '' && value === '') fail(`'${v}' is not a valid token for ${key}`, key);
        return { system: system === '' ? null : system, value: value === '' ? undefined : value };
      });
      return { kind: 'token', code, negate: modifier === 'not', values: parsed };
    }
    case IndexKind.STRING: {
      if (modifier && modifier !== 'exact' && modifier !== 'contains') fail(`Modifier ':${modifier}' is not supported on ${code}`, key);
      const mode = modifier === 'exact' ? 'exact' : modifier === 'contains' ? 'contains' : 'start';
      return { kind: 'string', code, mode, values: mode === 'exact' ? values : values.map(normalizeString) };
    }
    case IndexKind.DATE:
      if (modifier) fail(`Modifier ':${modifier}' is not supported on ${code}`, key);
      return { kind: 'date', code, values: parseDates(key, values) };
    case IndexKind.REFERENCE: {
      if (modifier && !isResourceType(modifier)) fail(`Modifier ':${modifier}' is not supported on ${code}`, key);
      return { kind: 'reference', code, values: values.map((v) => parseReferenceValue(key, v, modifier, param)) };
    }
    case IndexKind.NUMBER:
    case IndexKind.QUANTITY:
      if (modifier) fail(`Modifier ':${modifier}' is not supported on ${code}`, key);
      return { kind: 'number', code, values: escapedValues.map((v) => parseNumber(key, v, param.kind === IndexKind.QUANTITY)) };
  }
}

function parseSort(resourceType: string, raw: string): SortKey[] {
  return raw.split(',').map((item) => {
    const descending = item.startsWith('-');
    const code = descending ? item.slice(1) : item;
    if (code === '_id' || code === '_lastUpdated') return { code, descending };
    const param = indexedParams(resourceType).get(code);
    if (!param) fail(`Cannot sort ${resourceType} by unknown parameter '${code}'`, '_sort');
    return { code, descending, table: tableOf(param.kind) };
  });
}

function parseInclude(resourceType: string, raw: string, key: '_include' | '_revinclude'): IncludeSpec {
  const [sourceType, param, targetType, ...rest] = raw.split(':');
  if (!sourceType || !param || rest.length > 0) fail(`'${raw}' is not a valid ${key}: expected Type:parameter[:targetType]`, key);
  if (key === '_include' && sourceType !== resourceType) fail(`_include must start with the searched type ${resourceType}`, key);
  if (!isResourceType(sourceType)) fail(`Unknown resource type '${sourceType}' in ${key}`, key);
  const definition = indexedParams(sourceType).get(param);
  if (definition?.kind !== IndexKind.REFERENCE) fail(`'${param}' is not a reference parameter of ${sourceType}`, key);
  if (targetType !== undefined && !definition.targets.includes(targetType)) fail(`${sourceType}:${param} cannot refer to '${targetType}'`, key);
  if (key === '_revinclude' && targetType === undefined && definition.targets.length > 0 && !definition.targets.includes(resourceType)) {
    fail(`${sourceType}:${param} cannot refer to ${resourceType}`, key);
  }
  return { sourceType, param, targetType: key === '_revinclude' ? (targetType ?? resourceType) : targetType };
}

function single(params: URLSearchParams, key: string): string | undefined {
  const all = params.getAll(key);
  if (all.length > 1) fail(`${key} may be given only once`, key);
  return all[0];
}

/** Parses and validates a FHIR search; every problem is a 400 OperationOutcome naming the parameter. */
export function parseSearch(resourceType: string, params: URLSearchParams): SearchQuery {
  const filters: SearchFilter[] = [];
  for (const [key, value] of params) {
    if (RESULT_PARAMS.has(key) || key.startsWith('_include') || key.startsWith('_revinclude')) continue;
    filters.push(parseFilter(resourceType, key, value));
  }
  const countText = single(params, '_count');
  let count = DEFAULT_COUNT;
  if (countText !== undefined) {
    if (!/^\d{1,9}$/.test(countText)) fail(`_count must be a whole number from 0 to ${MAX_COUNT}`, '_count');
    count = Number(countText);
    if (count > MAX_COUNT) fail(`_count may be at most ${MAX_COUNT}`, '_count');
  }
  const summary = single(params, '_summary');
  if (summary !== undefined && summary !== 'count' && summary !== 'false') fail(`_summary=${summary} is not supported (count and false are)`, '_summary');
  const total = single(params, '_total');
  if (total !== undefined && !['none', 'estimate', 'accurate'].includes(total)) fail(`_total must be none, estimate or accurate`, '_total');
  const format = single(params, '_format');
  if (format !== undefined && !['json', 'application/json', 'application/fhir+json'].includes(format)) fail(`Only JSON is served (_format=${format})`, '_format');
  for (const key of params.keys()) {
    if ((key.startsWith('_include') && key !== '_include') || (key.startsWith('_revinclude') && key !== '_revinclude')) fail(`${key} is not supported (_include and _revinclude are, one level)`, key);
  }
  const sortText = single(params, '_sort');
  return {
    resourceType,
    filters,
    sort: sortText ? parseSort(resourceType, sortText) : [],
    count: summary === 'count' ? 0 : count,
    cursor: single(params, '_cursor'),
    total: total === 'none' ? 'none' : 'accurate',
    summaryCount: summary === 'count',
    include: params.getAll('_include').map((v) => parseInclude(resourceType, v, '_include')),
    revInclude: params.getAll('_revinclude').map((v) => parseInclude(resourceType, v, '_revinclude')),
  };
}
