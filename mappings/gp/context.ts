import type { Coding, Extension, Identifier, Meta, Reference, Resource } from '@medplum/fhirtypes';
import { resourceId } from '../ids';
import { CONFIDENTIALITY_SYSTEM, securityLabels, stricter, type Confidentiality, type Sensitivity } from '../security/labels';
import { type GpIssueList } from './issues';
import type { Stu3Meta, Stu3Resource } from './stu3';

/**
 * Per-bundle state the resource mappers share: the practice (its ODS code and our source URI for
 * it), the issues found so far, and the index from each STU3 `Type/id` in the bundle to the R4
 * resource it becomes, so references are rewritten to deterministic ids.
 */

/**
 * One source per practice: CareBridge's own URI with the practice's ODS code, so two practices'
 * local ids never collide and every resource names the practice it came from (meta.source).
 */
export const GP_SOURCE_BASE = 'https://carebridge.nhs.uk/source/gp';
export const gpSourceUri = (ods: string): string => `${GP_SOURCE_BASE}/${encodeURIComponent(ods.toUpperCase())}`;

export interface IndexedTarget {
  readonly resourceType: Resource['resourceType'];
  readonly id: string;
  /** Where the STU3 resource sits in the bundle. */
  readonly path: string;
  /**
   * For Organizations (ODS code) and Practitioners (the practice's worker id: SDS user id, else
   * the logical id): carried beside every reference to it, the reference contract of
   * mappings/identifiers.ts, so access decisions need not resolve references.
   */
  readonly identifier?: Identifier;
}

export interface GpScope {
  readonly source: string;
  readonly ods: string;
  readonly issues: GpIssueList;
  /** STU3 `Type/id` → the R4 resource it becomes. */
  readonly index: ReadonlyMap<string, IndexedTarget>;
  /** The R4 Patient, for references that name the patient only by NHS number. */
  readonly patient: IndexedTarget;
}

export function idFor(source: string, resourceType: Resource['resourceType'], key: string): string {
  return resourceId(resourceType, source, key);
}

/** STU3 `http://hl7.org/fhir/v3/Confidentiality` R/V labels become our confidentiality; every other label (NOPAT…) is kept as sent. */
const STU3_CONFIDENTIALITY = 'http://hl7.org/fhir/v3/Confidentiality';

export function sourceConfidentiality(meta: Stu3Meta | undefined): { level: Confidentiality; keep: Coding[] } {
  let level: Confidentiality = 'N';
  const keep: Coding[] = [];
  for (const c of meta?.security ?? []) {
    if ((c.system === STU3_CONFIDENTIALITY || c.system === CONFIDENTIALITY_SYSTEM) && (c.code === 'N' || c.code === 'R' || c.code === 'V')) level = stricter(level, c.code);
    else keep.push({ ...c });
  }
  return { level, keep };
}

/**
 * meta for a mapped resource: the practice as source, the UK Core profile when we claim one, and
 * the security labels: the sensitivities of its codes, at least the confidentiality the source
 * sent, and the source's own labels (GP Connect's NOPAT: not for the patient's own view; it is no
 * restriction on clinicians and is kept as sent).
 */
export function metaFor(scope: GpScope, stu3: Stu3Resource, sensitivities: readonly Sensitivity[], profile?: string): Meta {
  const { level, keep } = sourceConfidentiality(stu3.meta);
  return { source: scope.source, ...(profile ? { profile: [profile] } : {}), security: securityLabels(sensitivities, level, keep) };
}

/** The STU3 id index key of a reference string (`Practitioner/abc`, or an absolute URL ending so). */
export function referenceKey(reference: string): string | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  return m ? `${m[1] ?? ''}/${m[2] ?? ''}` : undefined;
}

/**
 * An STU3 reference as R4: `reference` rewritten to the mapped resource; a reference to something
 * not in the bundle is an error (GP Connect bundles are self-contained); a logical reference by
 * identifier only is kept (R4 allows it), and a Patient named by NHS number points at our Patient.
 */
/** A mapped reference: checked against `allowed` at run time, so it fits any typed Reference slot. */
export type MappedReference = Reference<never>;

export function mapReference(scope: GpScope, ref: Reference | undefined, expression: string, allowed?: readonly string[]): MappedReference | undefined {
  if (!ref) return undefined;
  const display = ref.display ? { display: ref.display } : {};
  const identifier = ref.identifier ? { identifier: ref.identifier } : {};
  if (!ref.reference) {
    if (ref.identifier?.system === 'https://fhir.nhs.uk/Id/nhs-number') return { reference: `Patient/${scope.patient.id}`, ...identifier, ...display };
    if (!ref.identifier && !ref.display) {
      scope.issues.warning('required', expression, 'Reference has neither reference nor identifier nor display; left out');
      return undefined;
    }
    return { ...identifier, ...display };
  }
  if (ref.reference.startsWith('#')) {
    scope.issues.warning('not-supported', `${expression}.reference`, 'Contained resources are not used by GP Connect; the reference is left out');
    return undefined;
  }
  const key = referenceKey(ref.reference);
  const target = key ? scope.index.get(key) : undefined;
  if (!target) {
    scope.issues.error('not-found', `${expression}.reference`, `Dangling reference: no ${key?.split('/')[0] ?? 'resource'} with that id in the bundle`);
    return undefined;
  }
  if (allowed && !allowed.includes(target.resourceType)) {
    scope.issues.error('invalid', `${expression}.reference`, `Reference to a ${target.resourceType}, where only ${allowed.join(' or ')} may be referenced`);
    return undefined;
  }
  const contract = !ref.identifier && target.identifier ? { identifier: target.identifier } : identifier;
  return { reference: `${target.resourceType}/${target.id}`, ...contract, ...display };
}

export function mapReferences(scope: GpScope, refs: readonly Reference[] | undefined, expression: string, allowed?: readonly string[]): MappedReference[] | undefined {
  if (!refs?.length) return undefined;
  const out = refs.map((r, i) => mapReference(scope, r, `${expression}[${String(i)}]`, allowed)).filter((r): r is MappedReference => r !== undefined);
  return out.length ? out : undefined;
}

/** Extensions a mapper handles itself are named; any other is reported (not mapped) and left out. */
export function reportUnmappedExtensions(scope: GpScope, extensions: readonly Extension[] | undefined, handled: readonly string[], expression: string): void {
  (extensions ?? []).forEach((e, i) => {
    if (!handled.includes(e.url)) scope.issues.information('informational', `${expression}.extension[${String(i)}]`, `Extension ${e.url} is not mapped`);
  });
}

export function extensionOf(extensions: readonly Extension[] | undefined, url: string): Extension | undefined {
  return extensions?.find((e) => e.url === url);
}

/** Drops undefined values so resources compare equal however they were built (and golden files stay tidy). */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as T;
}

/** The record's subject: must be the bundle's Patient (GP Connect returns one patient's record). */
export function subjectOf(scope: GpScope, ref: Reference | undefined, expression: string, required = true): MappedReference {
  const own = { reference: `Patient/${scope.patient.id}` };
  if (!ref) {
    if (required) scope.issues.error('required', expression, 'The reference to the patient is missing');
    return own;
  }
  const mapped = mapReference(scope, ref, expression, ['Patient']);
  if (mapped?.reference && mapped.reference !== own.reference) scope.issues.error('invalid', `${expression}.reference`, 'Refers to a patient other than the bundle\'s Patient');
  return own;
}
