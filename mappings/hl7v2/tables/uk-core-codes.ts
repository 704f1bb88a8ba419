/**
 * UK Core R4 2.0.0 code systems (England) the HL7v2 mapping translates into, copied from
 * reference/uk-core-r4-2.0.0/codesystems/ (code and display as published).
 */
export interface CodeSystemTable {
  readonly system: string;
  readonly concepts: Readonly<Record<string, string>>;
}

/** Source of admission (NHS Data Dictionary): Encounter.hospitalization.admitSource. */
export const SOURCE_OF_ADMISSION_ENGLAND: CodeSystemTable = {
  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-SourceOfAdmissionEngland',
  concepts: {
    '19': 'Usual place of residence unless listed below, for example, a private dwelling whether owner occupied or owned by Local Authority, housing association or other landlord. This includes wardened accommodation but not residential accommodation where health care is provided. It also includes Patients with no fixed abode.',
    '29': 'Temporary place of residence when usually resident elsewhere (e.g. hotels, residential Educational Establishments)',
    '39': 'Penal establishment, Court, or Police Station / Police Custody Suite',
    '49': 'NHS other Hospital Provider - high security psychiatric accommodation in an NHS Hospital Provider (NHS Trust or NHS Foundation Trust)',
    '51': 'NHS other Hospital Provider - Ward for general Patients or the younger physically disabled or Emergency Care Department',
    '52': 'NHS other Hospital Provider - Ward for maternity Patients or Neonates',
    '53': 'NHS other Hospital Provider - Ward for Patients who are mentally ill or have Learning Disabilities',
    '54': 'NHS run Care Home',
    '65': 'Local Authority residential accommodation i.e. where care is provided',
    '66': 'Local Authority foster care',
    '79': 'Babies born in or on the way to hospital',
    '85': 'Non-NHS (other than Local Authority) run Care Home',
    '87': 'Non NHS run hospital',
    '88': 'Non-NHS (other than Local Authority) run Hospice',
    '98': 'Not applicable',
    '99': 'Source of admission not known',
  },
};

/** Admission method: Extension-UKCore-AdmissionMethod on Encounter.hospitalization. */
export const ADMISSION_METHOD_ENGLAND: CodeSystemTable = {
  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland',
  concepts: {
    '11': 'Elective Admission: Waiting list',
    '12': 'Elective Admission: Booked',
    '13': 'Elective Admission: Planned',
    '21': 'Emergency Admission: Emergency Care Department or dental casualty department of the Health Care Provider',
    '22': 'Emergency Admission: General Practitioner: after a request for immediate admission has been made direct to a Hospital Provider, i.e. not through a Bed bureau, by a General Practitioner or deputy',
    '23': 'Emergency Admission: Bed bureau',
    '24': 'Emergency Admission: Consultant Clinic, of this or another Health Care Provider',
    '25': 'Emergency Admission: Admission via Mental Health Crisis Resolution Team',
    '2A': 'Emergency Admission: Emergency Care Department of another provider where the Patient had not been admitted',
    '2B': 'Emergency Admission: Transfer of an admitted Patient from another Hospital Provider in an emergency',
    '2C': 'Emergency Admission: Baby born at home as intended',
    '2D': 'Emergency Admission: Other emergency admission',
    '28': 'Emergency Admission: Other means, examples are: - admitted from the Emergency Care Department of another provider where they had not been admitted - transfer of an admitted Patient from another Hospital Provider in an emergency - baby born at home as intended',
    '31': 'Maternity Admission: Admitted ante partum',
    '32': 'Maternity Admission: Admitted post partum',
    '82': 'Other Admission: The birth of a baby in this Health Care Provider',
    '83': 'Other Admission: Baby born outside the Health Care Provider except when born at home as intended',
    '81': 'Other Admission: Transfer of any admitted Patient from other Hospital Provider other than in an emergency',
    '98': 'Not applicable',
    '99': 'Admission Method not known',
  },
};

