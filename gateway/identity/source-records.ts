import type { Patient } from '@medplum/fhirtypes';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, NHS_NUMBER_VERIFICATION_EXTENSION, NhsNumberVerification, normaliseNhsNumber } from '../../mappings/identity/nhs-number';
import type { SourceRecord } from './rules';

/** Where a resource came from: meta.source as the mappings set it. */
export function sourceOf(patient: Patient): string {
  return patient.meta?.source ?? 'unknown';
}

export function nhsIdentifier(patient: Patient): { value: string; valid: boolean; verifiedBySource: boolean } | undefined {
  const identifier = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM && i.value);
  if (!identifier?.value) return undefined;
  const value = normaliseNhsNumber(identifier.value) ?? identifier.value;
  const status = identifier.extension
    ?.find((e) => e.url === NHS_NUMBER_VERIFICATION_EXTENSION)
    ?.valueCodeableConcept?.coding?.find((c) => c.code)?.code;
  return { value, valid: isValidNhsNumber(value), verifiedBySource: status === NhsNumberVerification.VERIFIED };
}

/** The reference (`Patient/id`) of the record a source merged this one into (Patient.link replaced-by), if it did. */
export function replacedBy(patient: Patient | undefined): string | undefined {
  return patient?.link?.find((l) => l.type === 'replaced-by')?.other.reference;
}

/** The linking rules' view of a source Patient. `traced` holds the numbers CareBridge verified against PDS. */
export function toSourceRecord(patient: Patient, traced: ReadonlySet<string>): SourceRecord {
  const nhs = nhsIdentifier(patient);
  const id = patient.id ?? '';
  const survivor = replacedBy(patient);
  return {
    patientId: id,
    source: sourceOf(patient),
    nhsNumber: nhs?.value,
    nhsNumberValid: nhs?.valid ?? false,
    verified: nhs !== undefined && nhs.valid && (nhs.verifiedBySource || traced.has(`${id}|${nhs.value}`)),
    birthDate: patient.birthDate,
    mergedInto: survivor?.startsWith('Patient/') ? survivor.slice('Patient/'.length) : undefined,
  };
}
