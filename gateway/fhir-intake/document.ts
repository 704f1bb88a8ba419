import type { Bundle, CodeableConcept, Coding, Composition, CompositionSection, DocumentReference, Reference, Resource } from '@medplum/fhirtypes';
import { resourceId } from '../../mappings/ids';
import { readLabels, securityLabels, stricter, type Confidentiality } from '../../mappings/security/labels';
import type { PreparedBundle } from './prepare';

/**
 * FHIR documents (Bundle type document, Composition first), such as a hospital's PRSB eDischarge
 * summary. Three things are stored, so the discharge passport can use the document as it was
 * written and its parts one by one:
 *   - every entry as a resource of its own (Composition, Patient, Encounter, Conditions, …), with
 *     the Composition's sections intact and their entries pointing at the stored resources;
 *   - the document Bundle itself, whole, as a `Bundle` resource: each entry's fullUrl is
 *     `urn:uuid:<our id>` and every reference inside uses the same urn, so the stored document
 *     still resolves within itself (FHIR R4 document rules) and `urn:uuid:X` is `Type/X` outside;
 *   - a DocumentReference (subject, type, date, author, custodian, encounter) whose attachment is
 *     `Bundle/<id>`, which is how a patient's documents are found (`DocumentReference?patient=`).
 * Both carry the strictest confidentiality and every sensitivity of the entries, so the whole
 * document is never less protected than its most sensitive part.
 */

/** PRSB record headings (UK Core CodeSystem UKCore-RecordStandardHeadings), as UK Core's discharge example codes sections. */
export const RECORD_HEADINGS_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-RecordStandardHeadings';

/** What the discharge passport looks for in an eDischarge summary. */
export const DischargeSection = {
  DIAGNOSES: 'diagnoses',
  PROCEDURES: 'procedures',
  MEDICATIONS: 'medications',
  ALLERGIES: 'allergies',
  PLAN: 'plan',
  CLINICAL_SUMMARY: 'clinical-summary',
  ADMISSION: 'admission',
  DISCHARGE: 'discharge',
  INFORMATION_GIVEN: 'information-given',
  PERSON_COMPLETING: 'person-completing-record',
  OTHER: 'other',
} as const;
export type DischargeSection = (typeof DischargeSection)[keyof typeof DischargeSection];

/** PRSB heading code → what the passport calls it (headings not listed are OTHER, kept as sent). */
export const HEADING_SECTIONS: Readonly<Record<string, DischargeSection>> = {
  diagnoses: DischargeSection.DIAGNOSES,
  'problems-and-issues': DischargeSection.DIAGNOSES,
  procedures: DischargeSection.PROCEDURES,
  'medications-and-medical-devices': DischargeSection.MEDICATIONS,
  'active-medications': DischargeSection.MEDICATIONS,
  'discontinued-medications': DischargeSection.MEDICATIONS,
  'allergies-and-adverse-reaction': DischargeSection.ALLERGIES,
  'plan-and-requested-actions': DischargeSection.PLAN,
  'medical-follow-up': DischargeSection.PLAN,
  'clinical-summary': DischargeSection.CLINICAL_SUMMARY,
  'clinical-narrative': DischargeSection.CLINICAL_SUMMARY,
  'admission-details': DischargeSection.ADMISSION,
  'reason-for-admission': DischargeSection.ADMISSION,
  'discharge-details': DischargeSection.DISCHARGE,
  'information-and-advice-given': DischargeSection.INFORMATION_GIVEN,
  'information-given': DischargeSection.INFORMATION_GIVEN,
  'person-completing-record': DischargeSection.PERSON_COMPLETING,
};

export interface DocumentSection {
  readonly section: DischargeSection;
  readonly heading?: Coding;
  readonly title?: string;
  /** The section's entries (references to the stored resources). */
  readonly entries: readonly Reference[];
  readonly subsections: readonly DocumentSection[];
}

function headingOf(code: CodeableConcept | undefined): Coding | undefined {
  return code?.coding?.find((c) => c.system === RECORD_HEADINGS_SYSTEM);
}

