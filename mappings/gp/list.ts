import type { CodeableConcept, Extension, List } from '@medplum/fhirtypes';
import { compact, mapReference, metaFor, subjectOf, type GpScope } from './context';
import { STU3_EXT, UKCORE_EXT } from './extensions';
import type { Stu3List } from './stu3';
import { r4CodeableConcept, r4Coding, SNOMED } from './terminology';

/**
 * The clinical areas of a GP Connect structured record, each a List whose code says which
 * (GP Connect "Returning data in lists"). A bundle speaks for the areas whose Lists it carries:
 * re-import replaces that practice's view of those areas only.
 */
export const ClinicalArea = {
  ALLERGIES: 'allergies',
  ENDED_ALLERGIES: 'ended-allergies',
  MEDICATIONS: 'medications',
  PROBLEMS: 'problems',
  IMMUNISATIONS: 'immunisations',
  CONSULTATIONS: 'consultations',
  UNCATEGORISED: 'uncategorised',
  INVESTIGATIONS: 'investigations',
  REFERRALS: 'referrals',
} as const;
export type ClinicalArea = (typeof ClinicalArea)[keyof typeof ClinicalArea];

/** SNOMED CT List.code of each area's list (GP Connect list table). */
export const AREA_LIST_CODES: Readonly<Record<string, ClinicalArea>> = {
  '886921000000105': ClinicalArea.ALLERGIES,
  '1103671000000101': ClinicalArea.ENDED_ALLERGIES,
  '933361000000108': ClinicalArea.MEDICATIONS,
  '717711000000103': ClinicalArea.PROBLEMS,
  '1102181000000102': ClinicalArea.IMMUNISATIONS,
  '1149501000000101': ClinicalArea.CONSULTATIONS,
  '826501000000100': ClinicalArea.UNCATEGORISED,
  '887191000000108': ClinicalArea.INVESTIGATIONS,
  '792931000000107': ClinicalArea.REFERRALS,
};

export function areaOfList(list: Stu3List): ClinicalArea | undefined {
  for (const c of list.code?.coding ?? []) if (c.system === SNOMED && c.code && AREA_LIST_CODES[c.code]) return AREA_LIST_CODES[c.code];
  return undefined;
}

/** GP Connect's "no known allergies" and friends: STU3 list-empty-reason and the special-values spelling some suppliers use. */
function emptyReason(concept: CodeableConcept | undefined): CodeableConcept | undefined {
  if (!concept) return undefined;
  return {
    ...concept,
    coding: concept.coding?.map((c) => (c.code === 'nil-known' && c.system === 'http://hl7.org/fhir/special-values' ? { ...c, system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'nilknown' } : r4Coding(c))),
  };
}

const LIST_STATUS = { current: 'current', retired: 'retired', 'entered-in-error': 'entered-in-error' } as const;
const LIST_MODE = { working: 'working', snapshot: 'snapshot', changes: 'changes' } as const;

/**
 * CareConnect-GPC-List-1 → List. The list warning code (confidential items, data in transit,
 * data awaiting filing: GP Connect's valueCode) becomes UK Core ListWarningCode (a CodeableConcept);
 * the clinical setting becomes its UK Core extension; emptyReason keeps its meaning (nilknown is
 * "no known allergies"; no-content-recorded comes from UK Core's code system). Entries keep their
 * order; `deleted` and entry dates are left to R4's rules (only for changes/working lists).
 */
export function mapList(scope: GpScope, l: Stu3List, at: string, id: string): List & { id: string } {
  const extension: Extension[] = [];
  (l.extension ?? []).forEach((e, i) => {
    if (e.url === STU3_EXT.LIST_WARNING_CODE) {
      const code = e.valueCode ?? e.valueCodeableConcept?.coding?.[0]?.code;
      if (code) extension.push({ url: UKCORE_EXT.LIST_WARNING_CODE, valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-ListWarningCode', code }] } });
    } else if (e.url === STU3_EXT.CLINICAL_SETTING && e.valueCodeableConcept) {
      extension.push({ url: UKCORE_EXT.CLINICAL_SETTING, valueCodeableConcept: r4CodeableConcept(e.valueCodeableConcept) });
    } else {
      scope.issues.information('informational', `${at}.extension[${String(i)}]`, `Extension ${e.url} is not mapped`);
    }
  });
  const mode = l.mode ? LIST_MODE[l.mode as keyof typeof LIST_MODE] : undefined;
  if (!mode) scope.issues.warning(l.mode ? 'code-invalid' : 'required', `${at}.mode`, 'mode missing or not in the STU3 value set; recorded as snapshot (GP Connect lists are snapshots)');
  const status = l.status ? LIST_STATUS[l.status as keyof typeof LIST_STATUS] : undefined;
  if (!status) scope.issues.warning(l.status ? 'code-invalid' : 'required', `${at}.status`, 'status missing or not in the STU3 value set; recorded as current');
  const entry = (l.entry ?? [])
    .map((e, i) => ({ e, item: mapReference(scope, e.item, `${at}.entry[${String(i)}].item`) }))
    .filter(({ item }) => item !== undefined)
    .map(({ e, item }) => compact({ flag: r4CodeableConcept(e.flag), item: item as NonNullable<typeof item> }));
  const empty = entry.length === 0 ? emptyReason(l.emptyReason) : undefined;
  if (entry.length > 0 && l.emptyReason) scope.issues.warning('invariant', `${at}.emptyReason`, 'A list with entries cannot have an emptyReason (lst-1); left out');
  return compact<List & { id: string }>({
    resourceType: 'List',
    id,
    meta: metaFor(scope, l, []),
    extension: extension.length ? extension : undefined,
    identifier: l.identifier,
    status: status ?? 'current',
    mode: mode ?? 'snapshot',
    title: l.title,
    code: r4CodeableConcept(l.code),
    subject: subjectOf(scope, l.subject, `${at}.subject`, false),
    encounter: mapReference(scope, l.encounter, `${at}.encounter`, ['Encounter']),
    date: l.date,
    source: mapReference(scope, l.source, `${at}.source`, ['Practitioner', 'PractitionerRole', 'Patient', 'Device']),
    orderedBy: r4CodeableConcept(l.orderedBy),
    note: l.note,
    entry: entry.length ? entry : undefined,
    emptyReason: empty,
  });
}
