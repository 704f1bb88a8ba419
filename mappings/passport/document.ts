import type { Bundle, BundleEntry, Composition, CompositionSection, Encounter, Extension, Organization, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { resourceId } from '../ids';
import { readLabels, securityLabels, stricter, type Confidentiality } from '../security/labels';
import {
  AUDIENCE_EXTENSION,
  PASSPORT_DOCUMENT_SYSTEM,
  PASSPORT_ID_SYSTEM,
  PASSPORT_SOURCE,
  PASSPORT_TITLE,
  PASSPORT_TYPE,
  RED_BAG_ID_SYSTEM,
  SECTION_SYSTEM,
  SECTION_WITHHELD_EXTENSION,
  VERSION_NUMBER_EXTENSION,
} from './codes';
import { refOf, type RecordIndex } from './record-text';
import type { PassportKind } from './view';

/**
 * A passport as a FHIR document (R4 documents: Bundle of type document, Composition first, every
 * resource the Composition refers to in the Bundle). Each section keeps its rows as structured
 * extensions (label, value, source, and the entries the row was read from), from which its
 * narrative is generated; a reader's copy drops the rows whose entries it may not see. Pure.
 */

export const ROW_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/passport-row';
/** On the Composition: the red bag (the journey from care home to hospital and back) the document belongs to. */
export const RED_BAG_EXTENSION = 'https://carebridge.nhs.uk/fhir/StructureDefinition/red-bag';
const LIST_EMPTY_REASON = 'http://terminology.hl7.org/CodeSystem/list-empty-reason';

export interface RowBuild {
  readonly label: string;
  readonly value: string;
  readonly source?: string;
  /** References ('Type/id') of the entries this row says something from. */
  readonly entries: readonly string[];
}

export interface SectionBuild {
  readonly code: string;
  readonly title: string;
  readonly emptyText: string;
  readonly entries: readonly Resource[];
  readonly rows: readonly RowBuild[];
}

export interface DocumentInput {
  readonly kind: PassportKind;
  readonly passportId: string;
  readonly version: number;
  readonly redBagId: string;
  /** When this version is issued (ISO instant): the Composition's date and the Bundle's timestamp. */
  readonly issuedAt: string;
  /** The organisation the document is issued for (the care home, or the hospital for a discharge), with CareBridge as custodian. */
  readonly issuedBy: Reference<Organization>;
  readonly subject: Patient;
  readonly encounter?: Encounter;
  readonly sections: readonly SectionBuild[];
  /** The FHIR base the entries' fullUrls are under (`{publicBaseUrl}/fhir`). */
  readonly fhirBase: string;
  /** The document this one follows on from (the transfer passport, for a discharge passport). */
  readonly follows?: string;
  /** Why this version was issued when it replaces an earlier one. */
  readonly reason?: string;
  readonly index: RecordIndex;
}

export const documentIdentifier = (passportId: string, version: number, copy?: string): string => `${passportId}/${String(version)}${copy ? `/${copy}` : ''}`;

/** `{passportId}/{version}[/{copy}]` back into its parts, or undefined when it is not one of ours. */
export function parseDocumentIdentifier(value: string): { passportId: string; version: number; copy?: string } | undefined {
  const match = /^([A-Za-z0-9.-]{1,64})\/(\d{1,6})(?:\/([a-f0-9]{1,64}))?$/.exec(value);
  if (!match) return undefined;
  return { passportId: match[1] ?? '', version: Number(match[2]), ...(match[3] ? { copy: match[3] } : {}) };
}

function escapeXhtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The section's narrative: a table of its rows, or the empty text. */
export function sectionNarrative(rows: readonly Pick<RowBuild, 'label' | 'value' | 'source'>[], emptyText: string, withheld: boolean): string {
  const notice = withheld ? '<p><b>Some information in this section has been withheld from this copy.</b></p>' : '';
  if (rows.length === 0) return `<div xmlns="http://www.w3.org/1999/xhtml">${notice}<p>${escapeXhtml(emptyText)}</p></div>`;
  const body = rows.map((r) => `<tr><th>${escapeXhtml(r.label)}</th><td>${escapeXhtml(r.value)}</td><td>${escapeXhtml(r.source ?? '')}</td></tr>`).join('');
  return `<div xmlns="http://www.w3.org/1999/xhtml">${notice}<table><tbody>${body}</tbody></table></div>`;
}

export function rowExtension(row: RowBuild): Extension {
  return {
    url: ROW_EXTENSION,
    extension: [
      ...(row.label ? [{ url: 'label', valueString: row.label }] : []),
      { url: 'value', valueString: row.value || '—' },
      ...(row.source ? [{ url: 'source', valueString: row.source }] : []),
      ...row.entries.map((reference) => ({ url: 'entry', valueReference: { reference } })),
    ],
  };
}

export function rowsOf(section: CompositionSection): RowBuild[] {
  return (section.extension ?? [])
    .filter((e) => e.url === ROW_EXTENSION)
    .map((e) => {
      const part = (name: string): string | undefined => e.extension?.find((x) => x.url === name)?.valueString;
      const source = part('source');
      return {
        label: part('label') ?? '',
        value: part('value') ?? '',
        ...(source ? { source } : {}),
        entries: (e.extension ?? []).filter((x) => x.url === 'entry').map((x) => x.valueReference?.reference ?? ''),
      };
    });
}

/** A copy of a stored resource for the snapshot: what it said, which version, from where, how labelled; not when the store last touched it. */
function snapshotOf(resource: Resource): Resource {
  const copy = structuredClone(resource);
  if (copy.meta) {
    const { lastUpdated: _lastUpdated, ...meta } = copy.meta;
    copy.meta = meta;
    if (Object.keys(meta).length === 0) delete copy.meta;
  }
  return copy;
}

const DIRECTORY_TYPES = new Set(['Organization', 'Practitioner', 'PractitionerRole', 'Location', 'HealthcareService']);

function referencesIn(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'reference' && typeof inner === 'string') found.add(inner);
      else referencesIn(inner, found);
    }
  }
}

