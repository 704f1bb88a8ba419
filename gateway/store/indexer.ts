import { evalFhirPathTyped, toTypedValue, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { IndexKind, indexedParams, patientCompartmentParams, type IndexedParam } from '../fhir/definitions';
import { parseFhirDateRange } from '../fhir/dates';
import { NHS_NUMBER_SYSTEM, normaliseNhsNumber } from '../../mappings/identity/nhs-number';
import { compileParamExtractor, type ParamExtractor } from './param-extractor';

/** Index rows for one resource, one array per index table, filled from the FHIR R4 search parameters. */
export interface IndexRows {
  token: { code: string; system: string | null; value: string }[];
  string: { code: string; value: string; raw: string }[];
  date: { code: string; low: string; high: string }[];
  reference: { code: string; targetType: string; targetId: string }[];
  number: { code: string; value: number; system: string | null; unit: string | null }[];
}

/** NHS numbers are indexed as bare digits however a source wrote them ('943 476 5919'), so every lookup finds them. */
export function indexedIdentifierValue(system: string | null | undefined, value: string): string {
  return system === NHS_NUMBER_SYSTEM ? (normaliseNhsNumber(value) ?? value) : value;
}

/** Case- and accent-insensitive form used by string search (FHIR R4 §3.1.1.5.7). */
export function normalizeString(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();
}

/** 'Patient/123', 'https://x/fhir/Patient/123' or 'Patient/123/_history/2' → ['Patient', '123']. */
export function parseReference(reference: string): [string, string] | undefined {
  const parts = reference.split('/');
  const history = parts.indexOf('_history');
  const usable = history >= 0 ? parts.slice(0, history) : parts;
  if (usable.length < 2) return undefined;
  const type = usable[usable.length - 2] as string;
  const id = usable[usable.length - 1] as string;
  if (!/^[A-Z][A-Za-z]+$/.test(type) || !id) return undefined;
  return [type, id];
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function addToken(rows: IndexRows, param: IndexedParam, tv: TypedValue): void {
  const v = tv.value as Record<string, unknown> | string | number | boolean;
  switch (tv.type) {
    case 'Identifier': {
      const id = v as { system?: string; value?: string };
      if (id.value) rows.token.push({ code: param.code, system: id.system ?? null, value: indexedIdentifierValue(id.system, id.value) });
      return;
    }
    case 'CodeableConcept': {
      const cc = v as { coding?: { system?: string; code?: string }[] };
      for (const coding of cc.coding ?? []) {
        if (coding.code) rows.token.push({ code: param.code, system: coding.system ?? null, value: coding.code });
      }
      return;
    }
    case 'Coding': {
      const coding = v as { system?: string; code?: string };
      if (coding.code) rows.token.push({ code: param.code, system: coding.system ?? null, value: coding.code });
      return;
    }
    case 'ContactPoint': {
      const cp = v as { system?: string; value?: string };
      if (cp.value) rows.token.push({ code: param.code, system: cp.system ?? null, value: cp.value });
      return;
    }
    default:
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        rows.token.push({ code: param.code, system: null, value: String(v) });
      }
  }
}

function addString(rows: IndexRows, param: IndexedParam, tv: TypedValue): void {
  const v = tv.value as Record<string, unknown> | string;
  let values: string[];
  switch (tv.type) {
    case 'HumanName': {
      const n = v as Record<string, unknown>;
      values = [...strings(n['family']), ...strings(n['given']), ...strings(n['prefix']), ...strings(n['suffix']), ...strings(n['text'])];
      break;
    }
    case 'Address': {
      const a = v as Record<string, unknown>;
      values = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'].flatMap((k) => strings(a[k]));
      break;
    }
    default:
      values = strings(v);
  }
  for (const raw of values) rows.string.push({ code: param.code, value: normalizeString(raw), raw });
}

function addDate(rows: IndexRows, param: IndexedParam, tv: TypedValue): void {
  if (tv.type === 'Period') {
    const p = tv.value as { start?: string; end?: string };
    const low = p.start ? parseFhirDateRange(p.start)?.low.toISOString() : '-infinity';
    const high = p.end ? parseFhirDateRange(p.end)?.high.toISOString() : 'infinity';
    if (low && high && (p.start || p.end)) rows.date.push({ code: param.code, low, high });
    return;
  }
  if (typeof tv.value !== 'string') return;
  const range = parseFhirDateRange(tv.value);
  if (range) rows.date.push({ code: param.code, low: range.low.toISOString(), high: range.high.toISOString() });
}

function addReference(rows: IndexRows, param: IndexedParam, tv: TypedValue): void {
  const ref = typeof tv.value === 'string' ? tv.value : (tv.value as { reference?: string }).reference;
  if (!ref) return;
  const parsed = parseReference(ref);
  if (parsed) rows.reference.push({ code: param.code, targetType: parsed[0], targetId: parsed[1] });
}

function addNumber(rows: IndexRows, param: IndexedParam, tv: TypedValue): void {
  if (typeof tv.value === 'number') {
    rows.number.push({ code: param.code, value: tv.value, system: null, unit: null });
    return;
  }
  const q = tv.value as { value?: number; system?: string; code?: string; unit?: string } | null;
  if (q && typeof q.value === 'number') rows.number.push({ code: param.code, value: q.value, system: q.system ?? null, unit: q.code ?? q.unit ?? null });
}

/** Per parameter: its compiled walk, or null where only the FHIRPath interpreter can answer. */
const extractors = new WeakMap<IndexedParam, ParamExtractor | null>();

function extractorOf(resourceType: string, param: IndexedParam): ParamExtractor | null {
  let extractor = extractors.get(param);
  if (extractor === undefined) {
    extractor = compileParamExtractor(resourceType, param.expression.toString()) ?? null;
    extractors.set(param, extractor);
  }
  return extractor;
}

/** A parameter's values for a resource: the compiled walk where there is one, else FHIRPath (the same answer, slower). */
export function paramValues(resource: Resource, param: IndexedParam, interpretOnly = false): TypedValue[] {
  const extractor = interpretOnly ? null : extractorOf(resource.resourceType, param);
  const compiled = extractor ? extractor(resource) : undefined;
  if (compiled) return compiled;
  try {
    return evalFhirPathTyped(param.expression, [toTypedValue(resource)]);
  } catch {
    // An expression that does not apply to this resource's shape indexes nothing.
    return [];
  }
}

/** Index rows for a resource. `interpretOnly` evaluates every expression with FHIRPath (the reference the compiled walks are tested against). */
export function indexResource(resource: Resource, interpretOnly = false): IndexRows {
  const rows: IndexRows = { token: [], string: [], date: [], reference: [], number: [] };
  for (const param of indexedParams(resource.resourceType).values()) {
    const values = paramValues(resource, param, interpretOnly);
    for (const tv of values) {
      switch (param.kind) {
        case IndexKind.TOKEN:
          addToken(rows, param, tv);
          break;
        case IndexKind.URI:
          if (typeof tv.value === 'string') rows.token.push({ code: param.code, system: null, value: tv.value });
          break;
        case IndexKind.STRING:
          addString(rows, param, tv);
          break;
        case IndexKind.DATE:
          addDate(rows, param, tv);
          break;
        case IndexKind.REFERENCE:
          addReference(rows, param, tv);
          break;
        case IndexKind.NUMBER:
        case IndexKind.QUANTITY:
          addNumber(rows, param, tv);
          break;
      }
    }
  }
  return rows;
}

/** The ids of the Patients whose compartment holds this resource (FHIR CompartmentDefinition/patient). */
export function patientCompartmentIds(resource: Resource, rows: IndexRows): string[] {
  const ids = new Set<string>();
  if (resource.resourceType === 'Patient' && resource.id) ids.add(resource.id);
  const params = new Set(patientCompartmentParams(resource.resourceType));
  for (const ref of rows.reference) {
    if (ref.targetType === 'Patient' && params.has(ref.code)) ids.add(ref.targetId);
  }
  return [...ids].sort();
}

/** meta.security as 'system|code' strings, for the access filter. */
export function securityLabels(resource: Resource): string[] {
  return (resource.meta?.security ?? []).flatMap((c) => (c.code ? [`${c.system ?? ''}|${c.code}`] : []));
}
