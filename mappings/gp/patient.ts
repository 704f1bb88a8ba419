import type { Extension, Identifier, Organization, Patient, Reference } from '@medplum/fhirtypes';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, normaliseNhsNumber } from '../identity/nhs-number';
import { ODS_ORGANIZATION_SYSTEM } from '../identifiers';
import { compact, extensionOf, mapReference, mapReferences, metaFor, reportUnmappedExtensions, type GpScope } from './context';
import { STU3_EXT, UKCORE_EXT, UKCORE_PROFILE } from './extensions';
import type { Stu3Patient } from './stu3';
import { r4CodeableConcept, r4Coding } from './terminology';

/** The NHS number of a GP Connect Patient (normalised), if it has one. */
export function nhsNumberOf(patient: Stu3Patient): string | undefined {
  const value = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
  return value === undefined ? undefined : (normaliseNhsNumber(value) ?? value);
}

function mapIdentifier(scope: GpScope, identifier: Identifier, expression: string): Identifier {
  if (identifier.system !== NHS_NUMBER_SYSTEM) return identifier;
  const value = normaliseNhsNumber(identifier.value ?? '') ?? identifier.value;
  if (!isValidNhsNumber(value ?? '')) scope.issues.warning('value', `${expression}.value`, 'NHS number fails the modulus 11 check; kept, never used to link records');
  const verification = extensionOf(identifier.extension, STU3_EXT.NHS_NUMBER_VERIFICATION);
  const concept = verification?.valueCodeableConcept;
  const extension: Extension[] = concept ? [{ url: UKCORE_EXT.NHS_NUMBER_VERIFICATION, valueCodeableConcept: r4CodeableConcept(concept) }] : [];
  return { ...(extension.length ? { extension } : {}), system: NHS_NUMBER_SYSTEM, ...(value ? { value } : {}) };
}

function registrationDetails(scope: GpScope, ext: Extension, expression: string): Extension {
  const parts = (ext.extension ?? []).flatMap((part, i): Extension[] => {
    if (part.url === 'preferredBranchSurgery') {
      const ref = mapReference(scope, part.valueReference, `${expression}.extension[${String(i)}].valueReference`, ['Location']);
      return ref ? [{ url: part.url, valueReference: ref }] : [];
    }
    if (part.valueCodeableConcept) return [{ url: part.url, valueCodeableConcept: r4CodeableConcept(part.valueCodeableConcept) }];
    return [part];
  });
  return { url: ext.url, extension: parts };
}

/**
 * CareConnect-GPC-Patient-1 → UK Core Patient. The registered practice goes into
 * generalPractitioner with its ODS code as `identifier` beside the reference (the reference
 * contract in mappings/identifiers.ts), ahead of the usual GP.
 */
export function mapPatient(scope: GpScope, p: Stu3Patient, at: string, practice: Reference<Organization>): Patient & { id: string } {
  const extension: Extension[] = [];
  const ethnic = extensionOf(p.extension, STU3_EXT.ETHNIC_CATEGORY);
  if (ethnic?.valueCodeableConcept) extension.push({ url: UKCORE_EXT.ETHNIC_CATEGORY, valueCodeableConcept: r4CodeableConcept(ethnic.valueCodeableConcept) });
  const registration = extensionOf(p.extension, STU3_EXT.REGISTRATION_DETAILS);
  if (registration) extension.push(registrationDetails(scope, registration, `${at}.extension[${String(p.extension?.indexOf(registration) ?? 0)}]`));
  reportUnmappedExtensions(scope, p.extension, [STU3_EXT.ETHNIC_CATEGORY, STU3_EXT.REGISTRATION_DETAILS], at);

  const gps = mapReferences(scope, p.generalPractitioner, `${at}.generalPractitioner`, ['Practitioner', 'Organization', 'PractitionerRole']) ?? [];
  const generalPractitioner = [practice, ...gps.filter((g) => g.reference !== practice.reference)];
  const managing = mapReference(scope, p.managingOrganization, `${at}.managingOrganization`, ['Organization']);
  return compact<Patient & { id: string }>({
    resourceType: 'Patient',
    id: scope.patient.id,
    meta: metaFor(scope, p, [], UKCORE_PROFILE.PATIENT),
    extension: extension.length ? extension : undefined,
    identifier: p.identifier?.map((i, n) => mapIdentifier(scope, i, `${at}.identifier[${String(n)}]`)),
    active: p.active,
    name: p.name,
    telecom: p.telecom,
    gender: p.gender as Patient['gender'],
    birthDate: p.birthDate,
    deceasedBoolean: p.deceasedBoolean,
    deceasedDateTime: p.deceasedDateTime,
    address: p.address,
    maritalStatus: r4CodeableConcept(p.maritalStatus),
    multipleBirthBoolean: p.multipleBirthBoolean,
    multipleBirthInteger: p.multipleBirthInteger,
    contact: p.contact?.map((c, i) =>
      compact({
        relationship: c.relationship?.map((r) => r4CodeableConcept(r)),
        name: c.name,
        telecom: c.telecom,
        address: c.address,
        gender: c.gender as Patient['gender'],
        organization: mapReference(scope, c.organization, `${at}.contact[${String(i)}].organization`, ['Organization']),
        period: c.period,
      }),
    ),
    communication: p.communication?.map((c) => compact({ language: { ...c.language, coding: c.language.coding?.map(r4Coding) }, preferred: c.preferred })),
    generalPractitioner,
    managingOrganization: managing ? { ...managing, identifier: practice.identifier } : undefined,
  });
}

/** The practice reference every GP Patient carries (reference + ODS identifier). */
export function practiceReference(organizationId: string, ods: string, name: string | undefined): Reference<Organization> {
  return { reference: `Organization/${organizationId}`, identifier: { system: ODS_ORGANIZATION_SYSTEM, value: ods }, ...(name ? { display: name } : {}) };
}
