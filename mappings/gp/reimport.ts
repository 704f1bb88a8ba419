import type { AllergyIntolerance, Condition, Coding, Extension, MedicationRequest, MedicationStatement, Resource, ServiceRequest } from '@medplum/fhirtypes';
import type { ClinicalArea } from './list';
import { ALLERGY_CLINICAL_SYSTEM, CONDITION_CLINICAL_SYSTEM, statusConcept } from './terminology';

/**
 * Re-import semantics: a newer bundle from the same practice replaces that practice's view of the
 * areas it carries. An item the previous import of such an area held and the new bundle no longer
 * holds anywhere is ended, not deleted and not left as it was: it keeps its content and history,
 * gains the tag below and the date it was last seen, and where its status asserts something is
 * current, that status stops asserting it. Pure.
 */
export const SOURCE_STATE_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/source-record-state';
export const NO_LONGER_IN_SOURCE: Coding = { system: SOURCE_STATE_SYSTEM, code: 'no-longer-in-source', display: 'No longer in the source system\'s record' };
/** valueDateTime: the as-of time of the first bundle that no longer held the item. */
export const ABSENT_SINCE_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/absent-from-source-since';

export type AreaItems = Readonly<Partial<Record<ClinicalArea, readonly string[]>>>;

/**
 * The items to end: for each area the new bundle speaks for (and whose list does not warn that items
 * were withheld), what the previous import held there that the new bundle holds nowhere.
 * Absence from an area the bundle does not carry proves nothing (the request did not ask for it).
 */
export function itemsToEnd(previous: AreaItems, current: AreaItems, presentRefs: ReadonlySet<string>, incompleteAreas: readonly ClinicalArea[]): { end: string[]; withheld: string[] } {
  const end = new Set<string>();
  const withheld = new Set<string>();
  for (const [area, items] of Object.entries(previous) as [ClinicalArea, readonly string[]][]) {
    if (!(area in current)) continue;
    for (const ref of items) {
      if (presentRefs.has(ref)) continue;
      (incompleteAreas.includes(area) ? withheld : end).add(ref);
    }
  }
  for (const ref of end) withheld.delete(ref);
  return { end: [...end].sort(), withheld: [...withheld].sort() };
}

export function isEnded(resource: Resource): boolean {
  return (resource.meta?.tag ?? []).some((t) => t.system === SOURCE_STATE_SYSTEM && t.code === NO_LONGER_IN_SOURCE.code);
}

/**
 * The ended version of a stored item, or undefined when it is already marked (the first absence
 * date stays). Per type, the honest FHIR way to stop asserting it:
 * - AllergyIntolerance: clinicalStatus inactive (we do not know it resolved);
 * - Condition: clinicalStatus inactive, no abatement (we do not know when or whether it abated);
 * - MedicationStatement, MedicationRequest, ServiceRequest: status unknown (we do not know it was
 *   stopped, completed or entered in error; only that the practice no longer lists it);
 * - others (Immunization, Observation, DiagnosticReport, Encounter, DocumentReference, List…):
 *   their status describes an event in the past, which stays true; only the tag and date are added.
 * Items already entered-in-error keep their status.
 */
export function endedVersion(resource: Resource, asOf: string): Resource | undefined {
  if (isEnded(resource)) return undefined;
  const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta ?? {};
  const extension: Extension[] = [...((resource as { extension?: Extension[] }).extension ?? []).filter((e) => e.url !== ABSENT_SINCE_EXTENSION), { url: ABSENT_SINCE_EXTENSION, valueDateTime: asOf }];
  const marked = { ...resource, meta: { ...meta, tag: [...(meta.tag ?? []), { ...NO_LONGER_IN_SOURCE }] }, extension } as Resource;
  switch (marked.resourceType) {
    case 'AllergyIntolerance':
      return endAllergy(marked);
    case 'Condition':
      return endCondition(marked);
    case 'MedicationStatement':
      return marked.status === 'entered-in-error' ? marked : ({ ...marked, status: 'unknown' } satisfies MedicationStatement);
    case 'MedicationRequest':
      return marked.status === 'entered-in-error' ? marked : ({ ...marked, status: 'unknown' } satisfies MedicationRequest);
    case 'ServiceRequest':
      return marked.status === 'entered-in-error' ? marked : ({ ...marked, status: 'unknown' } satisfies ServiceRequest);
    default:
      return marked;
  }
}

function endAllergy(a: AllergyIntolerance): AllergyIntolerance {
  if (a.verificationStatus?.coding?.some((c) => c.code === 'entered-in-error')) return a;
  const current = a.clinicalStatus?.coding?.[0]?.code;
  return current === 'resolved' || current === 'inactive' ? a : { ...a, clinicalStatus: statusConcept(ALLERGY_CLINICAL_SYSTEM, 'inactive') };
}

function endCondition(c: Condition): Condition {
  if (c.verificationStatus?.coding?.some((x) => x.code === 'entered-in-error')) return c;
  const current = c.clinicalStatus?.coding?.[0]?.code;
  return current === 'resolved' || current === 'inactive' || current === 'remission' ? c : { ...c, clinicalStatus: statusConcept(CONDITION_CLINICAL_SYSTEM, 'inactive') };
}
