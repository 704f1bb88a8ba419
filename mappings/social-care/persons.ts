import type { Address, ContactPoint, Extension, HumanName, Identifier, Patient, Resource } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { ETHNIC_CATEGORY_ENGLAND, UK_CORE_EXTENSION } from '../hl7v2/tables/uk-core-codes';
import { CARE_HOME_RESIDENCE_EXTENSION } from '../identifiers';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, NHS_NUMBER_VERIFICATION_EXTENSION, NHS_NUMBER_VERIFICATION_SYSTEM, NhsNumberVerification, normaliseNhsNumber, VERIFICATION_DISPLAY } from '../identity/nhs-number';
import { ACCOMMODATION_TYPE, CARE_HOME_ACCOMMODATION, GENDER, GENDER_FHIR } from './codes';
import { IssueCode, localSystem, meta, patientId, type Retirement, type SocialCareContext } from './context';
import { code, date, dateTime, flag, text, type RowReader } from './fields';
import { HUMAN_LANGUAGE, UK_CORE_HUMAN_LANGUAGE_SYSTEM } from './languages';
import { cqcOrganization, cqcReference, gpPractice, gpPracticeReference } from './organisations';
import { readerFor, type RowMapping } from './row-result';

/**
 * persons.csv → UK Core Patient: the council's person number, the NHS number with its verification
 * status (NHS_NUMBER_VERIFIED=Y is "01 number present and verified"; an invalid number is kept,
 * marked not traced, and never links), names, birth and death, gender, ethnic category, language
 * and interpreter, address and contacts, the registered GP practice (ODS) and the care home the
 * person lives in (CQC). A person no longer held by the source is kept, inactive.
 */
export const UK_CORE_PATIENT_PROFILE = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient';
export const INTERPRETER_REQUIRED_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired';
export const ACCOMMODATION_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/accommodation-type';
export const LIVES_ALONE_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/lives-alone';
export const SOURCE_GENDER_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/source-gender';
export const SOURCE_LAST_UPDATED_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/source-last-updated';

/** PERSON_ID plus the NHS number as read, for the importer's cross-row checks (shared numbers). */
export interface PersonFacts {
  readonly personId: string;
  readonly nhsNumber?: string;
  readonly nhsNumberValid: boolean;
}

export function personFacts(row: SourceRow): PersonFacts {
  const digits = normaliseNhsNumber(row.values['NHS_NUMBER'] ?? '');
  return { personId: row.values['PERSON_ID'] ?? '', ...(digits ? { nhsNumber: digits } : {}), nhsNumberValid: digits !== undefined && isValidNhsNumber(digits) };
}

function nhsNumber(r: RowReader): Identifier | undefined {
  const raw = text(r, 'NHS_NUMBER');
  const verified = flag(r, 'NHS_NUMBER_VERIFIED');
  if (raw === undefined) {
    if (verified) r.issues.warning(IssueCode.INCONSISTENT, 'NHS_NUMBER_VERIFIED', 'NHS_NUMBER_VERIFIED is Y but there is no NHS number');
    return undefined;
  }
  const digits = normaliseNhsNumber(raw);
  if (!digits) {
    r.issues.warning(IssueCode.NHS_NUMBER_INVALID, 'NHS_NUMBER', 'NHS_NUMBER is not ten digits; not recorded');
    return undefined;
  }
  if (digits !== raw) r.issues.information(IssueCode.NHS_NUMBER_FORMAT, 'NHS_NUMBER', 'NHS_NUMBER written with spaces or dashes; stored as ten digits');
  const valid = isValidNhsNumber(digits);
  if (!valid) r.issues.warning(IssueCode.NHS_NUMBER_INVALID, 'NHS_NUMBER', `NHS_NUMBER fails the modulus 11 check; kept as not traced${verified ? ' although NHS_NUMBER_VERIFIED is Y' : ''}, never used to link`);
  const status = valid && verified ? NhsNumberVerification.VERIFIED : NhsNumberVerification.NOT_TRACED;
  return {
    extension: [{ url: NHS_NUMBER_VERIFICATION_EXTENSION, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code: status, display: VERIFICATION_DISPLAY[status] }] } }],
    system: NHS_NUMBER_SYSTEM,
    value: digits,
  };
}

