import type { Extension, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, NHS_NUMBER_VERIFICATION_EXTENSION, NHS_NUMBER_VERIFICATION_SYSTEM, normaliseNhsNumber } from '../../identity/nhs-number';
import { idFor, localSystem, meta, type MapScope } from '../context';
import { ceToCodeableConcept, readCe } from '../datatypes/ce';
import { classifyPatientIdentifier, PatientIdentifierKind, readCx, type ExtendedId } from '../datatypes/cx';
import { clearedBy, firstOf, repetitionsOf, simpleText } from '../datatypes/field';
import { isBefore, readTimestamp, type ValidTimestamp } from '../datatypes/ts-field';
import { readXadList } from '../datatypes/xad';
import { readXpn } from '../datatypes/xpn';
import { readXtnList } from '../datatypes/xtn';
import { at, Hl7ErrorCode, IssueReason } from '../issues';
import { translateCode } from '../tables/coded';
import { ADMINISTRATIVE_SEX, IDENTITY_RELIABILITY_0445, MARITAL_STATUS, MOTHERS_MAIDEN_NAME_EXTENSION, NHS_NUMBER_VERIFICATION_DISPLAY, verificationFromReliabilityCode } from '../tables/patient';
import { ETHNIC_CATEGORY_ENGLAND, UK_CORE_EXTENSION } from '../tables/uk-core-codes';
import { reportUnmappedFields } from './coverage';

/**
 * PID patient identification (v2.5.1 §3.4.2) → UK Core Patient. Identifiers come from PID-3 and
 * also PID-2/PID-4 (older UK feeds carry the NHS number there): the NHS number wherever it
 * repeats, the hospital's numbers under `${source}/mrn`.
 */

const V2_IDENTIFIER_TYPE = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/** PID fields mapped here, or passed over on purpose: PID-1 set id; PID-33/34 last update (order comes from EVN). */
const HANDLED = new Set([1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 14, 16, 22, 24, 25, 29, 30, 32, 33, 34]);

export interface PatientMapping {
  readonly patient: Patient & { id: string };
  /** The sender's own key for the person: its first local record number (else `nhs-number:<n>` or `<type>:<value>`). */
  readonly patientKey: string;
  /** Elements the message explicitly deleted (`""`), as `Patient.<element>` paths. */
  readonly cleared: string[];
  /** PID-29 or PID-30 say the patient has died. */
  readonly died: boolean;
}

interface FoundIdentifier {
  readonly id: ExtendedId;
  readonly kind: PatientIdentifierKind;
  readonly seq: number;
  readonly rep: number;
}

/** Every CX in PID-2, PID-3 and PID-4, classified. */
export function patientIdentifiers(segment: Hl7Segment, fields: readonly number[] = [3, 2, 4]): FoundIdentifier[] {
  const out: FoundIdentifier[] = [];
  for (const seq of fields) {
    for (const value of repetitionsOf(segment, seq)) {
      const id = readCx(value);
      if (id) out.push({ id, kind: classifyPatientIdentifier(id), seq, rep: value.rep });
    }
  }
  return out;
}

/** The person's key with this sender, from classified identifiers (also used for MRG-1 in A40). */
export function keyFromIdentifiers(found: readonly FoundIdentifier[]): { key: string; kind: PatientIdentifierKind } | undefined {
  const local = found.find((f) => f.kind === PatientIdentifierKind.LOCAL_RECORD_NUMBER);
  if (local) return { key: local.id.value, kind: local.kind };
  const nhs = found.find((f) => f.kind === PatientIdentifierKind.NHS_NUMBER);
  if (nhs) return { key: `nhs-number:${normaliseNhsNumber(nhs.id.value) ?? nhs.id.value}`, kind: nhs.kind };
  const other = found[0];
  return other ? { key: `${other.id.typeCode.toLowerCase()}:${other.id.value}`, kind: other.kind } : undefined;
}

function verificationStatus(scope: MapScope, segment: Hl7Segment): string | undefined {
  for (const value of repetitionsOf(segment, 32)) {
    const code = value.segment.text(32, 1, 1, value.rep).trim().toUpperCase();
    const status = verificationFromReliabilityCode(code);
    if (status) return status;
    if (!IDENTITY_RELIABILITY_0445.has(code)) scope.issues.unknownCode(at(segment, 32, undefined, value.rep), 'identity reliability (PID-32)');
  }
  if (scope.nhsNumberVerifiedBySender === undefined) return undefined;
  return scope.nhsNumberVerifiedBySender ? '01' : '02';
}

