import { SENSITIVE_CODE_LISTS, sensitivitiesOf, sensitivitiesOfCoding } from './sensitive-codes';

describe('sensitive code lists', () => {
  test('every sensitivity but key-safe codes has a list, every entry says where it came from', () => {
    expect(SENSITIVE_CODE_LISTS.map((l) => l.sensitivity).sort()).toEqual(['domestic-abuse', 'gender-identity', 'hiv', 'mental-health', 'safeguarding', 'sexual-health', 'substance-misuse']);
    for (const list of SENSITIVE_CODE_LISTS) {
      expect(list.entries.length).toBeGreaterThan(0);
      for (const entry of list.entries) expect(entry.provenance.length).toBeGreaterThan(20);
    }
  });

  test('a SNOMED CT concept matches exactly, not as a prefix', () => {
    expect(sensitivitiesOfCoding({ system: 'http://snomed.info/sct', code: '35489007' })).toEqual(['mental-health']);
    expect(sensitivitiesOfCoding({ system: 'http://snomed.info/sct', code: '354890071' })).toEqual([]);
  });

  test('an ICD-10 sub-code matches its category; the UK edition system is the same code system', () => {
    expect(sensitivitiesOfCoding({ system: 'http://hl7.org/fhir/sid/icd-10', code: 'F32.1' })).toEqual(['mental-health']);
    expect(sensitivitiesOfCoding({ system: 'http://hl7.org/fhir/sid/icd-10-uk', code: 'B20.0' })).toEqual(['hiv']);
    expect(sensitivitiesOfCoding({ system: 'http://hl7.org/fhir/sid/icd-10', code: 'J45' })).toEqual([]);
  });

  test('a Read code under alcohol dependence is both substance misuse and mental health (chapter E)', () => {
    expect(sensitivitiesOfCoding({ system: 'http://read.info/readv2', code: 'E23..' })).toEqual(['mental-health', 'substance-misuse']);
  });

  test('concepts: every coding counts, codes in the wrong system do not', () => {
    expect(
      sensitivitiesOf([
        { coding: [{ system: 'http://snomed.info/sct', code: '86406008' }] },
        undefined,
        { coding: [{ system: 'http://loinc.org', code: '93461009' }, { system: 'http://snomed.info/sct', code: '93461009' }] },
      ]),
    ).toEqual(['gender-identity', 'hiv']);
  });
});
