import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { mapGpBundle } from '../../mappings/gp/map-bundle';
import { UKCORE_PROFILE } from '../../mappings/gp/extensions';
import { GP_FIXTURE_DIR, GP_RECEIVED_AT, gpFixture, gpFixtureCases } from './fixtures';

/**
 * Golden files: every tests/fixtures/gp/<case>.json (a GP Connect STU3 bundle, synthetic) is mapped
 * and compared with <case>.expected.json. UPDATE_GOLDEN=1 rewrites them; review the diff.
 */
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const cases = gpFixtureCases();

function validationErrors(resource: Resource): string[] {
  try {
    return validateResource(resource)
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? ''}`);
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.outcome.issue.map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? ''}`);
    throw err;
  }
}

/** Values from the bundle's Patient that must never appear in an issue text. */
function patientValues(input: unknown): string[] {
  const entries = (input as { entry?: { resource?: Record<string, unknown> }[] }).entry ?? [];
  const patient = entries.map((e) => e.resource).find((r) => r?.['resourceType'] === 'Patient') as
    | { identifier?: { value?: string }[]; name?: { family?: string; given?: string[] }[]; birthDate?: string }
    | undefined;
  if (!patient) return [];
  return [...(patient.identifier ?? []).map((i) => i.value ?? ''), ...(patient.name ?? []).flatMap((n) => [n.family ?? '', ...(n.given ?? [])]), patient.birthDate ?? ''].filter((v) => v.length >= 4);
}

beforeAll(() => {
  loadFhirDefinitions();
});

test('the fixture folder has a case per clinical area and the malformed cases', () => {
  expect(cases.filter((c) => !c.startsWith('malformed-')).length).toBeGreaterThanOrEqual(12);
  expect(cases.filter((c) => c.startsWith('malformed-')).length).toBeGreaterThanOrEqual(5);
});

describe.each(cases)('%s', (name) => {
  const input = gpFixture(name);
  const result = mapGpBundle(input, { receivedAt: GP_RECEIVED_AT, bundleKey: name });
  const actual = JSON.parse(JSON.stringify(result)) as unknown;

  test('maps to the golden result', () => {
    const expectedPath = join(GP_FIXTURE_DIR, `${name}.expected.json`);
    if (UPDATE || !existsSync(expectedPath)) writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
    expect(actual).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
  });

  if (name.startsWith('malformed-')) {
    test('is refused with an error naming where, and maps nothing', () => {
      expect(result.ok).toBe(false);
      expect(result.resources).toEqual([]);
      const errors = result.issues.filter((i) => i.severity === 'error');
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) expect(e.expression).toMatch(/^Bundle/);
    });
    return;
  }

  test('is accepted, and every resource (and the Provenance) is valid FHIR R4', () => {
    expect(result.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(result.ok).toBe(true);
    const all = [...result.resources, ...(result.provenance ? [result.provenance] : [])];
    const failures = all.map((r) => ({ resource: `${r.resourceType}/${r.id}`, errors: validationErrors(r) })).filter((f) => f.errors.length);
    expect(failures).toEqual([]);
  });

  test('Patient, AllergyIntolerance, Condition and MedicationStatement claim their UK Core profile', () => {
    const claims: Record<string, string> = { Patient: UKCORE_PROFILE.PATIENT, AllergyIntolerance: UKCORE_PROFILE.ALLERGY_INTOLERANCE, Condition: UKCORE_PROFILE.CONDITION, MedicationStatement: UKCORE_PROFILE.MEDICATION_STATEMENT };
    for (const r of result.resources) {
      const claim = claims[r.resourceType];
      if (claim) expect(r.meta?.profile).toEqual([claim]);
      else expect(r.meta?.profile).toBeUndefined();
    }
  });

  test('every resource names the practice as source, carries a confidentiality label, and references resolve within the record', () => {
    const ids = new Set(result.resources.map((r) => `${r.resourceType}/${r.id}`));
    for (const r of result.resources) {
      expect(r.meta?.source).toBe(result.source);
      expect(r.meta?.security?.[0]?.system).toBe('http://terminology.hl7.org/CodeSystem/v3-Confidentiality');
      expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
      const refs = JSON.stringify(r).match(/"reference":"[A-Za-z]+\/[^"]+"/g) ?? [];
      for (const ref of refs) expect(ids.has(ref.slice('"reference":"'.length, -1))).toBe(true);
    }
  });

  test('every reference to an Organization or a Practitioner carries its ODS code or worker id (the reference contract)', () => {
    const refs: { reference: string; identifier?: { system?: string } }[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (typeof o['reference'] === 'string' && /^(Organization|Practitioner)\//.test(o['reference'])) refs.push(o as (typeof refs)[number]);
        Object.values(o).forEach(walk);
      }
    };
    walk(result.resources);
    for (const ref of refs) {
      expect([ref.reference.split('/')[0], ref.identifier?.system]).toEqual(ref.reference.startsWith('Organization/') ? ['Organization', 'https://fhir.nhs.uk/Id/ods-organization-code'] : ['Practitioner', `${result.source ?? ''}/worker`]);
    }
  });

  test('issue texts carry no patient data', () => {
    const values = patientValues(input);
    for (const issue of result.issues) for (const v of values) expect(issue.text).not.toContain(v);
  });
});
