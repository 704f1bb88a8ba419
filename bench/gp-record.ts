import { nhsCheckDigit } from '../mappings/identity/nhs-number';

/**
 * A realistic synthetic GP Connect structured record (STU3) of about 300 resources: the shape of
 * an older patient with several long-term conditions after years at one practice. Everything is
 * invented; NHS numbers are from the 999 range with valid check digits.
 */
type Json = Record<string, unknown>;
const GPC = 'https://fhir.nhs.uk/STU3/StructureDefinition/';
const SCT = 'http://snomed.info/sct';
const ID_SYSTEM = 'https://supplier.example.nhs.uk/gpc/Id/record-item';

const cc = (code: string, display: string): Json => ({ coding: [{ system: SCT, code, display }] });
const profile = (name: string): Json => ({ profile: [`${GPC}${name}`] });

export function syntheticNhsNumber(n: number): string {
  for (let k = n; ; k++) {
    const nine = `999${String(k % 1_000_000).padStart(6, '0')}`;
    const check = nhsCheckDigit(nine);
    if (check !== undefined) return `${nine}${String(check)}`;
  }
}

const CONDITIONS: readonly [string, string][] = [
  ['38341003', 'Hypertensive disorder'],
  ['44054006', 'Type 2 diabetes mellitus'],
  ['195967001', 'Asthma'],
  ['13645005', 'Chronic obstructive lung disease'],
  ['49436004', 'Atrial fibrillation'],
  ['396275006', 'Osteoarthritis'],
  ['709044004', 'Chronic kidney disease'],
  ['84114007', 'Heart failure'],
  ['40930008', 'Hypothyroidism'],
  ['35489007', 'Depressive disorder'],
];
const DRUGS: readonly [string, string][] = [
  ['318420003', 'Atenolol 50mg tablets'],
  ['325278007', 'Metformin 500mg tablets'],
  ['320000009', 'Simvastatin 40mg tablets'],
  ['318135000', 'Ramipril 5mg capsules'],
  ['322236009', 'Paracetamol 500mg tablets'],
  ['317972000', 'Amlodipine 5mg tablets'],
  ['319740004', 'Levothyroxine 50microgram tablets'],
  ['321149005', 'Salbutamol 100micrograms/dose inhaler'],
  ['327096008', 'Furosemide 40mg tablets'],
  ['317249006', 'Apixaban 5mg tablets'],
  ['321208003', 'Omeprazole 20mg capsules'],
  ['322281009', 'Sertraline 50mg tablets'],
];

