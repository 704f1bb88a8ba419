import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Observation, Resource } from '@medplum/fhirtypes';
import { fhirXmlToJson } from '../../adapters/fhir/fhir-xml';
import { UK_CORE_DIR } from '../../tests/validation/uk-core-dir';
import { indexedParams, loadFhirDefinitions } from '../fhir/definitions';
import { indexResource, paramValues } from './indexer';
import { compileParamExtractor } from './param-extractor';

/**
 * The compiled search-parameter walks give what the FHIRPath interpreter gives, for every
 * resource the repository holds as a fixture (golden outputs of every intake, their inputs, the
 * passports) and every example of the UK Core package: the index rows of each, compiled and
 * interpreted, are equal, parameter by parameter.
 */

beforeAll(() => {
  loadFhirDefinitions();
});

function resourcesIn(value: unknown, out: Resource[]): void {
  if (Array.isArray(value)) {
    for (const v of value) resourcesIn(v, out);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  if (typeof obj['resourceType'] === 'string' && /^[A-Z][A-Za-z]+$/.test(obj['resourceType'])) out.push(obj as unknown as Resource);
  for (const inner of Object.values(obj)) resourcesIn(inner, out);
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

const corpus: { from: string; resource: Resource }[] = [];
for (const file of jsonFiles(join(__dirname, '../../tests/fixtures'))) {
  const found: Resource[] = [];
  resourcesIn(JSON.parse(readFileSync(file, 'utf8')), found);
  corpus.push(...found.map((resource) => ({ from: file.slice(file.indexOf('tests/fixtures')), resource })));
}
const examples = join(UK_CORE_DIR, 'examples');
for (const file of readdirSync(examples).filter((f) => f.endsWith('.xml'))) {
  const found: Resource[] = [];
  resourcesIn(fhirXmlToJson(readFileSync(join(examples, file), 'utf8')), found);
  corpus.push(...found.map((resource) => ({ from: `uk-core/${file}`, resource })));
}

test('the corpus is large and varied', () => {
  expect(corpus.length).toBeGreaterThan(1000);
  expect(new Set(corpus.map((c) => c.resource.resourceType)).size).toBeGreaterThanOrEqual(30);
});

test('every resource of the corpus indexes the same, compiled and interpreted', () => {
  const differences: string[] = [];
  for (const { from, resource } of corpus) {
    for (const param of indexedParams(resource.resourceType).values()) {
      const compiled = JSON.stringify(paramValues(resource, param));
      const interpreted = JSON.stringify(paramValues(resource, param, true));
      if (compiled !== interpreted) differences.push(`${from} ${resource.resourceType}.${param.code}: ${compiled} ≠ ${interpreted}`);
    }
    expect(indexResource(resource)).toEqual(indexResource(resource, true));
  }
  expect(differences.slice(0, 20)).toEqual([]);
});

test('most parameters of the types the record holds are compiled, the rest interpreted', () => {
  const types = [...new Set(corpus.map((c) => c.resource.resourceType))];
  const params = types.flatMap((t) => [...indexedParams(t).values()].map((p) => [t, p] as const));
  const compiled = params.filter(([t, p]) => compileParamExtractor(t, p.expression.toString()) !== undefined);
  expect(compiled.length / params.length).toBeGreaterThan(0.85);
  // Shapes that are not a walk are left to the interpreter.
  expect(compileParamExtractor('Patient', 'Patient.telecom.where((system = \'email\'))')).toBeUndefined();
  expect(compileParamExtractor('Patient', '(Patient.deceased.exists() and (Patient.deceased != false))')).toBeUndefined();
  expect(compileParamExtractor('Patient', 'Patient.nosuchelement')).toBeUndefined();
  expect(compileParamExtractor('Patient', 'Encounter.subject')).toBeUndefined();
});

describe('the shapes compiled, against the interpreter', () => {
  const same = (resource: Resource, code: string): unknown => {
    const param = indexedParams(resource.resourceType).get(code);
    if (!param) throw new Error(`no parameter ${code}`);
    const compiled = paramValues(resource, param);
    expect(compileParamExtractor(resource.resourceType, param.expression.toString())).toBeDefined();
    expect(compiled).toEqual(paramValues(resource, param, true));
    return compiled;
  };

  test('a choice element without a type gives the type it holds; `as T` keeps only T; a union drops duplicates', () => {
    const quantity = { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' };
    const obs: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'pulse' },
      effectivePeriod: { start: '2026-01-01T10:00:00Z' },
      valueQuantity: quantity,
      component: [{ code: { text: 'a' }, valueQuantity: quantity }, { code: { text: 'b' }, valueString: 'x' }],
    };
    expect(same(obs, 'date')).toEqual([{ type: 'Period', value: { start: '2026-01-01T10:00:00Z' } }]);
    expect(same(obs, 'value-quantity')).toEqual([{ type: 'Quantity', value: quantity }]);
    expect(same(obs, 'combo-value-quantity')).toEqual([{ type: 'Quantity', value: quantity }]);
    expect(same(obs, 'value-concept')).toEqual([]);
  });

  test('where(resolve() is T) reads the target type as the interpreter does', () => {
    const obs: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/p1' },
    };
    expect(same(obs, 'patient')).toEqual([{ type: 'Reference', value: { reference: 'Patient/p1' } }]);
    expect(same({ ...obs, subject: { reference: 'Group/g1' } }, 'patient')).toEqual([]);
    // Absolute, conditional and logical references, as medplum's resolve() reads them.
    expect(same({ ...obs, subject: { reference: 'https://other.example/fhir/Patient/p1' } }, 'patient')).toEqual([]);
    expect(same({ ...obs, subject: { reference: 'Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018' } }, 'patient')).toHaveLength(1);
    expect(same({ ...obs, subject: { type: 'Patient', identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' } } }, 'patient')).toHaveLength(1);
    expect(same({ ...obs, subject: { display: 'no reference' } }, 'patient')).toEqual([]);
  });
});

test('a primitive present only as its extensions is left to the interpreter', () => {
  const patient = { resourceType: 'Patient', _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '2002-03-11T15:39:00+00:00' }] } } as Resource;
  const param = indexedParams('Patient').get('birthdate');
  if (!param) throw new Error('no birthdate');
  expect(compileParamExtractor('Patient', param.expression.toString())?.(patient)).toBeUndefined();
  expect(paramValues(patient, param)).toEqual(paramValues(patient, param, true));
});

test('empty values are no values, as in the interpreter; primitives with extensions go to the interpreter', () => {
  const cases: Resource[] = [
    { resourceType: 'Patient', gender: '' } as unknown as Resource,
    { resourceType: 'Patient', identifier: [], name: [{}], telecom: [{ system: 'phone', value: '' }] } as unknown as Resource,
    { resourceType: 'Patient', maritalStatus: {}, active: false, birthDate: '1940-01-01', _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1940-01-01T10:00:00Z' }] } } as unknown as Resource,
    { resourceType: 'Patient', name: [{ given: ['', 'Ada'], _given: [null, { extension: [{ url: 'http://example.org/x', valueString: 'y' }] }] }] } as unknown as Resource,
    { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: '', effectiveDateTime: '2026-01-01' } as unknown as Resource,
  ];
  for (const resource of cases) {
    for (const param of indexedParams(resource.resourceType).values()) {
      expect([param.code, paramValues(resource, param)]).toEqual([param.code, paramValues(resource, param, true)]);
    }
    expect(indexResource(resource)).toEqual(indexResource(resource, true));
  }
  const gender = indexedParams('Patient').get('gender');
  if (!gender) throw new Error('no gender');
  expect(compileParamExtractor('Patient', gender.expression.toString())?.({ resourceType: 'Patient', gender: '' } as unknown as Resource)).toEqual([]);
});
