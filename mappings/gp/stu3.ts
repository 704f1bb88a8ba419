import type {
  Address,
  Annotation,
  Attachment,
  CodeableConcept,
  Coding,
  ContactPoint,
  Duration,
  Extension,
  HumanName,
  Identifier,
  Period,
  Quantity,
  Range,
  Ratio,
  Reference,
  SampledData,
  Timing,
} from '@medplum/fhirtypes';

/**
 * The FHIR STU3 shapes GP Connect Access Record: Structured sends (CareConnect-GPC profiles), as far
 * as we read them. Data types that did not change between STU3 and R4 (CodeableConcept, Coding,
 * Identifier, Period, Quantity, HumanName, Address, ContactPoint, Annotation, Attachment, Timing,
 * Reference) are the R4 types; what changed is spelled out here so the mapping must handle it.
 */

export interface Stu3Meta {
  profile?: string[];
  security?: Coding[];
  versionId?: string;
  lastUpdated?: string;
}

export interface Stu3Resource {
  resourceType: string;
  id?: string;
  meta?: Stu3Meta;
  extension?: Extension[];
  identifier?: Identifier[];
}

export interface Stu3Bundle {
  resourceType: 'Bundle';
  id?: string;
  meta?: Stu3Meta;
  type?: string;
  entry?: { fullUrl?: string; resource?: Stu3Resource }[];
}

/** STU3 Dosage: dose[x] and rate[x] sit on Dosage itself (R4 moved them into doseAndRate). */
export interface Stu3Dosage {
  extension?: Extension[];
  sequence?: number;
  text?: string;
  additionalInstruction?: CodeableConcept[];
  patientInstruction?: string;
  timing?: Timing;
  asNeededBoolean?: boolean;
  asNeededCodeableConcept?: CodeableConcept;
  site?: CodeableConcept;
  route?: CodeableConcept;
  method?: CodeableConcept;
  doseRange?: Range;
  doseSimpleQuantity?: Quantity;
  doseQuantity?: Quantity;
  maxDosePerPeriod?: Ratio;
  maxDosePerAdministration?: Quantity;
  maxDosePerLifetime?: Quantity;
  rateRatio?: Ratio;
  rateRange?: Range;
  rateSimpleQuantity?: Quantity;
  rateQuantity?: Quantity;
}

export interface Stu3Patient extends Stu3Resource {
  active?: boolean;
  name?: HumanName[];
  telecom?: ContactPoint[];
  gender?: string;
  birthDate?: string;
  deceasedBoolean?: boolean;
  deceasedDateTime?: string;
  address?: Address[];
  maritalStatus?: CodeableConcept;
  multipleBirthBoolean?: boolean;
  multipleBirthInteger?: number;
  contact?: {
    relationship?: CodeableConcept[];
    name?: HumanName;
    telecom?: ContactPoint[];
    address?: Address;
    gender?: string;
    organization?: Reference;
    period?: Period;
  }[];
  communication?: { language: CodeableConcept; preferred?: boolean; extension?: Extension[] }[];
  generalPractitioner?: Reference[];
  managingOrganization?: Reference;
}

export interface Stu3Organization extends Stu3Resource {
  active?: boolean;
  type?: CodeableConcept[];
  name?: string;
  telecom?: ContactPoint[];
  address?: Address[];
  partOf?: Reference;
}

export interface Stu3Practitioner extends Stu3Resource {
  active?: boolean;
  name?: HumanName[];
  telecom?: ContactPoint[];
  address?: Address[];
  gender?: string;
  communication?: CodeableConcept[];
}

export interface Stu3PractitionerRole extends Stu3Resource {
  active?: boolean;
  period?: Period;
  practitioner?: Reference;
  organization?: Reference;
  code?: CodeableConcept[];
  specialty?: CodeableConcept[];
  location?: Reference[];
  telecom?: ContactPoint[];
}

export interface Stu3Location extends Stu3Resource {
  status?: string;
  name?: string;
  alias?: string[];
  description?: string;
  type?: CodeableConcept;
  telecom?: ContactPoint[];
  address?: Address;
  managingOrganization?: Reference;
}

