import type { CodeableConcept, List, Provenance, Reference, Resource } from '@medplum/fhirtypes';
import { ODS_ORGANIZATION_SYSTEM, sourceWorkerSystem } from '../identifiers';
import { isValidNhsNumber, normaliseNhsNumber } from '../identity/nhs-number';
import { mapAllergyIntolerance } from './allergy-intolerance';
import { areaItems, labelConsultationLists, refOf } from './areas';
import { mapCondition } from './condition';
import { gpSourceUri, idFor, referenceKey, type GpScope, type IndexedTarget } from './context';
import { mapDiagnosticReport } from './diagnostic-report';
import { mapDocumentReference } from './document-reference';
import { mapEncounter } from './encounter';
import { reportUnmappedElements } from './elements';
import { GPC_BUNDLE_PROFILE, STU3_EXT } from './extensions';
import { mapImmunization } from './immunization';
import { GpIssueList, type GpIssue } from './issues';
import { areaOfList, mapList, type ClinicalArea } from './list';
import { mapLocation } from './location';
import { mapMedication } from './medication';
import { mapMedicationRequest } from './medication-request';
import { mapMedicationStatement } from './medication-statement';
import { mapObservation } from './observation';
import { mapOrganization } from './organization';
import { mapPatient, nhsNumberOf, practiceReference } from './patient';
import { mapPractitioner } from './practitioner';
import { mapPractitionerRole } from './practitioner-role';
import { mapProcedureRequest } from './procedure-request';
import { bundleProvenance } from './provenance';
import { mapReferralRequest } from './referral-request';
import { mapSpecimen } from './specimen';
import type * as S from './stu3';

/** STU3 resource type → the R4 type it becomes. Anything else in a bundle is reported and skipped. */
export const R4_TYPE: Readonly<Record<string, Resource['resourceType']>> = {
  Patient: 'Patient',
  Organization: 'Organization',
  Practitioner: 'Practitioner',
  PractitionerRole: 'PractitionerRole',
  Location: 'Location',
  AllergyIntolerance: 'AllergyIntolerance',
  Medication: 'Medication',
  MedicationStatement: 'MedicationStatement',
  MedicationRequest: 'MedicationRequest',
  Condition: 'Condition',
  Immunization: 'Immunization',
  Observation: 'Observation',
  DiagnosticReport: 'DiagnosticReport',
  Specimen: 'Specimen',
  Encounter: 'Encounter',
  ReferralRequest: 'ServiceRequest',
  ProcedureRequest: 'ServiceRequest',
  DocumentReference: 'DocumentReference',
  List: 'List',
};

const SDS_USER_ID = 'https://fhir.nhs.uk/Id/sds-user-id';
const SDS_ROLE_PROFILE_ID = 'https://fhir.nhs.uk/Id/sds-role-profile-id';
const ODS_SITE_CODE = 'https://fhir.nhs.uk/Id/ods-site-code';

export interface GpMappingContext {
  /** When CareBridge received the bundle (ISO instant): Provenance.recorded. Nothing here is read from a clock. */
  readonly receivedAt: string;
  /** A key for this bundle (the gateway passes the content hash): the Provenance id. */
  readonly bundleKey: string;
}

export interface GpMappingResult {
  /** False when any issue is an error: nothing may be written. */
  readonly ok: boolean;
  readonly resources: readonly (Resource & { id: string })[];
  readonly provenance?: Provenance & { id: string };
  readonly issues: readonly GpIssue[];
  readonly source?: string;
  readonly ods?: string;
  readonly nhsNumber?: string;
  readonly patientId?: string;
  /** The time the record stands at: the latest List.date, else Bundle.meta.lastUpdated. */
  readonly asOf?: string;
  /** For each clinical area the bundle speaks for, the R4 `Type/id` of its items (list entries and what hangs off them). */
  readonly areas: Readonly<Partial<Record<ClinicalArea, readonly string[]>>>;
  /** Areas whose list warns that items were left out (confidential items, data in transit): absence there proves nothing. */
  readonly incompleteAreas: readonly ClinicalArea[];
}

