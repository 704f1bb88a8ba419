import type { Coding } from '@medplum/fhirtypes';
import type { CodeList } from './fields';

/**
 * The contract's code lists (specs/social-care-extract.md), each code with its display, and where
 * a standard code system has the same concept, the coding to add beside ours. Tables, not logic.
 */

export const GENDER = { M: 'Male', F: 'Female', I: 'Indeterminate', U: 'Unknown', O: 'Other' } as const satisfies CodeList;
export const GENDER_FHIR: Readonly<Record<keyof typeof GENDER, 'male' | 'female' | 'other' | 'unknown'>> = { M: 'male', F: 'female', I: 'other', U: 'unknown', O: 'other' };

export const ACCOMMODATION_TYPE = {
  OWN_HOME: 'Own home',
  SHELTERED: 'Sheltered housing',
  EXTRA_CARE: 'Extra care housing',
  RESIDENTIAL_HOME: 'Residential care home',
  NURSING_HOME: 'Nursing home',
  HOSPITAL: 'Hospital',
  OTHER: 'Other',
} as const satisfies CodeList;
export type AccommodationType = keyof typeof ACCOMMODATION_TYPE;
export const CARE_HOME_ACCOMMODATION: ReadonlySet<string> = new Set<AccommodationType>(['RESIDENTIAL_HOME', 'NURSING_HOME']);

const V3_ROLE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const V2_CONTACT_ROLE = 'http://terminology.hl7.org/CodeSystem/v2-0131';
const UK_CORE_RELATIONSHIP = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AdditionalPersonRelationshipRole';

export const RELATIONSHIP_TYPE = {
  MAIN_CARER: 'Main carer',
  CARER: 'Carer',
  NEXT_OF_KIN: 'Next of kin',
  LPA_HEALTH_WELFARE: 'Lasting power of attorney (health and welfare)',
  LPA_PROPERTY_FINANCE: 'Lasting power of attorney (property and financial affairs)',
  COURT_DEPUTY: 'Court-appointed deputy',
  ADVOCATE: 'Advocate',
  APPOINTEE: 'Appointee (benefits)',
  SPOUSE: 'Spouse or partner',
  CHILD: 'Child',
  SIBLING: 'Sibling',
  FRIEND: 'Friend',
  NEIGHBOUR: 'Neighbour',
} as const satisfies CodeList;
export type RelationshipType = keyof typeof RELATIONSHIP_TYPE;

/** Standard codings for each relationship, beside the contract's own. */
export const RELATIONSHIP_STANDARD: Readonly<Record<RelationshipType, readonly Coding[]>> = {
  MAIN_CARER: [{ system: UK_CORE_RELATIONSHIP, code: 'Carer', display: 'Carer of patient' }],
  CARER: [{ system: UK_CORE_RELATIONSHIP, code: 'Carer', display: 'Carer of patient' }],
  NEXT_OF_KIN: [{ system: V2_CONTACT_ROLE, code: 'N', display: 'Next-of-Kin' }],
  LPA_HEALTH_WELFARE: [{ system: V3_ROLE, code: 'HPOWATT', display: 'healthcare power of attorney' }],
  LPA_PROPERTY_FINANCE: [{ system: V3_ROLE, code: 'POWATT', display: 'power of attorney' }],
  COURT_DEPUTY: [{ system: V3_ROLE, code: 'GUARD', display: 'guardian' }],
  ADVOCATE: [{ system: UK_CORE_RELATIONSHIP, code: 'Agent', display: 'Agent of patient' }],
  APPOINTEE: [{ system: UK_CORE_RELATIONSHIP, code: 'Agent', display: 'Agent of patient' }],
  SPOUSE: [{ system: V3_ROLE, code: 'SPS', display: 'spouse' }],
  CHILD: [{ system: V3_ROLE, code: 'CHILD', display: 'child' }],
  SIBLING: [{ system: V3_ROLE, code: 'SIB', display: 'sibling' }],
  FRIEND: [{ system: V3_ROLE, code: 'FRND', display: 'unrelated friend' }],
  NEIGHBOUR: [{ system: V3_ROLE, code: 'NBOR', display: 'neighbor' }],
};

