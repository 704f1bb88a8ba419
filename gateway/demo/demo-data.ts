import type { Resource } from '@medplum/fhirtypes';
import { localSystem } from '../../mappings/hl7v2/context';
import { resourceId } from '../../mappings/ids';
import {
  NHS_NUMBER_SYSTEM,
  NHS_NUMBER_VERIFICATION_EXTENSION,
  NHS_NUMBER_VERIFICATION_SYSTEM,
  nhsCheckDigit,
} from '../../mappings/identity/nhs-number';
import { CARE_HOME_RESIDENCE_EXTENSION, CQC_LOCATION_SYSTEM, ODS_ORGANIZATION_SYSTEM, ONS_LOCAL_AUTHORITY_SYSTEM, sourceTeamSystem, sourceWorkerSystem } from '../../mappings/identifiers';
import { securityLabels, Sensitivity } from '../../mappings/security/labels';

/**
 * A small synthetic population for demos and first runs. Everyone here is invented: NHS numbers
 * are from the 999 test range with valid check digits, and organisation codes are fictional.
 */
const SOURCE = 'carebridge-demo';
/** The demo's three sending systems: each keeps its own record of a person, as real ones do. */
export const DEMO_SOURCES = {
  GP: 'https://gp.demo.invalid/fhir',
  HOSPITAL: 'https://pas.demo-trust.invalid/hl7v2',
  COUNCIL: 'https://social-care.demo-council.invalid/carefirst',
} as const;
const SNOMED = 'http://snomed.info/sct';
const ODS = ODS_ORGANIZATION_SYSTEM;
const COUNCIL_TEAM = sourceTeamSystem(DEMO_SOURCES.COUNCIL);
const COUNCIL_WORKER = sourceWorkerSystem(DEMO_SOURCES.COUNCIL);
const FLAG_CATEGORY = 'http://terminology.hl7.org/CodeSystem/flag-category';

/** The n-th NHS number of the 999 test range that has a valid check digit. */
export function demoNhsNumber(n: number): string {
  let found = 0;
  for (let body = 999_000_001; ; body++) {
    const check = nhsCheckDigit(String(body));
    if (check === undefined) continue;
    if (found === n) return `${body}${check}`;
    found++;
  }
}

const id = (type: string, key: string): string => resourceId(type, SOURCE, key);
const ref = (type: string, key: string): { reference: string } => ({ reference: `${type}/${id(type, key)}` });

interface DemoPerson {
  key: string;
  family: string;
  given: string;
  gender: 'male' | 'female';
  birthDate: string;
  postcode: string;
  line: string;
  careHome?: boolean;
  conditions: [string, string][];
  /** SNOMED code (or '' for a medicine known by name only), name, and the dose as the prescriber wrote it. */
  medications: [string, string, string?][];
  allergies: [string, string][];
  encounter?: { status: 'in-progress' | 'finished'; start: string; end?: string };
  council?: { birthDate?: string };
  /** What a red bag passport needs beyond the GP record: a DNACPR decision and a daughter with lasting power of attorney. */
  passport?: boolean;
}

