import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { fhirXmlToJson } from '../../adapters/fhir/fhir-xml';
import { isError, UK_CORE_PROFILE_BASE, validateAgainstUkCoreProfile, validateIncoming, validateUkCore } from '../../gateway/validation/uk-core';
import { UK_CORE_DIR } from './uk-core-dir';

/**
 * Broken variants of the package's own examples: each breaks one rule of its profile and must be
 * refused with that rule's path and reason, and nothing else.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- broken variants are built by poking at example JSON
type Json = any;
const example = (name: string): Json => fhirXmlToJson(readFileSync(join(UK_CORE_DIR, 'examples', `${name}.xml`), 'utf8'));
const errors = (issues: OperationOutcomeIssue[]): [string, string][] => issues.filter(isError).map((i) => [i.expression?.[0] ?? '', i.details?.text ?? '']);
const against = (profile: string, resource: Json): [string, string][] => errors(validateAgainstUkCoreProfile(resource as Resource, `${UK_CORE_PROFILE_BASE}${profile}`));

const PATIENT = 'UKCore-Patient-RichardSmith-Example';

const cases: [string, string, string, (r: Json) => void, [string, RegExp][]][] = [
  ['a second NHS number (slice max 1)', PATIENT, 'UKCore-Patient', (p) => p.identifier.push({ ...p.identifier[0] }), [['Patient.identifier', /slice identifier:nhsNumber allows at most 1, found 2/]]],
  [
    'an NHS number verification status outside the required value set',
    PATIENT,
    'UKCore-Patient',
    (p) => (p.identifier[0].extension[0].valueCodeableConcept.coding[0].code = '99'),
    [['Patient.identifier[0].extension[0].valueCodeableConcept', /NHSNumberVerificationStatus.*code is not in https:\/\/fhir\.hl7\.org\.uk\/ValueSet\/UKCore-NHSNumberVerificationStatus \(required binding\)/]],
  ],
  [
    'a verification status of the wrong type (extension value[x] narrowed to CodeableConcept)',
    PATIENT,
    'UKCore-Patient',
    (p) => {
      delete p.identifier[0].extension[0].valueCodeableConcept;
      p.identifier[0].extension[0].valueString = '01';
    },
    [['Patient.identifier[0].extension[0].valueString', /value\[x\] must be CodeableConcept, not string/]],
  ],
  ['two ethnic categories (extension slice max 1)', PATIENT, 'UKCore-Patient', (p) => p.extension.push({ ...p.extension[0] }), [['Patient.extension', /slice extension:ethnicCategory allows at most 1, found 2/]]],
  [
    'a contact preference with two preferred methods (sub-extension max 1)',
    PATIENT,
    'UKCore-Patient',
    (p) => p.extension[1].extension.push({ ...p.extension[1].extension[0] }),
    [['Patient.extension[1].extension', /ExtensionUKCoreContactPreference: slice extension:PreferredContactMethod allows at most 1, found 2/]],
  ],
  [
    'a vital sign without its LOINC code (required slice and profile invariant)',
    'UKCore-Observation-VitalSigns-BMI-Example',
    'UKCore-Observation-VitalSigns-BMI',
    (o) => (o.code.coding = o.code.coding.filter((c: Json) => c.system !== 'http://loinc.org')),
    [
      ['Observation', /invariant ukcore-obs-vs-001 failed/],
      ['Observation.code.coding', /slice coding:loinc is required \(at least 1\), found 0/],
    ],
  ],
  ['a BMI in kilograms (fixed unit code)', 'UKCore-Observation-VitalSigns-BMI-Example', 'UKCore-Observation-VitalSigns-BMI', (o) => (o.valueQuantity.code = 'kg'), [['Observation.valueQuantity.code', /must be "kg\/m2"/]]],
  ['a preliminary vital sign (status fixed to final in the parent profile)', 'UKCore-Observation-VitalSigns-BMI-Example', 'UKCore-Observation-VitalSigns-BMI', (o) => (o.status = 'preliminary'), [['Observation.status', /UKCoreObservationVitalSigns: must be "final"/]]],
  [
    'a third blood pressure component (closed slicing)',
    'UKCore-Observation-VitalSigns-BloodPressure-Example',
    'UKCore-Observation-VitalSigns-BloodPressure',
    (o) => o.component.push({ code: { text: 'Mean' }, valueQuantity: { value: 90 } }),
    [
      ['Observation.component', /component allows at most 2, found 3/],
      ['Observation.component[2].code.coding', /slice coding:loinc is required/],
      ['Observation.component[2].code.coding', /slice coding:snomedCT is required/],
      ['Observation.component[2]', /matches none of the slices the profile allows \(closed slicing\)/],
    ],
  ],
  [
    'a medication change status outside its required value set',
    'UKCore-MedicationStatement-Amoxicillin-Example',
    'UKCore-MedicationStatement',
    (m) => {
      m.extension = [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationChangeSummary',
          extension: [{ url: 'status', valueCoding: { system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-MedicationChangeStatus', code: 'stolen' } }],
        },
      ];
    },
    [['MedicationStatement.extension[0].extension[0].valueCoding', /code is not in https:\/\/fhir\.hl7\.org\.uk\/ValueSet\/UKCore-MedicationChangeStatus \(required binding\)/]],
  ],
  [
    "an ODS code slice with another system's value (Organization identifier slicing)",
    'UKCore-Organization-LeedsTeachingHospital-Example',
    'UKCore-Organization',
    (o) => o.identifier.push({ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RR8' }, { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RR9' }),
    [['Organization.identifier', /slice identifier:odsOrganisationCode allows at most 1, found [23]/]],
  ],
];

test.each(cases)('%s is refused with its path and reason', (_label, name, profile, breakIt, expected) => {
  const resource = example(name);
  expect(against(profile, resource)).toEqual([]);
  breakIt(resource);
  const found = against(profile, resource);
  expect(found.map(([path]) => path)).toEqual(expected.map(([path]) => path));
  found.forEach(([, text], i) => expect(text).toMatch(expected[i]![1]));
});

test('a claim of a UK Core profile is checked; a claim of an unknown one is an error naming it', () => {
  const patient = example(PATIENT);
  patient.identifier.push({ ...patient.identifier[0] });
  expect(errors(validateUkCore(patient))).toEqual([]); // no claim, no profile check
  patient.meta = { profile: [`${UK_CORE_PROFILE_BASE}UKCore-Patient`] };
  expect(errors(validateIncoming(patient)).map(([p]) => p)).toEqual(['Patient.identifier']);
  patient.meta = { profile: [`${UK_CORE_PROFILE_BASE}UKCore-Patients`] };
  expect(errors(validateUkCore(patient))).toEqual([['Patient.meta.profile[0]', `meta.profile names ${UK_CORE_PROFILE_BASE}UKCore-Patients, which is not a UK Core R4 2.0.0 profile`]]);
  patient.meta = { profile: [`${UK_CORE_PROFILE_BASE}UKCore-Encounter`] };
  expect(errors(validateUkCore(patient))[0]?.[1]).toMatch(/a profile of Encounter, on a Patient/);
});

test('a resource that is not valid R4 is refused on the base rules before any profile', () => {
  const patient = example(PATIENT);
  patient.meta = { profile: [`${UK_CORE_PROFILE_BASE}UKCore-Patient`] };
  patient.birthDate = '1974-13-45';
  patient.gender = 42;
  const found = errors(validateIncoming(patient));
  expect(found.map(([p]) => p).sort()).toEqual(['Patient.birthDate', 'Patient.gender']);
});

test("the R4 base's required bindings on codes are checked (which @medplum/core's validator leaves out)", () => {
  const allergy = example('UKCore-AllergyIntolerance-Amoxicillin-Example');
  expect(errors(validateIncoming(allergy))).toEqual([]);
  allergy.criticality = 'very';
  allergy.reaction[0].severity = 'dreadful';
  allergy.contained = [{ resourceType: 'Patient', gender: 'other-ish' }];
  expect(errors(validateIncoming(allergy)).sort(([a], [b]) => a.localeCompare(b))).toEqual([
    ['AllergyIntolerance.contained[0].gender', "'other-ish' is not in the value set http://hl7.org/fhir/ValueSet/administrative-gender (required binding)"],
    ['AllergyIntolerance.criticality', "'very' is not in the value set http://hl7.org/fhir/ValueSet/allergy-intolerance-criticality (required binding)"],
    ['AllergyIntolerance.reaction[0].severity', "'dreadful' is not in the value set http://hl7.org/fhir/ValueSet/reaction-event-severity (required binding)"],
  ]);
});