/** What each legal role may decide (shown with the related person, read by consent decisions). */
export const LEGAL_AUTHORITY: Readonly<Partial<Record<RelationshipType, string>>> = {
  LPA_HEALTH_WELFARE: 'May make decisions about health and welfare when the person lacks capacity',
  LPA_PROPERTY_FINANCE: 'May make decisions about property and financial affairs',
  COURT_DEPUTY: 'Appointed by the Court of Protection to make decisions within the deputyship order',
  APPOINTEE: 'Manages state benefits on the person\'s behalf',
  ADVOCATE: 'Supports the person to express their views (no decision-making authority)',
};

export const WORKER_ROLE = {
  SOCIAL_WORKER: 'Social worker',
  CARE_COORDINATOR: 'Care co-ordinator',
  OCCUPATIONAL_THERAPIST: 'Occupational therapist',
  SOCIAL_CARE_ASSISTANT: 'Social care assistant',
  REVIEWING_OFFICER: 'Reviewing officer',
  TEAM_MANAGER: 'Team manager',
} as const satisfies CodeList;

export const ALLOCATION_TYPE = { KEY_WORKER: 'Key worker', CARE_COORDINATOR: 'Named care co-ordinator', INVOLVED: 'Involved worker' } as const satisfies CodeList;

export const REFERRAL_SOURCE = {
  SELF: 'Self-referral',
  FAMILY: 'Family or friend',
  GP: 'GP',
  HOSPITAL: 'Hospital',
  COMMUNITY_HEALTH: 'Community health services',
  SPA: 'Single point of access',
  POLICE: 'Police',
  FIRE: 'Fire and rescue service',
  HOUSING: 'Housing',
  VOLUNTARY: 'Voluntary sector',
  OTHER: 'Other',
} as const satisfies CodeList;

export const PRIORITY = { URGENT: 'Urgent', ROUTINE: 'Routine' } as const satisfies CodeList;
export const PRIORITY_FHIR: Readonly<Record<keyof typeof PRIORITY, 'urgent' | 'routine'>> = { URGENT: 'urgent', ROUTINE: 'routine' };

export const REFERRAL_OUTCOME = {
  ASSESSMENT: 'Proceed to assessment',
  INFORMATION_ADVICE: 'Information and advice given',
  SIGNPOSTED: 'Signposted to other services',
  NO_FURTHER_ACTION: 'No further action',
  OPEN: 'Open, awaiting decision',
} as const satisfies CodeList;

export const ASSESSMENT_TYPE = {
  NEEDS_ASSESSMENT: 'Care Act needs assessment',
  CARERS_ASSESSMENT: "Carer's assessment",
  OT_ASSESSMENT: 'Occupational therapy assessment',
  REVIEW: 'Review',
  MENTAL_CAPACITY: 'Mental capacity assessment',
  CONTINUING_HEALTHCARE_CHECKLIST: 'NHS continuing healthcare checklist',
} as const satisfies CodeList;

export const ASSESSMENT_STATUS = { IN_PROGRESS: 'In progress', COMPLETED: 'Completed', CANCELLED: 'Cancelled' } as const satisfies CodeList;
export const ASSESSMENT_TASK_STATUS: Readonly<Record<keyof typeof ASSESSMENT_STATUS, 'in-progress' | 'completed' | 'cancelled'>> = {
  IN_PROGRESS: 'in-progress',
  COMPLETED: 'completed',
  CANCELLED: 'cancelled',
};

export const RISK_RAG = { R: 'Red (high risk)', A: 'Amber (medium risk)', G: 'Green (low risk)' } as const satisfies CodeList;
const RISK_PROBABILITY = 'http://terminology.hl7.org/CodeSystem/risk-probability';
export const RISK_QUALITATIVE: Readonly<Record<keyof typeof RISK_RAG, Coding>> = {
  R: { system: RISK_PROBABILITY, code: 'high', display: 'High likelihood' },
  A: { system: RISK_PROBABILITY, code: 'moderate', display: 'Moderate likelihood' },
  G: { system: RISK_PROBABILITY, code: 'low', display: 'Low likelihood' },
};

export const SERVICE_TYPE = {
  HOME_CARE: 'Home care',
  REABLEMENT: 'Reablement',
  DAY_CARE: 'Day care',
  RESPITE: 'Respite care',
  RESIDENTIAL_CARE: 'Residential care',
  NURSING_CARE: 'Nursing care',
  MEALS: 'Meals',
  TELECARE: 'Telecare',
  EQUIPMENT: 'Equipment',
  DIRECT_PAYMENT: 'Direct payment',
  SITTING_SERVICE: 'Sitting service',
} as const satisfies CodeList;