export interface Stu3AllergyReaction {
  substance?: CodeableConcept;
  manifestation: CodeableConcept[];
  description?: string;
  onset?: string;
  severity?: string;
  exposureRoute?: CodeableConcept;
  note?: Annotation[];
}

export interface Stu3AllergyIntolerance extends Stu3Resource {
  /** STU3: a code (active | inactive | resolved); R4: a CodeableConcept. */
  clinicalStatus?: string;
  /** STU3: a code (unconfirmed | confirmed | refuted | entered-in-error); R4: a CodeableConcept. */
  verificationStatus?: string;
  type?: string;
  category?: string[];
  criticality?: string;
  code?: CodeableConcept;
  patient?: Reference;
  onsetDateTime?: string;
  onsetPeriod?: Period;
  onsetString?: string;
  /** STU3 assertedDate → R4 recordedDate. */
  assertedDate?: string;
  recorder?: Reference;
  asserter?: Reference;
  lastOccurrence?: string;
  note?: Annotation[];
  reaction?: Stu3AllergyReaction[];
}

export interface Stu3Medication extends Stu3Resource {
  code?: CodeableConcept;
  status?: string;
  isBrand?: boolean;
  form?: CodeableConcept;
  ingredient?: { itemCodeableConcept?: CodeableConcept; itemReference?: Reference; isActive?: boolean; amount?: Ratio }[];
  package?: { batch?: { lotNumber?: string; expirationDate?: string }[] };
}

export interface Stu3MedicationStatement extends Stu3Resource {
  basedOn?: Reference[];
  partOf?: Reference[];
  context?: Reference;
  status?: string;
  category?: CodeableConcept;
  medicationCodeableConcept?: CodeableConcept;
  medicationReference?: Reference;
  effectiveDateTime?: string;
  effectivePeriod?: Period;
  dateAsserted?: string;
  informationSource?: Reference;
  subject?: Reference;
  derivedFrom?: Reference[];
  /** STU3 only (y | n | unk | na); R4 folds "not taken" into status. */
  taken?: string;
  reasonNotTaken?: CodeableConcept[];
  reasonCode?: CodeableConcept[];
  reasonReference?: Reference[];
  note?: Annotation[];
  dosage?: Stu3Dosage[];
}

export interface Stu3MedicationRequest extends Stu3Resource {
  definition?: Reference[];
  basedOn?: Reference[];
  groupIdentifier?: Identifier;
  status?: string;
  intent?: string;
  category?: CodeableConcept;
  priority?: string;
  medicationCodeableConcept?: CodeableConcept;
  medicationReference?: Reference;
  subject?: Reference;
  /** STU3 context → R4 encounter. */
  context?: Reference;
  supportingInformation?: Reference[];
  authoredOn?: string;
  /** STU3: a BackboneElement (agent, onBehalfOf); R4: one Reference. */
  requester?: { agent?: Reference; onBehalfOf?: Reference };
  recorder?: Reference;
  reasonCode?: CodeableConcept[];
  reasonReference?: Reference[];
  note?: Annotation[];
  dosageInstruction?: Stu3Dosage[];
  dispenseRequest?: {
    validityPeriod?: Period;
    numberOfRepeatsAllowed?: number;
    quantity?: Quantity;
    expectedSupplyDuration?: Duration;
    performer?: Reference;
  };
  /** STU3 substitution.allowed (boolean) → R4 substitution.allowedBoolean. */
  substitution?: { allowed?: boolean; reason?: CodeableConcept };
  priorPrescription?: Reference;
}