/** One patient's record; `version` moves the record's time on (and drops one repeat after version 0). */
export function syntheticGpRecord(patientNumber: number, version = 0): { bundle: Json; nhsNumber: string } {
  const nhs = syntheticNhsNumber(200_000 + patientNumber * 7);
  const p = `p${String(patientNumber)}`;
  const date = `2026-11-${String(10 + version).padStart(2, '0')}T08:00:00+00:00`;
  const ident = (kind: string, i: number): Json[] => [{ system: ID_SYSTEM, value: `${p}-${kind}-${String(i)}` }];
  const subject = { reference: 'Patient/pat' };
  const gp = { reference: 'Practitioner/prac-0' };
  const resources: Json[] = [];
  const list = (id: string, code: string, title: string, items: string[]): Json => ({
    resourceType: 'List',
    id,
    meta: profile('CareConnect-GPC-List-1'),
    status: 'current',
    mode: 'snapshot',
    title,
    code: cc(code, title),
    subject,
    date,
    ...(items.length ? { entry: items.map((reference) => ({ item: { reference } })) } : { emptyReason: cc('no-content-recorded', 'No content recorded'), note: [{ text: 'Information not available' }] }),
  });

  resources.push({
    resourceType: 'Patient',
    id: 'pat',
    meta: profile('CareConnect-GPC-Patient-1'),
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhs }],
    name: [{ use: 'official', family: `Testpatient${String(patientNumber)}`, given: ['Alex'] }],
    gender: patientNumber % 2 ? 'female' : 'male',
    birthDate: `19${String(30 + (patientNumber % 40))}-0${String(1 + (patientNumber % 9))}-1${String(patientNumber % 9)}`,
    generalPractitioner: [gp],
    managingOrganization: { reference: 'Organization/org' },
  });
  resources.push({ resourceType: 'Organization', id: 'org', meta: profile('CareConnect-GPC-Organization-1'), identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y00123' }], name: 'Riverside Test Surgery' });
  for (let i = 0; i < 3; i++) {
    resources.push({ resourceType: 'Practitioner', id: `prac-${String(i)}`, meta: profile('CareConnect-GPC-Practitioner-1'), identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-user-id', value: `G99900${String(i)}` }], name: [{ family: `Testdoctor${String(i)}`, given: ['Sam'], prefix: ['Dr'] }] });
  }
  resources.push({ resourceType: 'PractitionerRole', id: 'role-0', meta: profile('CareConnect-GPC-PractitionerRole-1'), identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-role-profile-id', value: '999000000101' }], practitioner: gp, organization: { reference: 'Organization/org' } });

  // Allergies: 4 active, 2 ended.
  const allergies: string[] = [];
  const ended: string[] = [];
  for (let i = 0; i < 6; i++) {
    const id = `alg-${String(i)}`;
    resources.push({
      resourceType: 'AllergyIntolerance',
      id,
      meta: profile('CareConnect-GPC-AllergyIntolerance-1'),
      identifier: ident('alg', i),
      clinicalStatus: i < 4 ? 'active' : 'resolved',
      verificationStatus: 'unconfirmed',
      category: ['medication'],
      code: cc(['294505008', '91935009', '293586001', '294461001', '300916003', '418689008'][i] ?? '418689008', 'Allergy'),
      patient: subject,
      assertedDate: `201${String(i)}-03-01`,
      recorder: gp,
      ...(i >= 4 ? { extension: [{ url: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-AllergyIntoleranceEnd-1', extension: [{ url: 'endDate', valueDateTime: '2020-01-01' }] }] } : {}),
    });
    (i < 4 ? allergies : ended).push(`AllergyIntolerance/${id}`);
  }

  // Medications: 12 repeats (statement, medication, plan, 6 issues each); version 1 on drops the last.
  const statements: string[] = [];
  const drugs = version === 0 ? DRUGS : DRUGS.slice(0, -1);
  drugs.forEach(([code, display], i) => {
    const m = String(i);
    resources.push({ resourceType: 'Medication', id: `med-${m}`, meta: profile('CareConnect-GPC-Medication-1'), code: cc(code, display) });
    resources.push({
      resourceType: 'MedicationStatement',
      id: `ms-${m}`,
      meta: profile('CareConnect-GPC-MedicationStatement-1'),
      identifier: ident('ms', i),
      basedOn: [{ reference: `MedicationRequest/plan-${m}` }],
      status: 'active',
      medicationReference: { reference: `Medication/med-${m}` },
      effectivePeriod: { start: '2024-01-01' },
      dateAsserted: '2024-01-01',
      subject,
      taken: 'unk',
      dosage: [{ text: 'One daily' }],
    });
    resources.push({
      resourceType: 'MedicationRequest',
      id: `plan-${m}`,
      meta: profile('CareConnect-GPC-MedicationRequest-1'),
      identifier: ident('plan', i),
      extension: [{ url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-MedicationRepeatInformation-1', extension: [{ url: 'numberOfRepeatPrescriptionsAllowed', valueUnsignedInt: 12 }, { url: 'numberOfRepeatPrescriptionsIssued', valueUnsignedInt: 6 }] }],
      status: 'active',
      intent: 'plan',
      medicationReference: { reference: `Medication/med-${m}` },
      subject,
      authoredOn: '2024-01-01',
      requester: { agent: gp },
      dosageInstruction: [{ text: 'One daily' }],
      dispenseRequest: { validityPeriod: { start: '2024-01-01' }, quantity: { value: 28, unit: 'tablet' } },
    });
    for (let k = 0; k < 6; k++) {
      resources.push({
        resourceType: 'MedicationRequest',
        id: `issue-${m}-${String(k)}`,
        meta: profile('CareConnect-GPC-MedicationRequest-1'),
        identifier: ident(`issue-${m}`, k),
        basedOn: [{ reference: `MedicationRequest/plan-${m}` }],
        status: 'completed',
        intent: 'order',
        medicationReference: { reference: `Medication/med-${m}` },
        subject,
        authoredOn: `2026-0${String(k + 1)}-15`,
        requester: { agent: gp },
        dosageInstruction: [{ text: 'One daily' }],
        dispenseRequest: { validityPeriod: { start: `2026-0${String(k + 1)}-15` }, quantity: { value: 28, unit: 'tablet' } },
      });
    }
    statements.push(`MedicationStatement/ms-${m}`);
  });

  // Problems: 10, each with the observation that is the actual problem.
  const problems: string[] = [];
  CONDITIONS.forEach(([code, display], i) => {
    resources.push({ resourceType: 'Observation', id: `obs-prob-${String(i)}`, meta: profile('CareConnect-GPC-Observation-1'), identifier: ident('obs-prob', i), status: 'final', code: cc(code, display), subject, effectiveDateTime: `20${String(10 + i)}-05-01`, performer: [gp] });
    resources.push({
      resourceType: 'Condition',
      id: `cond-${String(i)}`,
      meta: profile('CareConnect-GPC-ProblemHeader-Condition-1'),
      identifier: ident('cond', i),
      extension: [
        { url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ProblemSignificance-1', valueCode: i < 5 ? 'major' : 'minor' },
        { url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ActualProblem-1', valueReference: { reference: `Observation/obs-prob-${String(i)}` } },
      ],
      clinicalStatus: 'active',
      category: [{ coding: [{ system: 'http://hl7.org/fhir/condition-category', code: 'problem-list-item' }] }],
      code: cc(code, display),
      subject,
      onsetDateTime: `20${String(10 + i)}-05-01`,
      assertedDate: `20${String(10 + i)}-05-01`,
      asserter: gp,
    });
    problems.push(`Condition/cond-${String(i)}`);
  });

  // Immunisations: 10.
  const immunisations: string[] = [];
  for (let i = 0; i < 10; i++) {
    resources.push({ resourceType: 'Immunization', id: `imm-${String(i)}`, meta: profile('CareConnect-GPC-Immunization-1'), identifier: ident('imm', i), status: 'completed', notGiven: false, vaccineCode: cc('400564006', 'Influenza virus vaccine'), patient: subject, date: `20${String(16 + i)}-10-01`, primarySource: true });
    immunisations.push(`Immunization/imm-${String(i)}`);
  }

  // Uncategorised: 58 observations (weights over the years).
  const uncategorised: string[] = [];
  for (let i = 0; i < 58; i++) {
    resources.push({ resourceType: 'Observation', id: `obs-u-${String(i)}`, meta: profile('CareConnect-GPC-Observation-1'), identifier: ident('obs-u', i), status: 'final', code: cc('27113001', 'Body weight'), subject, effectiveDateTime: `2025-${String(1 + (i % 12)).padStart(2, '0')}-0${String(1 + (i % 9))}`, valueQuantity: { value: 70 + (i % 7), unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' }, performer: [gp] });
    uncategorised.push(`Observation/obs-u-${String(i)}`);
  }

  // Consultations: 8, each an encounter with a consultation, a topic and a category list and 3 observations.
  const consultations: string[] = [];
  for (let i = 0; i < 8; i++) {
    const c = String(i);
    resources.push({ resourceType: 'Encounter', id: `enc-${c}`, meta: profile('CareConnect-GPC-Encounter-1'), identifier: ident('enc', i), status: 'finished', type: [cc('185317003', 'Telephone encounter')], subject, participant: [{ individual: gp }], period: { start: `2026-0${String(1 + i)}-05T09:00:00+00:00` } });
    const obs: string[] = [];
    for (let k = 0; k < 3; k++) {
      resources.push({ resourceType: 'Observation', id: `obs-c-${c}-${String(k)}`, meta: profile('CareConnect-GPC-Observation-1'), identifier: ident(`obs-c-${c}`, k), status: 'final', code: cc('162864005', 'Body mass index'), subject, context: { reference: `Encounter/enc-${c}` }, effectiveDateTime: `2026-0${String(1 + i)}-05`, comment: 'Reviewed' });
      obs.push(`Observation/obs-c-${c}-${String(k)}`);
    }
    const structural = (id: string, code: string, title: string, items: string[]): Json => ({ resourceType: 'List', id, meta: profile('CareConnect-GPC-List-1'), status: 'current', mode: 'snapshot', title, code: cc(code, title), subject, encounter: { reference: `Encounter/enc-${c}` }, date, entry: items.map((reference) => ({ item: { reference } })) });
    resources.push(structural(`cat-${c}`, '24781000000107', 'Examination', obs));
    resources.push(structural(`topic-${c}`, '25851000000105', 'Review', [`List/cat-${c}`]));
    resources.push(structural(`cons-${c}`, '325851000000107', 'Consultation', [`List/topic-${c}`]));
    consultations.push(`Encounter/enc-${c}`);
  }

  // Investigations: 3 reports, each with a specimen, a test group and 5 results.
  const investigations: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = String(i);
    resources.push({ resourceType: 'Specimen', id: `spec-${r}`, meta: profile('CareConnect-GPC-Specimen-1'), identifier: ident('spec', i), type: cc('119297000', 'Blood specimen'), subject, collection: { collectedDateTime: `2026-0${String(3 + i)}-01` } });
    const results: string[] = [];
    for (let k = 0; k < 5; k++) {
      resources.push({ resourceType: 'Observation', id: `res-${r}-${String(k)}`, meta: profile('CareConnect-GPC-Observation-1'), identifier: ident(`res-${r}`, k), status: 'final', code: cc('1022451000000103', 'Serum sodium level'), subject, specimen: { reference: `Specimen/spec-${r}` }, valueQuantity: { value: 139, unit: 'mmol/L' }, referenceRange: [{ low: { value: 133 }, high: { value: 146 } }] });
      results.push(`Observation/res-${r}-${String(k)}`);
    }
    resources.push({ resourceType: 'Observation', id: `grp-${r}`, meta: profile('CareConnect-GPC-Observation-1'), identifier: ident('grp', i), status: 'final', code: cc('1000971000000107', 'Urea and electrolytes'), subject, related: results.map((reference) => ({ type: 'has-member', target: { reference } })) });
    resources.push({ resourceType: 'DiagnosticReport', id: `dr-${r}`, meta: profile('CareConnect-GPC-DiagnosticReport-1'), identifier: ident('dr', i), status: 'final', code: cc('721981007', 'Diagnostic studies report'), subject, issued: `2026-0${String(3 + i)}-02T08:00:00+00:00`, specimen: [{ reference: `Specimen/spec-${r}` }], result: [{ reference: `Observation/grp-${r}` }] });
    investigations.push(`DiagnosticReport/dr-${r}`);
  }

  // Referrals: 3.
  const referrals: string[] = [];
  for (let i = 0; i < 3; i++) {
    resources.push({ resourceType: 'ReferralRequest', id: `ref-${String(i)}`, meta: profile('CareConnect-GPC-ReferralRequest-1'), identifier: ident('ref', i), status: 'completed', intent: 'order', serviceRequested: [cc('183519002', 'Referral to cardiology service')], subject, authoredOn: `202${String(3 + i)}-06-01`, requester: { agent: gp } });
    referrals.push(`ReferralRequest/ref-${String(i)}`);
  }

  resources.push(list('l-alg', '886921000000105', 'Allergies and adverse reactions', allergies));
  resources.push(list('l-alg-end', '1103671000000101', 'Ended allergies', ended));
  resources.push(list('l-med', '933361000000108', 'Medications and medical devices', statements));
  resources.push(list('l-prob', '717711000000103', 'Problems', problems));
  resources.push(list('l-imm', '1102181000000102', 'Immunisations', immunisations));
  resources.push(list('l-unc', '826501000000100', 'Miscellaneous record', uncategorised));
  resources.push(list('l-cons', '1149501000000101', 'List of consultations', consultations));
  resources.push(list('l-inv', '887191000000108', 'Investigations and results', investigations));
  resources.push(list('l-ref', '792931000000107', 'Outbound referral', referrals));
  return {
    nhsNumber: nhs,
    bundle: { resourceType: 'Bundle', meta: { profile: [`${GPC}GPConnect-StructuredRecord-Bundle-1`] }, type: 'collection', entry: resources.map((resource) => ({ resource })) },
  };
}
