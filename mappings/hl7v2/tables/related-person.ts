import type { Coding } from '@medplum/fhirtypes';

const ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';

/** Table 0063 relationship → v3 RoleCode (UK Core PersonRelationshipType includes v3 RoleCode). */
export const RELATIONSHIP: Readonly<Record<string, Coding>> = {
  SPO: { system: ROLE_CODE, code: 'SPS', display: 'spouse' },
  WIF: { system: ROLE_CODE, code: 'WIFE', display: 'wife' },
  HUS: { system: ROLE_CODE, code: 'HUSB', display: 'husband' },
  DOM: { system: ROLE_CODE, code: 'DOMPART', display: 'domestic partner' },
  MTH: { system: ROLE_CODE, code: 'MTH', display: 'mother' },
  FTH: { system: ROLE_CODE, code: 'FTH', display: 'father' },
  PAR: { system: ROLE_CODE, code: 'PRN', display: 'parent' },
  CHD: { system: ROLE_CODE, code: 'CHILD', display: 'child' },
  SON: { system: ROLE_CODE, code: 'SONC', display: 'son' },
  DAU: { system: ROLE_CODE, code: 'DAUC', display: 'daughter' },
  SIB: { system: ROLE_CODE, code: 'SIB', display: 'sibling' },
  BRO: { system: ROLE_CODE, code: 'BRO', display: 'brother' },
  SIS: { system: ROLE_CODE, code: 'SIS', display: 'sister' },
  GRP: { system: ROLE_CODE, code: 'GRPRN', display: 'grandparent' },
  GCH: { system: ROLE_CODE, code: 'GRNDCHILD', display: 'grandchild' },
  FND: { system: ROLE_CODE, code: 'FRND', display: 'unrelated friend' },
  NBR: { system: ROLE_CODE, code: 'NBOR', display: 'neighbor' },
  GRD: { system: ROLE_CODE, code: 'GUARD', display: 'guardian' },
  EXF: { system: ROLE_CODE, code: 'EXT', display: 'extended family member' },
  FCH: { system: ROLE_CODE, code: 'CHLDFOST', display: 'foster child' },
  ROM: { system: ROLE_CODE, code: 'ROOM', display: 'roommate' },
  SEL: { system: ROLE_CODE, code: 'ONESELF', display: 'self' },
};

/** Table 0131 contact role (NK1-7): a standard HL7 table, kept as its own coding. */
export const CONTACT_ROLE: Readonly<Record<string, string>> = {
  C: 'Emergency Contact',
  E: 'Employer',
  F: 'Federal Agency',
  I: 'Insurance Company',
  N: 'Next-of-Kin',
  O: 'Other',
  S: 'State Agency',
  U: 'Unknown',
  CP: 'Contact person',
  EP: 'Emergency contact person',
  PR: 'Person preparing referral',
};

export const CONTACT_ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0131';
