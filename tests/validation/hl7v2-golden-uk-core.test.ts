import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { isError, supportedUkCoreProfiles, UK_CORE_PROFILE_BASE, validateAgainstUkCoreProfile, validateIncoming } from '../../gateway/validation/uk-core';

/**
 * The hospital feed's golden outputs (tests/fixtures/hl7v2/*.expected.json) through the validator
 * the FHIR intake uses: valid R4, every claimed profile met, and each resource conforms to the
 * UK Core profile of its type whether or not it claims it (so the HL7v2 mapping could claim them).
 */
const DIR = join(__dirname, '../fixtures/hl7v2');
const supported = new Set(supportedUkCoreProfiles());
const resources = readdirSync(DIR)
  .filter((f) => f.endsWith('.expected.json'))
  .sort()
  .flatMap((file) => ((JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { resources?: Resource[] }).resources ?? []).map((r, i) => [`${file} #${String(i)} ${r.resourceType}`, r] as const));

const messages = (issues: ReturnType<typeof validateIncoming>): string[] => issues.filter(isError).map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? ''}`);

test('the golden outputs hold Patients and Encounters to check', () => {
  expect(resources.filter(([, r]) => r.resourceType === 'Patient').length).toBeGreaterThanOrEqual(30);
  expect(resources.filter(([, r]) => r.resourceType === 'Encounter').length).toBeGreaterThanOrEqual(20);
});

describe.each(resources)('%s', (_name, resource) => {
  test('is valid R4 and meets every profile it claims', () => {
    expect(messages(validateIncoming(resource))).toEqual([]);
  });
  const profile = `${UK_CORE_PROFILE_BASE}UKCore-${resource.resourceType}`;
  if (supported.has(profile)) {
    test(`conforms to UKCore-${resource.resourceType}`, () => {
      expect(messages(validateAgainstUkCoreProfile(resource, profile))).toEqual([]);
    });
  }
});
