import { readFileSync } from 'node:fs';
import { buildUkCorePackage, serialisePackage, UK_CORE_PACKAGE_FILE } from '../../gateway/validation/build-uk-core-package';
import { supportedUkCoreProfiles, UK_CORE_PROFILE_BASE } from '../../gateway/validation/uk-core';
import { UK_CORE_DIR } from './uk-core-dir';

test('the committed UK Core bundle is exactly what `npm run uk-core:package` builds from the package', () => {
  expect(readFileSync(UK_CORE_PACKAGE_FILE, 'utf8')).toBe(serialisePackage(buildUkCorePackage(UK_CORE_DIR)));
});

test('every UK Core resource profile is supported', () => {
  const profiles = supportedUkCoreProfiles();
  expect(profiles.length).toBe(70);
  for (const name of ['UKCore-Patient', 'UKCore-Encounter', 'UKCore-Composition', 'UKCore-Condition', 'UKCore-MedicationStatement', 'UKCore-Observation-VitalSigns-BMI']) {
    expect(profiles).toContain(`${UK_CORE_PROFILE_BASE}${name}`);
  }
});
