import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { isError, UK_CORE_PROFILE_BASE, validateAgainstUkCoreProfile, validateIncoming } from '../../gateway/validation/uk-core';

/**
 * The GP Connect mapping's golden outputs (tests/fixtures/gp/*.expected.json) through the UK Core
 * validator: valid R4 and every claimed profile met; Patient, AllergyIntolerance, Condition and
 * MedicationStatement claim and meet their UK Core profiles (issue: GP records).
 */
const DIR = join(__dirname, '../fixtures/gp');
const MUST_CLAIM = ['Patient', 'AllergyIntolerance', 'Condition', 'MedicationStatement'];

function resourcesOf(value: unknown): Resource[] {
  if (Array.isArray(value)) return value.flatMap(resourcesOf);
  if (value !== null && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v['resourceType'] === 'string' && typeof v['id'] === 'string') return [v as unknown as Resource];
    return Object.values(v).flatMap(resourcesOf);
  }
  return [];
}

const resources = readdirSync(DIR)
  .filter((f) => f.endsWith('.expected.json'))
  .sort()
  .flatMap((file) => resourcesOf(JSON.parse(readFileSync(join(DIR, file), 'utf8')) as unknown).map((r, i) => [`${file} #${String(i)} ${r.resourceType}`, r] as const));

const messages = (issues: ReturnType<typeof validateIncoming>): string[] => issues.filter(isError).map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? ''}`);

test('the GP golden outputs hold each of the four UK Core types', () => {
  for (const type of MUST_CLAIM) expect(resources.filter(([, r]) => r.resourceType === type).length).toBeGreaterThan(0);
});

describe.each(resources)('%s', (_name, resource) => {
  test('is valid R4 and meets every profile it claims', () => {
    expect(messages(validateIncoming(resource))).toEqual([]);
  });
  if (MUST_CLAIM.includes(resource.resourceType)) {
    test(`claims and conforms to UKCore-${resource.resourceType}`, () => {
      const profile = `${UK_CORE_PROFILE_BASE}UKCore-${resource.resourceType}`;
      expect(resource.meta?.profile).toContain(profile);
      expect(messages(validateAgainstUkCoreProfile(resource, profile))).toEqual([]);
    });
  }
});