function nhsIdentifiers(scope: MapScope, segment: Hl7Segment, found: readonly FoundIdentifier[]): Identifier[] {
  const nhs = found.filter((f) => f.kind === PatientIdentifierKind.NHS_NUMBER);
  if (nhs.length === 0) return [];
  const status = verificationStatus(scope, segment);
  const seen = new Set<string>();
  const valid: Identifier[] = [];
  const invalid: Identifier[] = [];
  for (const f of nhs) {
    const value = normaliseNhsNumber(f.id.value) ?? f.id.value;
    if (seen.has(value)) continue;
    seen.add(value);
    if (!isValidNhsNumber(value)) {
      scope.issues.warning(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.NHS_NUMBER_INVALID, at(segment, f.seq, 1, f.rep), 'NHS number fails the modulus 11 check; kept, not marked verified');
      invalid.push({ system: NHS_NUMBER_SYSTEM, value });
      continue;
    }
    const extension: Extension[] = status
      ? [{ url: NHS_NUMBER_VERIFICATION_EXTENSION, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code: status, display: NHS_NUMBER_VERIFICATION_DISPLAY[status] ?? status }] } }]
      : [];
    valid.push(extension.length ? { extension, system: NHS_NUMBER_SYSTEM, value } : { system: NHS_NUMBER_SYSTEM, value });
  }
  if (valid.length > 1) {
    scope.issues.warning(Hl7ErrorCode.ACCEPTED, IssueReason.NHS_NUMBER_CONFLICT, at(segment, 3), 'More than one distinct valid NHS number; all kept, the first is used for identity');
  }
  return [...valid, ...invalid];
}

function otherIdentifiers(scope: MapScope, found: readonly FoundIdentifier[]): Identifier[] {
  const out: Identifier[] = [];
  const seen = new Set<string>();
  for (const f of found) {
    if (f.kind === PatientIdentifierKind.NHS_NUMBER) continue;
    const local = f.kind === PatientIdentifierKind.LOCAL_RECORD_NUMBER;
    const system = local ? localSystem.mrn(scope.source) : localSystem.patientIdentifier(scope.source, f.id.typeCode);
    if (seen.has(`${system}|${f.id.value}`)) continue;
    seen.add(`${system}|${f.id.value}`);
    const typeCode = f.id.typeCode || 'MR';
    const authority = f.id.assigningAuthority.namespaceId || f.id.assigningAuthority.universalId;
    out.push({
      use: local ? 'usual' : 'secondary',
      type: { coding: [{ system: V2_IDENTIFIER_TYPE, code: typeCode }] },
      system,
      value: f.id.value,
      ...(authority ? { assigner: { display: authority } } : {}),
    });
  }
  return out;
}

function names(scope: MapScope, segment: Hl7Segment): HumanName[] {
  // PID-5: "the legal name must be sent in the first repetition" (v2.5.1 §3.4.2.5).
  const [first, ...rest] = repetitionsOf(segment, 5);
  if (!first) return [];
  const legal = readXpn(scope, first, 'official');
  const others = rest.map((v) => readXpn(scope, v)).filter((n): n is HumanName => n !== undefined);
  return legal ? [legal, ...others] : others;
}

function gender(scope: MapScope, segment: Hl7Segment): Patient['gender'] {
  const code = simpleText(segment, 8).toUpperCase();
  if (!code) return undefined;
  const mapped = ADMINISTRATIVE_SEX[code];
  if (!mapped) scope.issues.unknownCode(at(segment, 8), 'administrative sex (table 0001)');
  return mapped;
}

function maritalStatus(scope: MapScope, segment: Hl7Segment): Patient['maritalStatus'] {
  const value = firstOf(segment, 16);
  const coded = value && readCe(value);
  if (!coded) return undefined;
  const mapped = MARITAL_STATUS[coded.code.toUpperCase()];
  if (mapped) return mapped;
  scope.issues.unknownCode(at(segment, 16), 'marital status (table 0002)');
  return ceToCodeableConcept(scope, coded, 'marital-status');
}

function ethnicCategory(scope: MapScope, segment: Hl7Segment): Extension | undefined {
  const value = firstOf(segment, 22);
  const coded = value && readCe(value);
  if (!coded) return undefined;
  const concept = translateCode(scope, ETHNIC_CATEGORY_ENGLAND, coded.code.toUpperCase(), coded.text, 'ethnic-group', at(segment, 22), 'ethnic category (PID-22)');
  return { url: UK_CORE_EXTENSION.ETHNIC_CATEGORY, valueCodeableConcept: concept };
}

function multipleBirth(scope: MapScope, segment: Hl7Segment): Pick<Patient, 'multipleBirthBoolean' | 'multipleBirthInteger'> {
  const indicator = simpleText(segment, 24).toUpperCase();
  const order = simpleText(segment, 25);
  if (/^\d+$/.test(order) && indicator !== 'N') return { multipleBirthInteger: Number(order) };
  if (order !== '') scope.issues.warning(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.FIELD_NOT_MAPPED, at(segment, 25), 'PID-25 birth order is not a number');
  if (indicator === 'Y') return { multipleBirthBoolean: true };
  if (indicator === 'N') return { multipleBirthBoolean: false };
  if (indicator !== '') scope.issues.unknownCode(at(segment, 24), 'yes/no indicator (table 0136)');
  return {};
}