const PEOPLE: DemoPerson[] = [
  {
    key: 'p1', family: 'Ellis', given: 'Margaret', gender: 'female', birthDate: '1938-04-12', postcode: 'ZZ1 1AA', line: 'Oakfield House, 1 Demo Lane', careHome: true,
    conditions: [['52448006', 'Dementia'], ['13645005', 'Chronic obstructive lung disease'], ['44054006', 'Diabetes mellitus type 2']],
    medications: [
      ['325072002', 'Metformin 500mg tablets', 'One tablet twice a day with food'],
      ['108606009', 'Donepezil 10mg tablets', 'One tablet at night'],
      ['', 'Amlodipine 5mg tablets', 'One tablet each morning'],
      ['', 'Salbutamol 100micrograms/dose inhaler', 'Two puffs when needed for breathlessness'],
      ['', 'Tiotropium 18microgram inhalation powder capsules', 'Inhale one capsule once a day'],
      ['', 'Paracetamol 500mg tablets', 'Two tablets four times a day'],
      ['', 'Alendronic acid 70mg tablets', 'One tablet once a week on Mondays, before breakfast'],
      ['', 'Senna 7.5mg tablets', 'Two tablets at night'],
    ],
    allergies: [['91936005', 'Allergy to penicillin']],
    encounter: { status: 'finished', start: '2026-10-02T03:10:00Z', end: '2026-10-09T14:00:00Z' },
    council: {},
    passport: true,
  },
  {
    key: 'p2', family: 'Price', given: 'Harold', gender: 'male', birthDate: '1941-09-30', postcode: 'ZZ1 2BB', line: '14 Example Road',
    conditions: [['84114007', 'Heart failure'], ['49436004', 'Atrial fibrillation']],
    medications: [['318475005', 'Furosemide 40mg tablets'], ['714785005', 'Apixaban']],
    allergies: [],
    encounter: { status: 'in-progress', start: '2026-11-20T10:30:00Z' },
  },
  {
    key: 'p3', family: 'Okafor', given: 'Grace', gender: 'female', birthDate: '1946-01-05', postcode: 'ZZ1 3CC', line: '7 Sample Close',
    conditions: [['38341003', 'Hypertension'], ['396275006', 'Osteoarthritis']],
    medications: [['318034007', 'Amlodipine 5mg tablets']],
    allergies: [['294505008', 'Allergy to aspirin']],
  },
  {
    key: 'p4', family: 'Jones', given: 'Siân', gender: 'female', birthDate: '1935-07-21', postcode: 'ZZ1 4DD', line: 'Flat 3, Test Court',
    conditions: [['64859006', 'Osteoporosis'], ['230690007', 'Stroke']],
    council: { birthDate: '1935-07-12' },
    medications: [['330206002', 'Alendronic acid 70mg tablets']],
    allergies: [],
  },
  {
    key: 'p5', family: "O'Brien", given: 'Patrick', gender: 'male', birthDate: '1944-12-02', postcode: 'ZZ1 5EE', line: '22 Placeholder Street',
    conditions: [['73211009', 'Diabetes mellitus'], ['709044004', 'Chronic kidney disease']],
    medications: [['325072002', 'Metformin 500mg tablets']],
    allergies: [],
    encounter: { status: 'finished', start: '2026-11-01T09:00:00Z', end: '2026-11-03T16:00:00Z' },
  },
];

/**
 * What the council holds beyond the person: the allocated social worker's team (so the social
 * worker persona has a relationship), an alert with a key-safe code (very restricted whatever the
 * source says, so most roles see only that something was withheld), a falls alert, and a care
 * package whose home care is suspended while the person is in hospital.
 */
function councilRecord(key: string, subject: { reference: string }): Resource[] {
  const meta = { source: DEMO_SOURCES.COUNCIL };
  return [
    {
      resourceType: 'CareTeam', id: id('CareTeam', `${key}-allocation`), meta, status: 'active', subject, name: 'Social care allocation',
      period: { start: '2026-06-01' },
      managingOrganization: [{ ...ref('Organization', 'council'), identifier: { system: ONS_LOCAL_AUTHORITY_SYSTEM, value: 'E09000004' } }],
      participant: [
        { role: [{ text: 'Care co-ordinator (social worker)' }], member: { ...ref('Practitioner', 'sw1'), identifier: { system: COUNCIL_WORKER, value: 'W1001' }, display: 'Tom Reid' }, onBehalfOf: { ...ref('Organization', 'team-loc-n'), identifier: { system: COUNCIL_TEAM, value: 'T-LOC-N' } } },
        { role: [{ text: 'Allocated team' }], member: { ...ref('Organization', 'team-loc-n'), identifier: { system: COUNCIL_TEAM, value: 'T-LOC-N' }, display: 'Locality North social work team' } },
      ],
      telecom: [{ system: 'phone', value: '01000 000011' }],
    },
    {
      resourceType: 'Flag', id: id('Flag', `${key}-falls`), meta, status: 'active', subject,
      category: [{ coding: [{ system: FLAG_CATEGORY, code: 'safety', display: 'Safety' }] }], code: { text: 'Falls risk' }, period: { start: '2026-03-01' },
    },
    {
      resourceType: 'Flag', id: id('Flag', `${key}-keysafe`), meta: { ...meta, security: securityLabels([Sensitivity.KEY_SAFE]) }, status: 'active', subject,
      category: [{ coding: [{ system: FLAG_CATEGORY, code: 'admin', display: 'Administrative' }] }], code: { text: 'Key safe by the back door: code 4711 (synthetic)' }, period: { start: '2026-03-01' },
    },
    {
      resourceType: 'CarePlan', id: id('CarePlan', `${key}-package`), meta, status: 'active', intent: 'plan', subject, title: 'Care package',
      category: [{ coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/care-plan-kind', code: 'care-package', display: 'Care package' }] }],
      period: { start: '2026-06-01' },
      activity: [
        { detail: { status: 'on-hold', statusReason: { text: 'Hospital admission' }, code: { text: 'Home care, 10 hours a week' }, description: 'Demo Home Care Ltd (fictional)' } },
        { detail: { status: 'in-progress', code: { text: 'Telecare pendant alarm' } } },
      ],
    },
  ];
}

/**
 * For the red bag passport: the GP's DNACPR decision (a document the passport's advance care
 * planning section lists) and, in the council's record, the daughter who is next of kin and holds a
 * lasting power of attorney for health and welfare.
 */
function passportRecord(key: string, gpPatient: { reference: string }, councilPatient: { reference: string }): Resource[] {
  return [
    {
      resourceType: 'DocumentReference', id: id('DocumentReference', `${key}-dnacpr`), meta: { source: DEMO_SOURCES.GP }, status: 'current', subject: gpPatient,
      type: { coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/document-type', code: 'dnacpr', display: 'DNACPR decision' }, { system: SNOMED, code: '304253006', display: 'Not for resuscitation' }], text: 'DNACPR decision' },
      date: '2025-02-10T11:00:00Z', author: [{ display: 'Dr Anna Hughes, Demo Lane Surgery (fictional)' }],
      description: 'Do not attempt CPR: discussed with the person and her daughter (LPA health and welfare); review if circumstances change',
      content: [{ attachment: { contentType: 'application/pdf', url: 'https://gp.demo.invalid/documents/dnacpr.pdf', title: 'DNACPR form' } }],
    },
    {
      resourceType: 'RelatedPerson', id: id('RelatedPerson', `${key}-daughter`), meta: { source: DEMO_SOURCES.COUNCIL }, active: true, patient: councilPatient,
      relationship: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'N', display: 'Next-of-Kin' }], text: 'Daughter' },
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'HPOWATT', display: 'healthcare power of attorney' }], text: 'Lasting power of attorney (health and welfare)' },
      ],
      name: [{ family: 'Ellis', given: ['Susan'] }], telecom: [{ system: 'phone', value: '07700 900123' }], period: { start: '2022-01-15' },
    },
  ];
}

