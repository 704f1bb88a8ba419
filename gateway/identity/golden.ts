import type { Extension, Patient } from '@medplum/fhirtypes';
import { resourceId } from '../../mappings/ids';
import { isPersonLevelRecord, PERSON_RECORD_TAG } from '../../mappings/identifiers';
import {
  NHS_NUMBER_SYSTEM,
  NHS_NUMBER_VERIFICATION_EXTENSION,
  NHS_NUMBER_VERIFICATION_SYSTEM,
  NhsNumberVerification,
  VERIFICATION_DISPLAY,
} from '../../mappings/identity/nhs-number';
import type { Person } from './rules';

/**
 * The person-level ("golden") Patient: links every source record of one person (Patient.link
 * seealso, as HAPI's MDM does) and carries demographics chosen per field by a stated rule:
 *
 *   for each field, the most recently updated source record whose NHS number is verified and that
 *   has the field wins; if no verified record has it, the most recently updated record that has it.
 *
 * Each chosen field names its source record in an extension, so a reader can see where it came from.
 */
export const GOLDEN_SOURCE = 'carebridge-person';
export const GOLDEN_TAG = PERSON_RECORD_TAG;
export const FIELD_SOURCE_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/field-source';

export const DEMOGRAPHIC_FIELDS = ['name', 'birthDate', 'gender', 'address', 'telecom', 'deceasedBoolean', 'deceasedDateTime', 'generalPractitioner', 'communication', 'maritalStatus'] as const;
type DemographicField = (typeof DEMOGRAPHIC_FIELDS)[number];

export interface MemberRecord {
  readonly patient: Patient;
  readonly verified: boolean;
}

export function goldenId(personKey: string): string {
  return resourceId('Patient', GOLDEN_SOURCE, personKey);
}

export const isGolden: (patient: Patient) => boolean = isPersonLevelRecord;

function hasValue(value: unknown): boolean {
  return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
}

export function buildGoldenPatient(person: Person, members: readonly MemberRecord[]): Patient {
  const ranked = [...members].sort((x, y) => {
    if (x.verified !== y.verified) return x.verified ? -1 : 1;
    const tx = x.patient.meta?.lastUpdated ?? '';
    const ty = y.patient.meta?.lastUpdated ?? '';
    if (tx !== ty) return tx > ty ? -1 : 1;
    return (x.patient.id ?? '') < (y.patient.id ?? '') ? -1 : 1;
  });
  const golden: Patient = {
    resourceType: 'Patient',
    id: goldenId(person.key),
    meta: { tag: [{ ...GOLDEN_TAG }], source: GOLDEN_SOURCE },
    active: true,
  };
  const provenance: Extension[] = [];
  const record = golden as unknown as Record<DemographicField, unknown>;
  for (const field of DEMOGRAPHIC_FIELDS) {
    // deceased[x] is one choice: take it from the first record that has either form.
    if (field === 'deceasedDateTime' && hasValue(record.deceasedBoolean)) continue;
    const winner = ranked.find((m) => hasValue((m.patient as unknown as Record<string, unknown>)[field]));
    if (!winner) continue;
    record[field] = (winner.patient as unknown as Record<string, unknown>)[field];
    provenance.push({ url: FIELD_SOURCE_EXTENSION, extension: [{ url: 'field', valueString: field }, { url: 'source', valueReference: { reference: `Patient/${winner.patient.id ?? ''}` } }] });
  }
  const nhsNumber = person.key.startsWith('nhs:') ? person.key.slice(4).split('|')[0] : undefined;
  if (nhsNumber) {
    const status = members.some((m) => m.verified) ? NhsNumberVerification.VERIFIED : NhsNumberVerification.NOT_TRACED;
    golden.identifier = [
      {
        extension: [{ url: NHS_NUMBER_VERIFICATION_EXTENSION, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code: status, display: VERIFICATION_DISPLAY[status] }] } }],
        system: NHS_NUMBER_SYSTEM,
        value: nhsNumber,
      },
    ];
  }
  golden.link = person.members.map((id) => ({ other: { reference: `Patient/${id}` }, type: 'seealso' as const }));
  if (provenance.length > 0) golden.extension = provenance;
  return golden;
}

/** A person-level record whose person no longer exists: kept (history), marked inactive, linking nothing. */
export function retiredGolden(previous: Patient): Patient {
  const { link: _link, extension: _extension, identifier: _identifier, ...rest } = previous;
  return { ...rest, active: false, meta: { tag: [{ ...GOLDEN_TAG }], source: GOLDEN_SOURCE } };
}