function names(r: RowReader): HumanName[] {
  const title = text(r, 'TITLE');
  const given = [text(r, 'FORENAME'), ...(text(r, 'MIDDLE_NAMES')?.split(/\s+/) ?? [])].filter((g): g is string => g !== undefined);
  const family = text(r, 'SURNAME');
  const out: HumanName[] = [];
  if (family || given.length > 0) out.push({ use: 'official', ...(family ? { family } : {}), ...(given.length ? { given } : {}), ...(title ? { prefix: [title] } : {}) });
  const preferred = text(r, 'PREFERRED_NAME');
  if (preferred) out.push({ use: 'usual', given: [preferred], ...(family ? { family } : {}) });
  return out;
}

function telecom(r: RowReader): ContactPoint[] {
  const out: ContactPoint[] = [];
  const phone = text(r, 'TELEPHONE');
  const mobile = text(r, 'MOBILE');
  const email = text(r, 'EMAIL');
  if (phone) out.push({ system: 'phone', value: phone, use: 'home' });
  if (mobile) out.push({ system: 'phone', value: mobile, use: 'mobile' });
  if (email) out.push({ system: 'email', value: email, use: 'home' });
  return out;
}

function address(r: RowReader): Address | undefined {
  const line = ['ADDRESS_LINE_1', 'ADDRESS_LINE_2', 'ADDRESS_LINE_3', 'ADDRESS_LINE_4'].map((c) => text(r, c)).filter((l): l is string => l !== undefined);
  const postcode = text(r, 'POSTCODE')?.toUpperCase().replace(/\s+/g, ' ');
  if (line.length === 0 && !postcode) return undefined;
  return { use: 'home', type: 'physical', ...(line.length ? { line } : {}), ...(postcode ? { postalCode: postcode } : {}) };
}

function ethnicity(r: RowReader): Extension | undefined {
  const value = text(r, 'ETHNICITY')?.toUpperCase();
  if (value === undefined) return undefined;
  const display = ETHNIC_CATEGORY_ENGLAND.concepts[value];
  if (display !== undefined) return { url: UK_CORE_EXTENSION.ETHNIC_CATEGORY, valueCodeableConcept: { coding: [{ system: ETHNIC_CATEGORY_ENGLAND.system, code: value, display }] } };
  r.issues.warning(IssueCode.UNKNOWN_CODE, 'ETHNICITY', `ETHNICITY code '${value.slice(0, 10)}' is not an NHS ethnic category; kept as the source's own code`);
  return { url: UK_CORE_EXTENSION.ETHNIC_CATEGORY, valueCodeableConcept: { coding: [{ system: localSystem.code(r.context.source, 'ETHNICITY'), code: value }] } };
}

function communication(r: RowReader): Patient['communication'] {
  const language = text(r, 'FIRST_LANGUAGE');
  if (!language) return undefined;
  const known = HUMAN_LANGUAGE[language.toLowerCase()];
  if (!known) r.issues.information(IssueCode.UNKNOWN_CODE, 'FIRST_LANGUAGE', 'FIRST_LANGUAGE is not a UK Core language name; kept as text');
  return [{ language: { ...(known ? { coding: [{ system: UK_CORE_HUMAN_LANGUAGE_SYSTEM, code: known.code, display: known.display }] } : {}), text: language }, preferred: true }];
}