/** The strictest confidentiality and every sensitivity of the entries: the document is never less protected than its most sensitive part. */
export function documentSecurity(entries: readonly Resource[]): ReturnType<typeof securityLabels> {
  const labels = entries.map((r) => readLabels(r.meta));
  return securityLabels(
    [...new Set(labels.flatMap((l) => l.sensitivities))],
    labels.reduce<Confidentiality>((level, l) => stricter(level, l.confidentiality), 'N'),
  );
}

export function sectionOf(build: Pick<SectionBuild, 'code' | 'title' | 'emptyText'>, rows: readonly RowBuild[], entries: readonly string[], withheld: boolean): CompositionSection {
  return {
    title: build.title,
    code: { coding: [{ system: SECTION_SYSTEM, code: build.code, display: build.title }] },
    text: { status: 'generated', div: sectionNarrative(rows, build.emptyText, withheld) },
    ...(withheld ? { extension: [{ url: SECTION_WITHHELD_EXTENSION, valueBoolean: true }] } : {}),
    ...(entries.length > 0 ? { entry: entries.map((reference) => ({ reference })) } : {}),
    ...(rows.length === 0 ? { emptyReason: { coding: [{ system: LIST_EMPTY_REASON, code: withheld ? 'withheld' : 'nilknown', display: withheld ? 'Information Withheld' : 'Nil Known' }], text: build.emptyText } } : {}),
  };
}

export function withRows(section: CompositionSection, rows: readonly RowBuild[]): CompositionSection {
  return { ...section, extension: [...(section.extension ?? []).filter((e) => e.url !== ROW_EXTENSION), ...rows.map(rowExtension)] };
}

/** The signed-to-be document: Composition, the subject, every section's entries, and the directory resources they refer to. */
export function assembleDocument(input: DocumentInput): Bundle {
  const key = documentIdentifier(input.passportId, input.version);
  const subjectRef = refOf(input.subject);
  const entries = new Map<string, Resource>([[subjectRef, input.subject]]);
  if (input.encounter) entries.set(refOf(input.encounter), input.encounter);
  for (const section of input.sections) for (const r of section.entries) entries.set(refOf(r), r);
  // Organisations, practitioners and wards the entries name, so the document resolves within itself.
  const referenced = new Set<string>();
  for (const r of entries.values()) referencesIn(r, referenced);
  for (const reference of [...referenced].sort()) {
    const target = input.index.get({ reference });
    if (target && DIRECTORY_TYPES.has(target.resourceType) && !entries.has(reference)) entries.set(reference, target);
  }
  const composition: Composition = {
    resourceType: 'Composition',
    id: resourceId('Composition', PASSPORT_SOURCE, key),
    extension: [
      { url: VERSION_NUMBER_EXTENSION, valueString: String(input.version) },
      { url: RED_BAG_EXTENSION, valueIdentifier: { system: RED_BAG_ID_SYSTEM, value: input.redBagId } },
    ],
    identifier: { system: PASSPORT_ID_SYSTEM, value: input.passportId },
    status: 'final',
    type: PASSPORT_TYPE[input.kind],
    subject: { reference: subjectRef },
    ...(input.encounter ? { encounter: { reference: refOf(input.encounter) } } : {}),
    date: input.issuedAt,
    author: [input.issuedBy],
    title: PASSPORT_TITLE[input.kind],
    custodian: { display: 'CareBridge shared care record' },
    ...(input.version > 1 || input.follows
      ? {
          relatesTo: [
            ...(input.version > 1 ? [{ code: 'replaces' as const, targetIdentifier: { system: PASSPORT_DOCUMENT_SYSTEM, value: documentIdentifier(input.passportId, input.version - 1) } }] : []),
            ...(input.follows ? [{ code: 'appends' as const, targetIdentifier: { system: PASSPORT_DOCUMENT_SYSTEM, value: input.follows } }] : []),
          ],
        }
      : {}),
    ...(input.encounter?.period ? { event: [{ period: input.encounter.period }] } : {}),
    section: input.sections.map((s) => withRows(sectionOf(s, s.rows, s.entries.map(refOf), false), s.rows)),
  };
  const snapshot = [...entries.values()].map(snapshotOf);
  const entry: BundleEntry[] = [composition, ...snapshot].map((resource) => ({ fullUrl: `${input.fhirBase}/${resource.resourceType}/${resource.id ?? ''}`, resource }));
  return {
    resourceType: 'Bundle',
    id: resourceId('Bundle', PASSPORT_SOURCE, key),
    meta: { source: PASSPORT_SOURCE, security: documentSecurity(snapshot) },
    identifier: { system: PASSPORT_DOCUMENT_SYSTEM, value: key },
    type: 'document',
    timestamp: input.issuedAt,
    entry,
  };
}

/** The red bag (journey) a document belongs to, from its Composition. */
export function redBagOf(composition: Composition): string | undefined {
  return composition.extension?.find((e) => e.url === RED_BAG_EXTENSION)?.valueIdentifier?.value;
}

export function compositionOf(bundle: Bundle): Composition | undefined {
  const first = bundle.entry?.[0]?.resource;
  return first?.resourceType === 'Composition' ? first : undefined;
}

export function audienceOf(composition: Composition): string | undefined {
  return composition.extension?.find((e) => e.url === AUDIENCE_EXTENSION)?.valueString;
}