function death(scope: MapScope, segment: Hl7Segment, birth: ValidTimestamp | undefined): { deceased: Pick<Patient, 'deceasedBoolean' | 'deceasedDateTime'>; died: boolean } {
  const when = readTimestamp(scope, segment, 29, 'PID-29 death date/time');
  const indicator = simpleText(segment, 30).toUpperCase();
  if (indicator !== '' && indicator !== 'Y' && indicator !== 'N') scope.issues.unknownCode(at(segment, 30), 'yes/no indicator (table 0136)');
  if (when) {
    if (indicator === 'N') scope.issues.warning(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.FIELD_NOT_MAPPED, at(segment, 30), 'PID-30 says not deceased but PID-29 has a date of death; the date is kept');
    if (isBefore(when, birth)) {
      scope.issues.error(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.DATES_OUT_OF_ORDER, at(segment, 29), 'PID-29 date of death is before PID-7 date of birth');
    }
    return { deceased: { deceasedDateTime: when.dateTime }, died: true };
  }
  if (indicator === 'Y') return { deceased: { deceasedBoolean: true }, died: true };
  if (indicator === 'N') return { deceased: { deceasedBoolean: false }, died: false };
  return { deceased: {}, died: false };
}

/**
 * The Patient of a PID (and the elements it clears). Without any identifier there is no one to
 * apply the message to: error 101, and no Patient. `messageInstant` bounds the birth date.
 */
export function mapPid(scope: MapScope, segment: Hl7Segment, messageInstant: string | undefined): PatientMapping | undefined {
  reportUnmappedFields(scope, segment, HANDLED);
  const found = patientIdentifiers(segment);
  const key = keyFromIdentifiers(found);
  if (!key) {
    scope.issues.error(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.NO_PATIENT_IDENTIFIER, at(segment, 3), 'No patient identifier in PID-3 (nor PID-2, PID-4)');
    return undefined;
  }
  if (key.kind !== PatientIdentifierKind.LOCAL_RECORD_NUMBER) {
    scope.issues.information(Hl7ErrorCode.ACCEPTED, IssueReason.NHS_NUMBER_AS_KEY, at(segment, 3), 'No local record number in PID-3; the patient is keyed by another identifier');
  }

  const birth = readTimestamp(scope, segment, 7, 'PID-7 date of birth');
  if (birth?.instant && messageInstant && Date.parse(birth.instant) > Date.parse(messageInstant)) {
    scope.issues.error(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.IMPOSSIBLE_DATE, at(segment, 7), 'PID-7 date of birth is after the message date/time');
  }
  const mothersMaidenName = firstOf(segment, 6);
  const maidenFamily = mothersMaidenName ? readXpn(scope, mothersMaidenName)?.family : undefined;
  const ethnic = ethnicCategory(scope, segment);
  const extension: Extension[] = [
    ...(ethnic ? [ethnic] : []),
    ...(maidenFamily ? [{ url: MOTHERS_MAIDEN_NAME_EXTENSION, valueString: maidenFamily }] : []),
  ];
  const { deceased, died } = death(scope, segment, birth);
  const telecom = [...readXtnList(scope, segment, 13, 'home'), ...readXtnList(scope, segment, 14, 'work')];
  const name = names(scope, segment);
  const address = readXadList(scope, segment, 11);
  const sex = gender(scope, segment);
  const marital = maritalStatus(scope, segment);

  const patient: Patient & { id: string } = {
    resourceType: 'Patient',
    id: idFor(scope, 'Patient', key.key),
    meta: meta(scope),
    ...(extension.length ? { extension } : {}),
    identifier: [...nhsIdentifiers(scope, segment, found), ...otherIdentifiers(scope, found)],
    ...(name.length ? { name } : {}),
    ...(telecom.length ? { telecom } : {}),
    ...(sex ? { gender: sex } : {}),
    ...(birth ? { birthDate: birth.date } : {}),
    ...deceased,
    ...(address.length ? { address } : {}),
    ...(marital ? { maritalStatus: marital } : {}),
    ...multipleBirth(scope, segment),
  };

  const cleared = [
    ...(clearedBy(segment, 5) ? ['Patient.name'] : []),
    ...(clearedBy(segment, 6) ? [`Patient.extension('${MOTHERS_MAIDEN_NAME_EXTENSION}')`] : []),
    ...(clearedBy(segment, 7) ? ['Patient.birthDate'] : []),
    ...(clearedBy(segment, 8) ? ['Patient.gender'] : []),
    ...(clearedBy(segment, 11) ? ['Patient.address'] : []),
    ...(clearedBy(segment, 13, 14) ? ['Patient.telecom'] : []),
    ...(clearedBy(segment, 16) ? ['Patient.maritalStatus'] : []),
    ...(clearedBy(segment, 22) ? [`Patient.extension('${UK_CORE_EXTENSION.ETHNIC_CATEGORY}')`] : []),
    ...(clearedBy(segment, 24, 25) ? ['Patient.multipleBirth'] : []),
    ...(clearedBy(segment, 29, 30) ? ['Patient.deceased'] : []),
  ];
  return { patient, patientKey: key.key, cleared, died };
}