export const SERVICE_UNIT = {
  HOURS_PER_WEEK: 'hours per week',
  VISITS_PER_DAY: 'visits per day',
  VISITS_PER_WEEK: 'visits per week',
  NIGHTS: 'nights',
  DAYS_PER_WEEK: 'days per week',
  ITEM: 'items',
} as const satisfies CodeList;
/** UCUM for the unit, where there is one (per week, per day). */
export const SERVICE_UNIT_UCUM: Readonly<Record<keyof typeof SERVICE_UNIT, string | undefined>> = {
  HOURS_PER_WEEK: 'h/wk',
  VISITS_PER_DAY: '/d',
  VISITS_PER_WEEK: '/wk',
  NIGHTS: 'd',
  DAYS_PER_WEEK: 'd/wk',
  ITEM: '{item}',
};

export const SERVICE_STATUS = { PLANNED: 'Planned', ACTIVE: 'Active', SUSPENDED: 'Suspended', ENDED: 'Ended' } as const satisfies CodeList;
export const SERVICE_ACTIVITY_STATUS: Readonly<Record<keyof typeof SERVICE_STATUS, 'not-started' | 'in-progress' | 'on-hold' | 'completed'>> = {
  PLANNED: 'not-started',
  ACTIVE: 'in-progress',
  SUSPENDED: 'on-hold',
  ENDED: 'completed',
};

export const SUSPENSION_REASON = {
  HOSPITAL_ADMISSION: 'Hospital admission',
  RESPITE_STAY: 'Respite stay',
  PERSON_AWAY: 'Person away from home',
  PERSON_REQUEST: "At the person's request",
  OTHER: 'Other',
} as const satisfies CodeList;

export const PLAN_TYPE = {
  SUPPORT_PLAN: 'Care and support plan',
  CONTINGENCY_PLAN: 'Contingency plan',
  EMERGENCY_PLAN: 'Emergency plan',
  CARERS_SUPPORT_PLAN: "Carer's support plan",
} as const satisfies CodeList;

export const PLAN_STATUS = { DRAFT: 'Draft', ACTIVE: 'Active', REVIEW_DUE: 'Review due', CLOSED: 'Closed' } as const satisfies CodeList;
export const PLAN_STATUS_FHIR: Readonly<Record<keyof typeof PLAN_STATUS, 'draft' | 'active' | 'completed'>> = { DRAFT: 'draft', ACTIVE: 'active', REVIEW_DUE: 'active', CLOSED: 'completed' };

export const ALERT_TYPE = {
  SAFEGUARDING: 'Safeguarding concern',
  LONE_WORKING_RISK: 'Lone working risk',
  DOG_ON_PREMISES: 'Dog on premises',
  KEY_SAFE: 'Key safe',
  FALLS_RISK: 'Falls risk',
  DNACPR_IN_PLACE: 'DNACPR decision in place',
  DOMESTIC_ABUSE: 'Domestic abuse',
  FIRE_RISK: 'Fire risk',
  HOARDING: 'Hoarding',
  COMMUNICATION_NEEDS: 'Communication needs',
} as const satisfies CodeList;
export type AlertType = keyof typeof ALERT_TYPE;

export const CONSENT_TYPE = {
  SHARE_WITH_HEALTH: 'Share social care information with health services',
  SHARE_WITH_VOLUNTARY_SECTOR: 'Share with the voluntary sector',
  SHARE_WITH_CARER: 'Share with carers',
} as const satisfies CodeList;

export const CONSENT_DECISION = { GIVEN: 'Consent given', REFUSED: 'Consent refused', WITHDRAWN: 'Consent withdrawn', BEST_INTEREST: 'Best interest decision to share' } as const satisfies CodeList;
export const DECISION_MAKER = {
  PERSON: 'The person',
  LPA_HEALTH_WELFARE: 'Attorney (LPA health and welfare)',
  COURT_DEPUTY: 'Court-appointed deputy',
  BEST_INTEREST_MEETING: 'Best interest meeting',
} as const satisfies CodeList;

export const RECORD_STATUS = { A: 'Added', U: 'Updated', D: 'Deleted' } as const satisfies CodeList;
export type RecordStatus = keyof typeof RECORD_STATUS;
