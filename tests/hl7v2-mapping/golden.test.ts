import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { mapHl7Message } from '../../mappings/hl7v2/map-message';
import { FIXTURE_DIR, fixtureCases, fixtureContext, parseFixture } from './fixtures';

/**
 * Golden files: every tests/fixtures/hl7v2/<case>.hl7 is mapped and compared with
 * <case>.expected.json (event, resources, issues, cleared, visit). UPDATE_GOLDEN=1 rewrites the
 * expected files; review the diff.
 */
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const cases = fixtureCases();

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

/** Values from PID that must never appear in an issue text: identifiers, names, birth date. */
function patientDataIn(name: string): string[] {
  const pid = parseFixture(name).segment('PID');
  if (!pid) return [];
  const values: string[] = [];
  for (const seq of [2, 3, 4, 5, 7, 11, 13]) {
    for (let rep = 1; rep <= pid.repetitions(seq); rep++) {
      for (let c = 1; c <= 3; c++) {
        const v = pid.text(seq, c, 1, rep);
        if (v.length >= 4) values.push(v);
      }
    }
  }
  return values;
}

beforeAll(() => {
  loadFhirDefinitions();
});

test('the fixture folder has cases', () => {
  expect(cases.length).toBeGreaterThanOrEqual(30);
});

describe.each(cases)('%s', (name) => {
  const result = mapHl7Message(parseFixture(name), fixtureContext(name));
  // `event` and `visit` are written as null when absent, so the golden file says so.
  const actual = JSON.parse(JSON.stringify({ ...result, event: result.event ?? null, visit: result.visit ?? null })) as unknown;

  test('maps to the golden result', () => {
    const expectedPath = join(FIXTURE_DIR, `${name}.expected.json`);
    if (UPDATE || !existsSync(expectedPath)) {
      writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
    }
    expect(actual).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
  });

  test('every mapped resource is valid FHIR R4', () => {
    const failures = result.resources.map((r) => ({ resource: `${r.resourceType}/${r.id ?? ''}`, errors: validationErrors(r) })).filter((f) => f.errors.length);
    expect(failures).toEqual([]);
  });

  test('every resource carries the source and an id; references inside the message resolve', () => {
    const context = fixtureContext(name);
    for (const r of result.resources) {
      expect(r.meta?.source).toBe(context.source);
      expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const provenance = result.resources.find((r) => r.resourceType === 'Provenance');
    if (provenance?.resourceType === 'Provenance') {
      const targets = provenance.target.map((t) => t.reference);
      expect(targets).toEqual(result.resources.filter((r) => r !== provenance).map((r) => `${r.resourceType}/${r.id ?? ''}`));
    }
  });

  test('issue texts carry no patient data', () => {
    const secrets = patientDataIn(name);
    for (const issue of result.issues) for (const secret of secrets) expect(issue.text).not.toContain(secret);
  });

  test('mapping is deterministic', () => {
    const again = mapHl7Message(parseFixture(name), fixtureContext(name));
    expect(JSON.parse(JSON.stringify({ ...again, event: again.event ?? null, visit: again.visit ?? null }))).toEqual(actual);
  });
});
