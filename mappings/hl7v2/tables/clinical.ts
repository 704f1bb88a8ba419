import type { AllergyIntolerance, Condition } from '@medplum/fhirtypes';

/** Table 0127 allergen type → AllergyIntolerance.type and .category. */
export const ALLERGEN_TYPE: Readonly<Record<string, Pick<AllergyIntolerance, 'type' | 'category'>>> = {
  DA: { type: 'allergy', category: ['medication'] },
  FA: { type: 'allergy', category: ['food'] },
  MA: { type: 'allergy' },
  MC: {},
  EA: { type: 'allergy', category: ['environment'] },
  AA: { type: 'allergy', category: ['environment'] },
  PA: { type: 'allergy', category: ['environment'] },
  LA: { type: 'allergy', category: ['environment'] },
};

/** Table 0128 allergy severity → criticality and reaction severity. */
export const ALLERGY_SEVERITY: Readonly<Record<string, { criticality: AllergyIntolerance['criticality']; severity?: 'mild' | 'moderate' | 'severe' }>> = {
  SV: { criticality: 'high', severity: 'severe' },
  MO: { criticality: 'low', severity: 'moderate' },
  MI: { criticality: 'low', severity: 'mild' },
  U: { criticality: 'unable-to-assess' },
};

export const ALLERGY_CLINICAL_STATUS = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active', display: 'Active' }] };

const VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';

/** Table 0052 diagnosis type → Condition.verificationStatus (admitting and working diagnoses are provisional). */
export const DIAGNOSIS_TYPE: Readonly<Record<string, NonNullable<Condition['verificationStatus']>>> = {
  A: { coding: [{ system: VERIFICATION, code: 'provisional', display: 'Provisional' }] },
  W: { coding: [{ system: VERIFICATION, code: 'provisional', display: 'Provisional' }] },
  F: { coding: [{ system: VERIFICATION, code: 'confirmed', display: 'Confirmed' }] },
};

export const ENCOUNTER_DIAGNOSIS_CATEGORY = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }],
};