/** Discharge method: Extension-UKCore-DischargeMethod on Encounter. */
export const DISCHARGE_METHOD_ENGLAND: CodeSystemTable = {
  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeMethodEngland',
  concepts: {
    '1': 'Patient discharged on clinical advice or with clinical consent',
    '3': 'Patient discharged by mental health review tribunal, Home Secretary or Court',
    '4': 'Patient died',
    '5': 'Stillbirth',
    '6': 'Patient discharged him/herself',
    '7': 'Patient discharged by a relative or advocate',
    '8': 'Not applicable (Hospital Provider Spell not finished at episode end (i.e. not discharged) or current episode unfinished)',
    '9': 'Method of discharge not known',
  },
};

/** Discharge destination: Encounter.hospitalization.dischargeDisposition. */
export const DISCHARGE_DESTINATION_ENGLAND: CodeSystemTable = {
  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland',
  concepts: {
    '19': 'Usual place of residence unless listed below, for example, a private dwelling whether owner occupied or owned by Local Authority, housing association or other landlord. This includes wardened accommodation but not residential accommodation where health care is provided. It also includes patients with no fixed abode.',
    '29': 'Temporary place of residence when usually resident elsewhere (includes hotel, residential Educational Establishment)',
    '30': 'Repatriation from high security psychiatric accommodation in an NHS Hospital Provider (NHS Trust or NHS Foundation Trust)',
    '37': 'Court',
    '38': 'Penal establishment or police station',
    '48': 'High Security Psychiatric Hospital, Scotland',
    '49': 'NHS other Hospital Provider - high security psychiatric accommodation',
    '50': 'NHS other Hospital Provider - medium secure unit',
    '51': 'NHS other Hospital Provider - Ward for general patients or the younger physically disabled',
    '52': 'NHS other Hospital Provider - Ward for maternity patients or Neonates',
    '53': 'NHS other Hospital Provider - Ward for patients who are mentally ill or have Learning Disabilities',
    '54': 'NHS run Care Home',
    '65': 'Local Authority residential accommodation i.e. where care is provided',
    '66': 'Local Authority foster care',
    '79': 'Not applicable - Patient died or stillbirth',
    '84': 'Non-NHS run hospital - medium secure unit',
    '85': 'Non-NHS (other than Local Authority) run Care Home',
    '87': 'Non-NHS run hospital',
    '88': 'Non-NHS (other than Local Authority) run Hospice',
    '98': 'Not applicable - Hospital Provider Spell not finished at episode end (i.e. not discharged) or current episode unfinished',
    '99': 'Not known',
  },
};

/** Ethnic category: Extension-UKCore-EthnicCategory on Patient. */
export const ETHNIC_CATEGORY_ENGLAND: CodeSystemTable = {
  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland',
  concepts: {
    A: 'White - British',
    B: 'White - Irish',
    C: 'White - Any other White background',
    D: 'Mixed - White and Black Caribbean',
    E: 'Mixed - White and Black African',
    F: 'Mixed - White and Asian',
    G: 'Mixed - Any other mixed background',
    H: 'Asian or Asian British - Indian',
    J: 'Asian or Asian British - Pakistani',
    K: 'Asian or Asian British - Bangladeshi',
    L: 'Asian or Asian British - Any other Asian background',
    M: 'Black or Black British - Caribbean',
    N: 'Black or Black British - African',
    P: 'Black or Black British - Any other Black background',
    R: 'Other Ethnic Groups - Chinese',
    S: 'Other Ethnic Groups - Any other ethnic group',
    Z: 'Not stated',
    '99': 'Not known',
  },
};

export const UK_CORE_EXTENSION = {
  ADMISSION_METHOD: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod',
  DISCHARGE_METHOD: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DischargeMethod',
  ETHNIC_CATEGORY: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory',
} as const;