interface Entry {
  readonly resource: S.Stu3Resource;
  readonly path: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function identifierKey(r: S.Stu3Resource, system?: string): string | undefined {
  const id = r.identifier?.find((i) => i.value && i.system && (system === undefined || i.system === system));
  return id ? `identifier|${id.system ?? ''}|${id.value ?? ''}` : undefined;
}

/** The key a resource's id is derived from: its persistent identifier where GP Connect gives one (logical ids may change between requests). */
function keyOf(r: S.Stu3Resource, nhsNumber: string): string | undefined {
  switch (r.resourceType) {
    case 'Patient':
      return `nhs|${nhsNumber}`;
    case 'Organization':
      return identifierKey(r, ODS_ORGANIZATION_SYSTEM);
    case 'Practitioner':
      return identifierKey(r, SDS_USER_ID);
    case 'PractitionerRole':
      return identifierKey(r, SDS_ROLE_PROFILE_ID);
    case 'Location':
      return identifierKey(r, ODS_SITE_CODE);
    case 'Medication': {
      const coding = (r as S.Stu3Medication).code?.coding?.find((c) => c.system && c.code);
      return coding ? `code|${coding.system ?? ''}|${coding.code ?? ''}` : undefined;
    }
    case 'List': {
      const area = areaOfList(r);
      return area ? `area|${area}|${(r as S.Stu3List).title ?? ''}` : identifierKey(r);
    }
    default: {
      // Clinical items: the supplier's record identifier, scoped to the patient as well, so a
      // supplier that reused an identifier across patients could never merge two people's data.
      const key = identifierKey(r);
      return key ? `${nhsNumber}|${key}` : undefined;
    }
  }
}

/** The identifier references to this resource carry (reference contract, mappings/identifiers.ts). */
function contractIdentifier(r: S.Stu3Resource, source: string): { identifier?: { system: string; value: string } } {
  if (r.resourceType === 'Organization') {
    const ods = r.identifier?.find((i) => i.system === ODS_ORGANIZATION_SYSTEM)?.value;
    return ods ? { identifier: { system: ODS_ORGANIZATION_SYSTEM, value: ods } } : {};
  }
  if (r.resourceType === 'Practitioner') {
    const worker = r.identifier?.find((i) => i.system === SDS_USER_ID)?.value ?? r.id;
    return worker ? { identifier: { system: sourceWorkerSystem(source), value: worker } } : {};
  }
  return {};
}

/** STU3 codes sent as R4 CodeableConcepts are the surest sign of an R4 resource in an STU3 bundle. */
const CODE_ELEMENTS: Readonly<Record<string, readonly string[]>> = {
  AllergyIntolerance: ['clinicalStatus', 'verificationStatus'],
  Condition: ['clinicalStatus', 'verificationStatus'],
};

function shapeErrors(issues: GpIssueList, e: Entry): void {
  for (const element of CODE_ELEMENTS[e.resource.resourceType] ?? []) {
    const value = (e.resource as unknown as Record<string, unknown>)[element];
    if (value !== undefined && typeof value !== 'string') issues.error('structure', `${e.path}.${element}`, `${element} must be an STU3 code (a string); this looks like an R4 CodeableConcept`);
  }
}

/** Where the record stands: the latest List.date, else the bundle's meta.lastUpdated. */
function asOfOf(bundle: S.Stu3Bundle, entries: readonly Entry[]): string | undefined {
  const dates = entries
    .filter((e) => e.resource.resourceType === 'List')
    .map((e) => (e.resource as S.Stu3List).date)
    .filter((d): d is string => typeof d === 'string' && !Number.isNaN(Date.parse(d)));
  if (dates.length) return dates.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
  const updated = bundle.meta?.lastUpdated;
  return updated && !Number.isNaN(Date.parse(updated)) ? updated : undefined;
}

/**
 * A GP Connect structured record (GPConnect-StructuredRecord-Bundle-1, FHIR STU3) → FHIR R4 (UK
 * Core where a profile applies). Pure. Refuses (ok: false, issues with expressions into the
 * bundle) what is not a GP Connect bundle, has no Patient or more than one, no practice, dangling
 * references, duplicate ids, or STU3 resources that break their own rules.
 */
export function mapGpBundle(input: unknown, context: GpMappingContext): GpMappingResult {
  const issues = new GpIssueList();
  const refuse = (): GpMappingResult => ({ ok: false, resources: [], issues: issues.items, areas: {}, incompleteAreas: [] });
  if (!isObject(input) || input['resourceType'] !== 'Bundle') {
    issues.error('structure', 'Bundle', `Expected a FHIR STU3 Bundle, got ${isObject(input) ? `a ${typeof input['resourceType'] === 'string' ? input['resourceType'] : 'resource without resourceType'}` : 'something that is not a JSON object'}`);
    return refuse();
  }
  const bundle = input as unknown as S.Stu3Bundle;
  if (!bundle.meta?.profile?.includes(GPC_BUNDLE_PROFILE)) issues.error('value', 'Bundle.meta.profile', `meta.profile must include ${GPC_BUNDLE_PROFILE}`);
  if (bundle.type !== 'collection') issues.error('value', 'Bundle.type', 'A GP Connect structured record is a collection Bundle');
  if (!Array.isArray(bundle.entry)) {
    issues.error('required', 'Bundle.entry', 'The bundle has no entries');
    return refuse();
  }
  const entries: Entry[] = [];
  bundle.entry.forEach((e, i) => {
    const path = `Bundle.entry[${String(i)}].resource`;
    if (!isObject(e.resource) || typeof e.resource['resourceType'] !== 'string') {
      issues.error('structure', path, 'Entry without a resource');
      return;
    }
    if (!R4_TYPE[e.resource.resourceType]) {
      issues.warning('not-supported', path, `${e.resource.resourceType} is not part of the structured record mapping; skipped`);
      return;
    }
    if (typeof e.resource.id !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(e.resource.id)) {
      issues.error('required', `${path}.id`, 'Every resource needs a logical id (references point at it)');
      return;
    }
    entries.push({ resource: e.resource, path });
  });
  const patients = entries.filter((e) => e.resource.resourceType === 'Patient');
  if (patients.length !== 1) {
    issues.error('required', 'Bundle.entry', patients.length === 0 ? 'The bundle holds no Patient' : `The bundle holds ${String(patients.length)} Patients; a structured record is one patient's`);
    return refuse();
  }
  const patientEntry = patients[0] as Entry;
  const stu3Patient = patientEntry.resource as S.Stu3Patient;
  const nhsNumber = nhsNumberOf(stu3Patient);
  if (!nhsNumber) {
    issues.error('required', `${patientEntry.path}.identifier`, 'The Patient has no NHS number');
    return refuse();
  }
  if (!isValidNhsNumber(normaliseNhsNumber(nhsNumber) ?? '')) issues.error('value', `${patientEntry.path}.identifier`, 'The NHS number fails the modulus 11 check');
  const seen = new Map<string, string>();
  for (const e of entries) {
    const key = `${e.resource.resourceType}/${e.resource.id ?? ''}`;
    const first = seen.get(key);
    if (first) issues.error('duplicate', `${e.path}.id`, `Duplicate ${e.resource.resourceType} id (first at ${first})`);
    else seen.set(key, e.path);
  }
  const practiceKey = stu3Patient.managingOrganization?.reference ? referenceKey(stu3Patient.managingOrganization.reference) : undefined;
  const practiceEntry = entries.find((e) => `${e.resource.resourceType}/${e.resource.id ?? ''}` === practiceKey);
  const ods = practiceEntry?.resource.identifier?.find((i) => i.system === ODS_ORGANIZATION_SYSTEM)?.value;
  if (!practiceEntry) issues.error('required', `${patientEntry.path}.managingOrganization`, 'The Patient must name its registered practice (an Organization in the bundle)');
  else if (!ods) issues.error('required', `${practiceEntry.path}.identifier`, 'The registered practice has no ODS code');
  if (!ods || issues.hasErrors()) return refuse();
  for (const e of entries) shapeErrors(issues, e);

  const source = gpSourceUri(ods);
  // Pass 1: every resource's R4 type and deterministic id, so references can be rewritten.
  const index = new Map<string, IndexedTarget>();
  const usedKeys = new Map<string, string>();
  const aliases = new Set<string>();
  for (const e of entries) {
    const type = R4_TYPE[e.resource.resourceType] as Resource['resourceType'];
    let key = keyOf(e.resource, nhsNumber);
    if (!key) {
      if (e.resource.resourceType !== 'List') issues.information('informational', `${e.path}.identifier`, 'No persistent identifier: the id is derived from the logical id, which GP systems may change between requests');
      key = `id|${e.resource.resourceType}|${e.resource.id ?? ''}`;
    }
    const full = `${type}|${key}`;
    const taken = usedKeys.get(full);
    if (taken && e.resource.resourceType === 'Medication') {
      aliases.add(e.path);
    } else if (taken) {
      issues.warning('duplicate', `${e.path}.identifier`, `Same identifier as ${taken}; the id is derived from the logical id instead`);
      key = `id|${e.resource.resourceType}|${e.resource.id ?? ''}`;
    }
    usedKeys.set(`${type}|${key}`, usedKeys.get(`${type}|${key}`) ?? e.path);
    index.set(`${e.resource.resourceType}/${e.resource.id ?? ''}`, { resourceType: type, id: idFor(source, type, key), path: e.path, ...contractIdentifier(e.resource, source) });
  }
  const patientTarget = index.get(`Patient/${stu3Patient.id ?? ''}`) as IndexedTarget;
  const scope: GpScope = { source, ods, issues, index, patient: patientTarget };
  const practiceTarget = index.get(practiceKey ?? '') as IndexedTarget;
  const practice = practiceReference(practiceTarget.id, ods, (practiceEntry.resource as S.Stu3Organization).name);

  // Medications' codes label the statements and requests that use them (an antiretroviral says HIV).
  const medicationConcepts = new Map<string, CodeableConcept | undefined>();
  for (const e of entries) if (e.resource.resourceType === 'Medication') medicationConcepts.set(`Medication/${e.resource.id ?? ''}`, (e.resource as S.Stu3Medication).code);
  const medicationOf = (ref: Reference | undefined): (CodeableConcept | undefined)[] => [medicationConcepts.get(referenceKey(ref?.reference ?? '') ?? '')];

  // Pass 2: map.
  const resources: (Resource & { id: string })[] = [];
  for (const e of entries) {
    if (aliases.has(e.path)) continue;
    const target = index.get(`${e.resource.resourceType}/${e.resource.id ?? ''}`) as IndexedTarget;
    const r = e.resource;
    const at = e.path;
    reportUnmappedElements(issues, r, at);
    switch (r.resourceType) {
      case 'Patient':
        resources.push(mapPatient(scope, r, at, practice));
        break;
      case 'Organization':
        resources.push(mapOrganization(scope, r, at, target.id));
        break;
      case 'Practitioner':
        resources.push(mapPractitioner(scope, r, at, target.id));
        break;
      case 'PractitionerRole':
        resources.push(mapPractitionerRole(scope, r, at, target.id));
        break;
      case 'Location':
        resources.push(mapLocation(scope, r, at, target.id));
        break;
      case 'AllergyIntolerance':
        resources.push(mapAllergyIntolerance(scope, r, at, target.id));
        break;
      case 'Medication':
        resources.push(mapMedication(scope, r, at, target.id));
        break;
      case 'MedicationStatement':
        resources.push(mapMedicationStatement(scope, r, at, target.id, medicationOf((r as S.Stu3MedicationStatement).medicationReference)));
        break;
      case 'MedicationRequest':
        resources.push(mapMedicationRequest(scope, r, at, target.id, medicationOf((r as S.Stu3MedicationRequest).medicationReference)));
        break;
      case 'Condition':
        resources.push(mapCondition(scope, r, at, target.id));
        break;
      case 'Immunization':
        resources.push(mapImmunization(scope, r, at, target.id));
        break;
      case 'Observation':
        resources.push(mapObservation(scope, r, at, target.id));
        break;
      case 'DiagnosticReport':
        resources.push(mapDiagnosticReport(scope, r, at, target.id));
        break;
      case 'Specimen':
        resources.push(mapSpecimen(scope, r, at, target.id));
        break;
      case 'Encounter':
        resources.push(mapEncounter(scope, r, at, target.id));
        break;
      case 'ReferralRequest':
        resources.push(mapReferralRequest(scope, r, at, target.id));
        break;
      case 'ProcedureRequest':
        resources.push(mapProcedureRequest(scope, r, at, target.id));
        break;
      case 'DocumentReference':
        resources.push(mapDocumentReference(scope, r, at, target.id));
        break;
      case 'List':
        resources.push(mapList(scope, r, at, target.id));
        break;
      default:
        break;
    }
  }
  if (issues.hasErrors()) return { ...refuse(), source, ods, nhsNumber };
  labelConsultationLists(resources);

  // What each area's lists speak for, and which lists warn that items were withheld.
  const byRef = new Map(resources.map((r) => [refOf(r), r]));
  const areaEntries = new Map<ClinicalArea, string[]>();
  const incomplete = new Set<ClinicalArea>();
  for (const e of entries) {
    if (e.resource.resourceType !== 'List') continue;
    const list = e.resource as S.Stu3List;
    const area = areaOfList(list);
    if (!area) continue;
    const mapped = byRef.get(`List/${(index.get(`List/${list.id ?? ''}`) as IndexedTarget).id}`) as (List & { id: string }) | undefined;
    areaEntries.set(area, [...(areaEntries.get(area) ?? []), ...(mapped?.entry ?? []).map((x) => x.item.reference ?? '').filter(Boolean)]);
    const warning = list.extension?.find((x) => x.url === STU3_EXT.LIST_WARNING_CODE);
    if (warning && (warning.valueCode ?? warning.valueCodeableConcept?.coding?.[0]?.code) !== 'data-awaiting-filing') incomplete.add(area);
  }
  const areas: Partial<Record<ClinicalArea, string[]>> = {};
  for (const [area, items] of areaEntries) areas[area] = areaItems(items, byRef, resources);
  const asOf = asOfOf(bundle, entries);
  if (!asOf) issues.information('informational', 'Bundle', 'Neither a List.date nor meta.lastUpdated says when this record was taken; the time of receipt stands in for it');
  const provenance = bundleProvenance({ source, nhsNumber, asOf, receivedAt: context.receivedAt, practice, bundleKey: context.bundleKey, targets: resources });
  return {
    ok: true,
    resources,
    provenance,
    issues: issues.items,
    source,
    ods,
    nhsNumber,
    patientId: patientTarget.id,
    ...(asOf ? { asOf } : {}),
    areas,
    incompleteAreas: [...incomplete].sort(),
  };
}