export function demoResources(): Resource[] {
  const resources: Resource[] = [
    { resourceType: 'Organization', id: id('Organization', 'gp'), identifier: [{ system: ODS, value: 'Y90001' }], name: 'Demo Lane Surgery (fictional)', type: [{ coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/organisation-role', code: '76', display: 'GP PRACTICE' }] }], telecom: [{ system: 'phone', value: '01000 000001' }] },
    { resourceType: 'Organization', id: id('Organization', 'trust'), identifier: [{ system: ODS, value: 'X9Z' }], name: 'Demo Hospitals NHS Trust (fictional)', telecom: [{ system: 'phone', value: '01000 000002' }] },
    { resourceType: 'Organization', id: id('Organization', 'carehome'), identifier: [{ system: CQC_LOCATION_SYSTEM, value: '1-000000001' }], name: 'Oakfield House Care Home (fictional)', telecom: [{ system: 'phone', value: '01000 000003' }] },
    { resourceType: 'Organization', id: id('Organization', 'council'), meta: { source: DEMO_SOURCES.COUNCIL }, identifier: [{ system: ONS_LOCAL_AUTHORITY_SYSTEM, value: 'E09000004' }], name: 'Example Borough Council Adult Social Care (fictional)', telecom: [{ system: 'phone', value: '01000 000010' }] },
    { resourceType: 'Organization', id: id('Organization', 'team-loc-n'), meta: { source: DEMO_SOURCES.COUNCIL }, identifier: [{ system: COUNCIL_TEAM, value: 'T-LOC-N' }], name: 'Locality North social work team', partOf: { ...ref('Organization', 'council'), identifier: { system: ONS_LOCAL_AUTHORITY_SYSTEM, value: 'E09000004' } }, telecom: [{ system: 'phone', value: '01000 000011' }] },
    { resourceType: 'Organization', id: id('Organization', 'community'), identifier: [{ system: ODS, value: 'X8C' }], name: 'Demo Community Health NHS Trust (fictional)', telecom: [{ system: 'phone', value: '01000 000020' }] },
    { resourceType: 'Practitioner', id: id('Practitioner', 'sw1'), meta: { source: DEMO_SOURCES.COUNCIL }, identifier: [{ system: COUNCIL_WORKER, value: 'W1001' }], name: [{ family: 'Reid', given: ['Tom'] }], telecom: [{ system: 'phone', value: '01000 000012' }] },
    { resourceType: 'Location', id: id('Location', 'ward'), name: 'Ward 7 (Elderly Care)', status: 'active', managingOrganization: ref('Organization', 'trust') },
    { resourceType: 'Practitioner', id: id('Practitioner', 'gp1'), identifier: [{ system: 'https://fhir.hl7.org.uk/Id/gmp-number', value: 'G9999991' }], name: [{ family: 'Hughes', given: ['Anna'], prefix: ['Dr'] }] },
  ];
  PEOPLE.forEach((person, index) => {
    const patientRef = ref('Patient', person.key);
    const nhsNumber = demoNhsNumber(index);
    resources.push({
      resourceType: 'Patient',
      id: id('Patient', person.key),
      meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'], source: DEMO_SOURCES.GP },
      identifier: [
        {
          extension: [{ url: NHS_NUMBER_VERIFICATION_EXTENSION, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code: '01', display: 'Number present and verified' }] } }],
          system: NHS_NUMBER_SYSTEM,
          value: nhsNumber,
        },
      ],
      name: [{ use: 'official', family: person.family, given: [person.given] }],
      gender: person.gender,
      birthDate: person.birthDate,
      address: [{ use: 'home', line: [person.line], city: 'Demotown', postalCode: person.postcode }],
      generalPractitioner: [{ ...ref('Organization', 'gp'), identifier: { system: ODS, value: 'Y90001' } }, ref('Practitioner', 'gp1')],
      ...(person.careHome ? { extension: [{ url: CARE_HOME_RESIDENCE_EXTENSION, valueReference: { ...ref('Organization', 'carehome'), identifier: { system: CQC_LOCATION_SYSTEM, value: '1-000000001' }, display: 'Oakfield House Care Home (fictional)' } }] } : {}),
    });
    for (const [code, display] of person.conditions) {
      resources.push({
        resourceType: 'Condition', id: id('Condition', `${person.key}-${code}`), subject: patientRef,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
        code: { coding: [{ system: SNOMED, code, display }] }, recordedDate: '2024-01-15',
      });
    }
    person.medications.forEach(([code, display, dose], i) => {
      resources.push({
        resourceType: 'MedicationStatement', id: id('MedicationStatement', `${person.key}-${code || `med-${String(i)}`}`), status: 'active', subject: patientRef,
        medicationCodeableConcept: code ? { coding: [{ system: SNOMED, code, display }] } : { text: display }, effectivePeriod: { start: '2025-06-01' },
        ...(dose ? { dosage: [{ text: dose }] } : {}),
      });
    });
    if (person.passport) resources.push(...passportRecord(person.key, patientRef, ref('Patient', `${person.key}-council`)));
    for (const [code, display] of person.allergies) {
      resources.push({
        resourceType: 'AllergyIntolerance', id: id('AllergyIntolerance', `${person.key}-${code}`), patient: patientRef,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
        code: { coding: [{ system: SNOMED, code, display }] }, recordedDate: '2020-03-01',
      });
    }
    if (person.encounter) {
      const mrn = `MRN${1000 + index}`;
      const hospitalPatientId = resourceId('Patient', DEMO_SOURCES.HOSPITAL, mrn);
      // The hospital's own record of the person: number not traced, same birth date, so it links to the GP's.
      // Its id and MRN are the ones the feed gives PID-3 `MRN100n^^^RZZ^MR` from the demo PAS (RZZ|PAS),
      // so an ADT message sent for the person updates this record rather than making a second one.
      resources.push({
        resourceType: 'Patient', id: hospitalPatientId, meta: { source: DEMO_SOURCES.HOSPITAL },
        identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }, { system: localSystem.mrn(DEMO_SOURCES.HOSPITAL), value: mrn }],
        name: [{ family: person.family.toUpperCase(), given: [person.given.toUpperCase()] }], gender: person.gender, birthDate: person.birthDate,
      });
      resources.push({
        resourceType: 'Encounter', id: id('Encounter', `${person.key}-enc`), meta: { source: DEMO_SOURCES.HOSPITAL }, status: person.encounter.status,
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP', display: 'inpatient encounter' },
        subject: { reference: `Patient/${hospitalPatientId}` }, period: { start: person.encounter.start, ...(person.encounter.end ? { end: person.encounter.end } : {}) },
        location: [{ location: ref('Location', 'ward') }], serviceProvider: { ...ref('Organization', 'trust'), identifier: { system: ODS, value: 'X9Z' } },
      });
    }
    if (person.council) {
      // The council's record; for one person its birth date disagrees, to show an identity conflict for review.
      resources.push({
        resourceType: 'Patient', id: id('Patient', `${person.key}-council`), meta: { source: DEMO_SOURCES.COUNCIL },
        identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }, { system: `${DEMO_SOURCES.COUNCIL}/person`, value: String(100200 + index) }],
        name: [{ family: person.family, given: [person.given] }], birthDate: person.council.birthDate ?? person.birthDate,
      });
      resources.push(...councilRecord(person.key, ref('Patient', `${person.key}-council`)));
    }
  });
  // Clinical content without a source of its own is the GP record's.
  return resources.map((r) => (r.meta?.source ? r : { ...r, meta: { ...r.meta, source: DEMO_SOURCES.GP } }));
}