export interface Stu3Condition extends Stu3Resource {
  /** STU3 code → R4 CodeableConcept. */
  clinicalStatus?: string;
  verificationStatus?: string;
  category?: CodeableConcept[];
  severity?: CodeableConcept;
  code?: CodeableConcept;
  bodySite?: CodeableConcept[];
  subject?: Reference;
  context?: Reference;
  onsetDateTime?: string;
  onsetAge?: Quantity;
  onsetPeriod?: Period;
  onsetRange?: Range;
  onsetString?: string;
  abatementDateTime?: string;
  abatementAge?: Quantity;
  abatementBoolean?: boolean;
  abatementPeriod?: Period;
  abatementRange?: Range;
  abatementString?: string;
  assertedDate?: string;
  asserter?: Reference;
  note?: Annotation[];
}

export interface Stu3Immunization extends Stu3Resource {
  status?: string;
  /** STU3 only; R4 status 'not-done'. */
  notGiven?: boolean;
  vaccineCode?: CodeableConcept;
  patient?: Reference;
  encounter?: Reference;
  /** STU3 date → R4 occurrenceDateTime. */
  date?: string;
  primarySource?: boolean;
  reportOrigin?: CodeableConcept;
  location?: Reference;
  manufacturer?: Reference;
  lotNumber?: string;
  expirationDate?: string;
  site?: CodeableConcept;
  route?: CodeableConcept;
  doseQuantity?: Quantity;
  /** STU3 practitioner[] (role, actor) → R4 performer[] (function, actor). */
  practitioner?: { role?: CodeableConcept; actor?: Reference }[];
  note?: Annotation[];
  /** STU3 explanation.reason → R4 reasonCode; explanation.reasonNotGiven → R4 statusReason. */
  explanation?: { reason?: CodeableConcept[]; reasonNotGiven?: CodeableConcept[] };
  /** STU3 vaccinationProtocol → R4 protocolApplied. */
  vaccinationProtocol?: { doseSequence?: number; description?: string; authority?: Reference; series?: string; seriesDoses?: number; targetDisease?: CodeableConcept[]; doseStatus?: CodeableConcept }[];
}

export interface Stu3Observation extends Stu3Resource {
  basedOn?: Reference[];
  status?: string;
  category?: CodeableConcept[];
  code?: CodeableConcept;
  subject?: Reference;
  /** STU3 context → R4 encounter. */
  context?: Reference;
  effectiveDateTime?: string;
  effectivePeriod?: Period;
  issued?: string;
  performer?: Reference[];
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  valueString?: string;
  valueBoolean?: boolean;
  valueRange?: Range;
  valueRatio?: Ratio;
  valueSampledData?: SampledData;
  valueAttachment?: Attachment;
  valueTime?: string;
  valueDateTime?: string;
  valuePeriod?: Period;
  dataAbsentReason?: CodeableConcept;
  /** STU3 0..1 → R4 0..*. */
  interpretation?: CodeableConcept;
  /** STU3 comment → R4 note. */
  comment?: string;
  bodySite?: CodeableConcept;
  method?: CodeableConcept;
  specimen?: Reference;
  referenceRange?: { low?: Quantity; high?: Quantity; type?: CodeableConcept; appliesTo?: CodeableConcept[]; age?: Range; text?: string }[];
  /** STU3 related (type has-member | derived-from | …) → R4 hasMember / derivedFrom. */
  related?: { type?: string; target: Reference }[];
  component?: {
    code: CodeableConcept;
    valueQuantity?: Quantity;
    valueCodeableConcept?: CodeableConcept;
    valueString?: string;
    valueRange?: Range;
    valueRatio?: Ratio;
    dataAbsentReason?: CodeableConcept;
    interpretation?: CodeableConcept;
    referenceRange?: { low?: Quantity; high?: Quantity; text?: string }[];
  }[];
}

export interface Stu3DiagnosticReport extends Stu3Resource {
  basedOn?: Reference[];
  status?: string;
  category?: CodeableConcept;
  code?: CodeableConcept;
  subject?: Reference;
  context?: Reference;
  effectiveDateTime?: string;
  effectivePeriod?: Period;
  issued?: string;
  /** STU3 performer[] (role, actor) → R4 performer[] (Reference). */
  performer?: { role?: CodeableConcept; actor?: Reference }[];
  specimen?: Reference[];
  result?: Reference[];
  conclusion?: string;
  /** STU3 codedDiagnosis → R4 conclusionCode. */
  codedDiagnosis?: CodeableConcept[];
  presentedForm?: Attachment[];
}