export function mapPersonRow(context: SocialCareContext, row: SourceRow, retirement?: Retirement): RowMapping {
  const r = readerFor(context, row, 'PERSON_ID');
  const personId = text(r, 'PERSON_ID') as string;
  const resources: (Resource & { id: string })[] = [];
  const nhs = nhsNumber(r);
  const birthDate = date(r, 'DATE_OF_BIRTH', { notAfterExtract: true });
  let deathDate = date(r, 'DATE_OF_DEATH', { notAfterExtract: true });
  if (deathDate && birthDate && deathDate < birthDate) {
    r.issues.warning(IssueCode.DATES_OUT_OF_ORDER, 'DATE_OF_DEATH', 'DATE_OF_DEATH is before DATE_OF_BIRTH; left empty');
    deathDate = undefined;
  }
  const gender = code(r, 'GENDER', GENDER);
  const accommodation = code(r, 'ACCOMMODATION_TYPE', ACCOMMODATION_TYPE);
  const extension: Extension[] = [];
  const ethnic = ethnicity(r);
  if (ethnic) extension.push(ethnic);
  const interpreter = flag(r, 'INTERPRETER_REQUIRED');
  if (interpreter !== undefined) extension.push({ url: INTERPRETER_REQUIRED_EXTENSION, valueBoolean: interpreter });
  if (accommodation) extension.push({ url: ACCOMMODATION_EXTENSION, valueCodeableConcept: { coding: [accommodation.coding], text: accommodation.coding.display ?? accommodation.code } });
  const livesAlone = flag(r, 'LIVES_ALONE');
  if (livesAlone !== undefined) extension.push({ url: LIVES_ALONE_EXTENSION, valueBoolean: livesAlone });

  const cqc = text(r, 'CARE_HOME_CQC_ID');
  const homeName = text(r, 'CARE_HOME_NAME');
  const inCareHome = accommodation?.known !== undefined && CARE_HOME_ACCOMMODATION.has(accommodation.known);
  if (cqc) {
    resources.push(cqcOrganization(context, cqc, homeName, 'Care home'));
    extension.push({ url: CARE_HOME_RESIDENCE_EXTENSION, valueReference: cqcReference(context, cqc, homeName) });
    if (accommodation?.known && !inCareHome) r.issues.information(IssueCode.INCONSISTENT, 'CARE_HOME_CQC_ID', 'A care home is named but ACCOMMODATION_TYPE is not a care home; the residence is recorded');
  } else if (homeName) {
    extension.push({ url: CARE_HOME_RESIDENCE_EXTENSION, valueReference: { display: homeName } });
    r.issues.warning(IssueCode.INCONSISTENT, 'CARE_HOME_CQC_ID', 'CARE_HOME_NAME without CARE_HOME_CQC_ID: the home cannot be matched to its staff');
  } else if (inCareHome) {
    r.issues.information(IssueCode.INCONSISTENT, 'CARE_HOME_CQC_ID', 'ACCOMMODATION_TYPE is a care home but the home is not named');
  }
  const lastUpdated = dateTime(r, 'LAST_UPDATED');
  if (lastUpdated) extension.push({ url: SOURCE_LAST_UPDATED_EXTENSION, valueDateTime: lastUpdated });

  const gp = text(r, 'GP_PRACTICE_CODE')?.toUpperCase();
  let generalPractitioner: Patient['generalPractitioner'];
  if (gp) {
    if (/^[A-Z0-9]{3,6}$/.test(gp)) {
      resources.push(gpPractice(context, gp));
      generalPractitioner = [gpPracticeReference(context, gp)];
    } else {
      r.issues.warning(IssueCode.UNKNOWN_CODE, 'GP_PRACTICE_CODE', 'GP_PRACTICE_CODE is not an ODS code; not recorded');
    }
  }
  const genderFhir = gender?.known ? GENDER_FHIR[gender.known] : gender ? 'unknown' : undefined;
  const home = address(r);
  const contacts = telecom(r);
  const nameList = names(r);
  const languages = communication(r);
  // FHIR has male/female/other/unknown: indeterminate, other and unknown codes keep the source's code beside it.
  const sourceGender = gender && gender.known !== 'M' && gender.known !== 'F' && gender.known !== 'U' ? gender.coding : undefined;
  const patient: Patient & { id: string } = {
    resourceType: 'Patient',
    id: patientId(context, personId),
    meta: { ...meta(context, [], 'N', retirement !== undefined), profile: [UK_CORE_PATIENT_PROFILE] },
    ...(extension.length ? { extension } : {}),
    identifier: [...(nhs ? [nhs] : []), { use: 'usual', system: localSystem.person(context.source), value: personId }],
    active: retirement === undefined,
    ...(nameList.length ? { name: nameList } : {}),
    ...(contacts.length ? { telecom: contacts } : {}),
    ...(genderFhir ? { gender: genderFhir } : {}),
    ...(sourceGender ? { _gender: { extension: [{ url: SOURCE_GENDER_EXTENSION, valueCoding: sourceGender }] } } : {}),
    ...(birthDate ? { birthDate } : {}),
    ...(deathDate ? { deceasedDateTime: deathDate } : {}),
    ...(home ? { address: [home] } : {}),
    ...(languages ? { communication: languages } : {}),
    ...(generalPractitioner ? { generalPractitioner } : {}),
  };
  resources.unshift(patient);
  return { resources, issues: r.issues.items };
}