function describeSection(section: CompositionSection): DocumentSection {
  const heading = headingOf(section.code);
  return {
    section: (heading?.code ? HEADING_SECTIONS[heading.code] : undefined) ?? DischargeSection.OTHER,
    ...(heading ? { heading } : {}),
    ...(section.title ? { title: section.title } : {}),
    entries: section.entry ?? [],
    subsections: (section.section ?? []).map(describeSection),
  };
}

/** A Composition's sections as the passport reads them (diagnoses, procedures, medications, plan…). */
export function documentSections(composition: Composition): DocumentSection[] {
  return (composition.section ?? []).map(describeSection);
}

/** The id the stored document Bundle and its DocumentReference share a key for. */
function documentKey(bundle: Bundle, prepared: PreparedBundle): string {
  const identifier = bundle.identifier;
  if (identifier?.system && identifier.value) return `document|${identifier.system}|${identifier.value}`;
  const composition = prepared.entries[0];
  return `document|${composition?.resourceType ?? ''}/${composition?.id ?? ''}`;
}

/** The stored Bundle and DocumentReference for a prepared document. */
export function documentResources(prepared: PreparedBundle, sourceUri: string): { bundle: Bundle & { id: string }; documentReference: DocumentReference & { id: string } } {
  const key = documentKey(prepared.bundle, prepared);
  const composition = prepared.resources[0] as Composition & { id: string };
  const confidentiality = prepared.resources.map((r) => readLabels(r.meta));
  const security = securityLabels(
    [...new Set(confidentiality.flatMap((l) => l.sensitivities))],
    confidentiality.reduce<Confidentiality>((level, l) => stricter(level, l.confidentiality), 'N'),
  );
  const asUrn = (resource: Resource): Resource => {
    const copy = structuredClone(resource);
    rewriteToUrns(copy);
    return copy;
  };
  const bundleId = resourceId('Bundle', sourceUri, key);
  const bundle: Bundle & { id: string } = {
    resourceType: 'Bundle',
    id: bundleId,
    meta: { source: sourceUri, security },
    ...(prepared.bundle.identifier ? { identifier: prepared.bundle.identifier } : {}),
    type: 'document',
    ...(prepared.bundle.timestamp ? { timestamp: prepared.bundle.timestamp } : {}),
    entry: prepared.resources.map((r) => ({ fullUrl: `urn:uuid:${r.id}`, resource: asUrn(r) })),
  };
  const documentReference: DocumentReference & { id: string } = {
    resourceType: 'DocumentReference',
    id: resourceId('DocumentReference', sourceUri, key),
    meta: { source: sourceUri, security },
    ...(prepared.bundle.identifier ? { masterIdentifier: prepared.bundle.identifier } : {}),
    status: 'current',
    docStatus: composition.status === 'preliminary' ? 'preliminary' : composition.status === 'amended' ? 'amended' : composition.status === 'entered-in-error' ? 'entered-in-error' : 'final',
    type: composition.type,
    ...(composition.category ? { category: composition.category } : {}),
    ...(composition.subject ? { subject: composition.subject as DocumentReference['subject'] } : {}),
    ...(composition.date ? { date: toInstant(composition.date) } : {}),
    ...(composition.author.length > 0 ? { author: composition.author } : {}),
    ...(composition.custodian ? { custodian: composition.custodian } : {}),
    ...(composition.title ? { description: composition.title } : {}),
    content: [{ attachment: { contentType: 'application/fhir+json', url: `Bundle/${bundleId}`, ...(composition.title ? { title: composition.title } : {}) } }],
    ...(composition.encounter ? { context: { encounter: [composition.encounter] } } : {}),
  };
  return { bundle, documentReference };
}

/** DocumentReference.date is an instant: a dateTime without seconds or zone is not one. */
function toInstant(dateTime: string): string | undefined {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(dateTime) ? dateTime : undefined;
}

/** `Type/<uuid>` references (ours) as `urn:uuid:<uuid>`, inside the stored document only. */
function rewriteToUrns(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(rewriteToUrns);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const obj = value as Record<string, unknown>;
  const reference = obj['reference'];
  if (typeof reference === 'string') {
    const match = /^[A-Z][A-Za-z]+\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(reference);
    if (match?.[1]) obj['reference'] = `urn:uuid:${match[1]}`;
  }
  for (const [key, child] of Object.entries(obj)) if (key !== 'contained') rewriteToUrns(child);
}
