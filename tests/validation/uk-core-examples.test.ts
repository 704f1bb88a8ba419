import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { fhirXmlToJson } from '../../adapters/fhir/fhir-xml';
import { isError, supportedUkCoreProfiles, UK_CORE_PROFILE_BASE, validateAgainstUkCoreProfile, validateR4 } from '../../gateway/validation/uk-core';
import { UK_CORE_DIR } from './uk-core-dir';

/**
 * Every example published in the UK Core R4 2.0.0 package is valid R4 and conforms to the profile
 * its file name names (`UKCore-Observation-VitalSigns-BMI-Example` → UKCore-Observation-VitalSigns-BMI;
 * `Extension-UKCore-BirthSex-Example`, a Patient, → UKCore-Patient).
 */
const EXAMPLES = join(UK_CORE_DIR, 'examples');
const profileNames = supportedUkCoreProfiles().map((url) => url.slice(UK_CORE_PROFILE_BASE.length));

function profileFor(file: string, resource: Resource): string | undefined {
  const named = profileNames.filter((p) => file.startsWith(`${p}-`) && p.split('-')[1] === resource.resourceType).sort((a, b) => b.length - a.length)[0];
  const name = named ?? (profileNames.includes(`UKCore-${resource.resourceType}`) ? `UKCore-${resource.resourceType}` : undefined);
  return name ? `${UK_CORE_PROFILE_BASE}${name}` : undefined;
}

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.xml'))
  .sort()
  .map((file) => {
    const resource = fhirXmlToJson(readFileSync(join(EXAMPLES, file), 'utf8'));
    return { file, resource, profile: profileFor(file, resource) };
  });

/**
 * Defects in the published examples themselves, found by this validator: each listed with the
 * exact errors it raises, so a fix upstream (or a regression here) shows.
 */
const KNOWN_EXAMPLE_DEFECTS: Readonly<Record<string, string[]>> = {
  // The extension carries valueCode and valueCodeableConcept at once (two values for one value[x]);
  // its definition allows only a CodeableConcept.
  'Extension-UKCore-ConditionEpisode-Example.xml': ['Condition.extension[0].valueCode: UKCoreCondition > ExtensionUKCoreConditionEpisode: value[x] must be CodeableConcept, not code'],
};

const describeIssues = (issues: OperationOutcomeIssue[]): string[] => issues.filter(isError).map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? ''}`);

test('the package holds its examples, nearly all of a UK Core profile', () => {
  expect(examples.length).toBe(215);
  expect(examples.filter((e) => e.profile).length).toBeGreaterThanOrEqual(200);
});

describe.each(examples.map((e) => [e.file, e] as const))('%s', (_file, example) => {
  test('is valid FHIR R4', () => {
    expect(describeIssues(validateR4(example.resource))).toEqual([]);
  });
  if (example.profile) {
    const profile = example.profile;
    test(`conforms to ${profile.slice(UK_CORE_PROFILE_BASE.length)}`, () => {
      expect(describeIssues(validateAgainstUkCoreProfile(example.resource, profile))).toEqual(KNOWN_EXAMPLE_DEFECTS[example.file] ?? []);
    });
  }
});
