import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { ExtractRejectedError } from '../../adapters/social-care/verify';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { mapExtractInMemory } from '../../mappings/social-care/map-extract';
import { readExtract } from './extract-rows';

/**
 * Golden files: every extract folder under tests/fixtures/social-care/<case>/ (built by
 * build-fixtures.py: one per table, one per item of the contract's mess list) is read as the
 * importer reads it and mapped; the resources and issues are compared with <case>.expected.json.
 * UPDATE_GOLDEN=1 rewrites the expected files; review the diff.
 */
const FIXTURES = join(__dirname, '../fixtures/social-care');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const cases = readdirSync(FIXTURES)
  .filter((name) => statSync(join(FIXTURES, name)).isDirectory())
  .sort();

/**
 * RiskAssessment ras-2 ("probability is decimal implies (probability as decimal) <= 100") is
 * reported by @medplum/core's validator when there is no probability at all; it only constrains a
 * probability that is present, and ours carry a qualitative risk instead.
 */
const VALIDATOR_FALSE_POSITIVES = [/^RiskAssessment\.prediction\[\d+\]: Constraint ras-2 not met/];

function validationErrors(resource: Resource): string[] {
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    issues = err.outcome.issue;
  }
  return issues
    .filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? ''}`)
    .filter((text) => !VALIDATOR_FALSE_POSITIVES.some((re) => re.test(text)));
}

async function mapCase(name: string): Promise<{ actual: unknown; resources: Resource[] }> {
  try {
    const { verified, context, rows, csvIssues } = await readExtract(join(FIXTURES, name));
    const { resources, issues } = mapExtractInMemory(context, rows, { duplicates: verified.duplicates });
    return { actual: JSON.parse(JSON.stringify({ csvIssues, issues, resources })) as unknown, resources };
  } catch (err) {
    if (err instanceof ExtractRejectedError) return { actual: { rejected: err.problems }, resources: [] };
    throw err;
  }
}

beforeAll(() => {
  loadFhirDefinitions();
});

test('there is a case for every table and every item of the mess list', () => {
  for (const table of ['persons', 'relationships', 'allocations', 'referrals', 'assessments', 'services', 'care-plans', 'alerts', 'consents']) expect(cases).toContain(`table-${table}`);
  for (const mess of ['bom-crlf-trailing-columns', 'windows-1252', 'nhs-numbers', 'dates', 'unknown-codes', 'unknown-person', 'duplicate-rows', 'header-case-unknown-column']) expect(cases).toContain(`mess-${mess}`);
});

describe.each(cases)('%s', (name) => {
  test('maps to the golden result', async () => {
    const { actual } = await mapCase(name);
    const expectedPath = join(FIXTURES, `${name}.expected.json`);
    if (UPDATE || !existsSync(expectedPath)) writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
    expect(actual).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
  });

  test('every resource is valid FHIR R4 with an id and the source', async () => {
    const { resources } = await mapCase(name);
    const failures = resources.map((r) => ({ resource: `${r.resourceType}/${r.id ?? ''}`, errors: validationErrors(r) })).filter((f) => f.errors.length);
    expect(failures).toEqual([]);
    for (const r of resources) {
      expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.meta?.source).toBe('https://social-care.example-borough.gov.uk/carefirst');
    }
  });

  test('mapping twice gives the same resources (ids and content are deterministic)', async () => {
    expect((await mapCase(name)).actual).toEqual((await mapCase(name)).actual);
  });
});