export interface Stu3Specimen extends Stu3Resource {
  accessionIdentifier?: Identifier;
  status?: string;
  type?: CodeableConcept;
  subject?: Reference;
  receivedTime?: string;
  parent?: Reference[];
  request?: Reference[];
  collection?: { collector?: Reference; collectedDateTime?: string; collectedPeriod?: Period; quantity?: Quantity; method?: CodeableConcept; bodySite?: CodeableConcept };
  note?: Annotation[];
}

export interface Stu3Encounter extends Stu3Resource {
  status?: string;
  /** STU3 0..1; R4 1..1. */
  class?: Coding;
  type?: CodeableConcept[];
  priority?: CodeableConcept;
  subject?: Reference;
  episodeOfCare?: Reference[];
  participant?: { type?: CodeableConcept[]; period?: Period; individual?: Reference }[];
  appointment?: Reference;
  period?: Period;
  length?: Duration;
  /** STU3 reason → R4 reasonCode. */
  reason?: CodeableConcept[];
  location?: { location: Reference; status?: string; period?: Period }[];
  serviceProvider?: Reference;
}

/** STU3 ReferralRequest → R4 ServiceRequest. */
export interface Stu3ReferralRequest extends Stu3Resource {
  basedOn?: Reference[];
  replaces?: Reference[];
  groupIdentifier?: Identifier;
  status?: string;
  intent?: string;
  type?: CodeableConcept;
  priority?: string;
  serviceRequested?: CodeableConcept[];
  subject?: Reference;
  context?: Reference;
  occurrenceDateTime?: string;
  occurrencePeriod?: Period;
  authoredOn?: string;
  requester?: { agent?: Reference; onBehalfOf?: Reference };
  specialty?: CodeableConcept;
  recipient?: Reference[];
  reasonCode?: CodeableConcept[];
  reasonReference?: Reference[];
  description?: string;
  supportingInfo?: Reference[];
  note?: Annotation[];
}

/** STU3 ProcedureRequest (GP Connect diary entries) → R4 ServiceRequest. */
export interface Stu3ProcedureRequest extends Stu3Resource {
  basedOn?: Reference[];
  status?: string;
  intent?: string;
  priority?: string;
  category?: CodeableConcept[];
  code?: CodeableConcept;
  subject?: Reference;
  context?: Reference;
  occurrenceDateTime?: string;
  occurrencePeriod?: Period;
  authoredOn?: string;
  requester?: { agent?: Reference; onBehalfOf?: Reference };
  performer?: Reference;
  reasonCode?: CodeableConcept[];
  reasonReference?: Reference[];
  supportingInfo?: Reference[];
  note?: Annotation[];
}

export interface Stu3DocumentReference extends Stu3Resource {
  masterIdentifier?: Identifier;
  status?: string;
  docStatus?: string;
  type?: CodeableConcept;
  /** STU3 class → R4 category. */
  class?: CodeableConcept;
  subject?: Reference;
  /** STU3 created → R4 content.attachment.creation (R4 has no created). */
  created?: string;
  /** STU3 indexed → R4 date. */
  indexed?: string;
  author?: Reference[];
  custodian?: Reference;
  description?: string;
  securityLabel?: CodeableConcept[];
  content?: { attachment: Attachment; format?: Coding }[];
  context?: { encounter?: Reference; period?: Period; facilityType?: CodeableConcept; practiceSetting?: CodeableConcept };
}

export interface Stu3List extends Stu3Resource {
  status?: string;
  mode?: string;
  title?: string;
  code?: CodeableConcept;
  subject?: Reference;
  encounter?: Reference;
  date?: string;
  source?: Reference;
  orderedBy?: CodeableConcept;
  note?: Annotation[];
  entry?: { flag?: CodeableConcept; deleted?: boolean; date?: string; item: Reference }[];
  emptyReason?: CodeableConcept;
}
