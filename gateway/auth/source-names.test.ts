import { careHomeSource } from '../../mappings/passport/codes';
import { demoDirectory } from './authenticator';
import { sourceNames } from './source-names';

describe('sourceNames', () => {
  const { organisationName, sourceName } = sourceNames(demoDirectory());

  test('a source system is named after the organisation it belongs to', () => {
    expect(sourceName('https://records.oakfield-care.invalid/fhir')).toBe('Oakfield House Care Home (fictional)');
  });

  test("a care home's transfer form is named after the home, by its CQC location", () => {
    expect(sourceName(careHomeSource('1-000000001'))).toBe('Oakfield House Care Home (fictional)');
  });

  test('a care home the directory does not know, and any other unknown source, fall back to the host', () => {
    expect(sourceName(careHomeSource('1-999999999'))).toBe('carebridge.nhs.uk');
    expect(sourceName('https://elsewhere.invalid/fhir')).toBe('elsewhere.invalid');
    expect(sourceName(undefined)).toBe('unknown source');
  });

  test('organisations by id, and an unknown one by its id', () => {
    expect(organisationName('https://carebridge.nhs.uk/Id/cqc-location-id|1-000000001')).toBe('Oakfield House Care Home (fictional)');
    expect(organisationName('ZZZ')).toBe('ZZZ');
    expect(organisationName(undefined)).toBe('unknown organisation');
  });
});
