import type { Bundle, DocumentReference, Encounter, Organization, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { GOLDEN_SOURCE } from '../gateway/identity/golden';
import { samePersonIds } from '../gateway/identity/resolver';
import { getPassport, type PassportRow, type RedBagRow } from '../gateway/passport/passport-store';
import { passportHtml, passportPdf } from '../gateway/passport/present';
import { loadPassportRecord, passportSubject } from '../gateway/passport/record-loader';
import { dischargePassportId, transferPassportId } from '../gateway/passport/service';
import { passportFingerprint, type PassportSigner } from '../gateway/passport/signing';
import type { SqlClient } from '../gateway/store/engine';
import { CARE_HOME_RESIDENCE_EXTENSION } from '../mappings/identifiers';
import { buildDischargePassport, buildTransferPassport } from '../mappings/passport/build';
import { PASSPORT_SOURCE } from '../mappings/passport/codes';
import { passportView } from '../mappings/passport/document-view';
import { RecordIndex } from '../mappings/passport/record-text';
import { stayComposition } from '../mappings/passport/stay-summary';
import type { PassportView } from '../mappings/passport/view';
import { msSince } from './stats';

/**
 * One passport through the pure pipeline, stage by stage, without PassportService's writes:
 *
 *   load      the person's ids (samePersonIds), loadPassportRecord (the compartment of every source
 *             record and the directory entries it refers to, from the store), and for a discharge
 *             passport the bag's transfer passport row (getPassport);
 *   assemble  what the service derives from the record (subject, care home or hospital, source
 *             names, form entries or stay documents and summary) and build*Passport;
 *   sign      PassportSigner.sign (JCS of the document, RS256 detached JWS) and the fingerprint
 *             (JCS of the signed document, SHA-256);
 *   html      passportView of the signed document, then passportHtml (QR SVG and the page);
 *   pdf       passportPdf of the same view (QR PNG and the A4 pages).
 *
 * Not included: the access decision, ingesting the form, the immutable passport row, the outbox
 * events, the DocumentReference and the audit record (the service's issue writes them; timed
 * separately through issueTransfer), and a reader's copy (readerCopy and its own signature when
 * anything is withheld): the page and PDF rendered here are of the issued document, every section.
 *
 * The derivations copy service.ts's private issueFromForm and issueDischarge. That they still
 * match is checked on every iteration: the document signed here must have the fingerprint of the
 * version the service issued and stored.
 */

export interface PipelineTiming {
  readonly loadMs: number;
  readonly assembleMs: number;
  readonly signMs: number;
  readonly htmlMs: number;
  readonly pdfMs: number;
}

export interface PipelineOutput {
  readonly timing: PipelineTiming;
  readonly record: readonly Resource[];
  readonly unsigned: Bundle;
  readonly signed: Bundle;
  readonly fingerprint: string;
  readonly view: PassportView;
  readonly html: string;
  readonly pdf: Buffer;
}

/** What the issued version says about itself: the pipeline rebuilds exactly this document. */
export interface PipelineTarget {
  readonly row: PassportRow;
  readonly sourceName: (source: string | undefined) => string;
  readonly fhirBase: string;
  readonly publicBaseUrl: string;
}

const SIGNED_BY = { display: 'CareBridge shared care record (passport signing key)' };

function sourceNames(record: readonly Resource[], sourceName: (source: string | undefined) => string): Record<string, string> {
  const names: Record<string, string> = {};
  for (const r of record) {
    const source = r.meta?.source;
    if (source && !(source in names)) names[source] = source === GOLDEN_SOURCE ? 'CareBridge person record (from every source)' : sourceName(source);
  }
  return names;
}

/** The care home the record says the person lives in, when it is `organisation` (system|value). */
export function careHomeOf(record: readonly Resource[], organisation: string): Reference<Organization> | undefined {
  const homes = record.filter((r): r is Patient => r.resourceType === 'Patient').flatMap((p) => (p.extension ?? []).filter((e) => e.url === CARE_HOME_RESIDENCE_EXTENSION).map((e) => e.valueReference as Reference<Organization> | undefined));
  return homes.find((h) => h?.identifier?.system && `${h.identifier.system}|${h.identifier.value ?? ''}` === organisation) ?? undefined;
}

async function signAndRender(started: { loadMs: number; assembleMs: number }, record: readonly Resource[], unsigned: Bundle, signer: PassportSigner, target: PipelineTarget): Promise<PipelineOutput> {
  let t = process.hrtime.bigint();
  const signed = await signer.sign(unsigned, target.row.issuedAt, SIGNED_BY);
  const fingerprint = passportFingerprint(signed);
  const signMs = msSince(t);
  t = process.hrtime.bigint();
  const view = passportView(signed, fingerprint);
  const html = await passportHtml(view, target.publicBaseUrl);
  const htmlMs = msSince(t);
  t = process.hrtime.bigint();
  const pdf = await passportPdf(view, target.publicBaseUrl);
  const pdfMs = msSince(t);
  if (fingerprint !== target.row.fingerprint) {
    throw new Error(`passport bench: the ${target.row.kind} rebuilt here is not the one the service issued (fingerprint ${fingerprint.slice(0, 16)}, issued ${target.row.fingerprint.slice(0, 16)}): bench/passport-pipeline.ts no longer follows service.ts`);
  }
  return { timing: { ...started, signMs, htmlMs, pdfMs }, record, unsigned, signed, fingerprint, view, html, pdf };
}

/** The transfer passport version `target.row` again, from the record as it is now and the form entries the home recorded. */
export async function transferPipeline(db: SqlClient, signer: PassportSigner, target: PipelineTarget, input: { patientId: string; careHome: string; formEntries: readonly string[] }): Promise<PipelineOutput> {
  const { row } = target;
  let t = process.hrtime.bigint();
  const personIds = await samePersonIds(db, input.patientId);
  const record = await loadPassportRecord(db, personIds);
  const loadMs = msSince(t);
  t = process.hrtime.bigint();
  const subject = passportSubject(record, input.patientId);
  const home = careHomeOf(record, input.careHome);
  if (!subject || !home) throw new Error('passport bench: the resident or the care home is not in the record');
  const form = input.formEntries.map((key) => {
    const found = record.find((r) => `${r.resourceType}/${r.id ?? ''}` === key);
    if (!found) throw new Error(`passport bench: the form entry ${key} is not in the record`);
    return found;
  });
  const unsigned = buildTransferPassport({
    passportId: transferPassportId(row.redBagId),
    version: row.version,
    redBagId: row.redBagId,
    issuedBy: { ...home, display: home.display ?? 'Care home' },
    fhirBase: target.fhirBase,
    subject,
    index: new RecordIndex(record),
    form,
    issuedAt: row.issuedAt,
    sourceNames: sourceNames(record, target.sourceName),
    ...(row.version > 1 ? { reason: 'The care home updated the transfer form before the person arrived at hospital' } : {}),
  });
  const assembleMs = msSince(t);
  return signAndRender({ loadMs, assembleMs }, record, unsigned, signer, target);
}

/** The discharge passport version `target.row` again, for the bag's stay, from the record as it is now. */
export async function dischargePipeline(db: SqlClient, signer: PassportSigner, target: PipelineTarget, bag: RedBagRow): Promise<PipelineOutput> {
  const { row } = target;
  const encounterId = bag.encounterId ?? '';
  let t = process.hrtime.bigint();
  const record = await loadPassportRecord(db, [...new Set([...bag.personIds, ...(await samePersonIds(db, bag.patientId))])]);
  const transfer = await getPassport(db, transferPassportId(bag.id));
  const loadMs = msSince(t);
  t = process.hrtime.bigint();
  const encounter = record.find((r): r is Encounter => r.resourceType === 'Encounter' && r.id === encounterId);
  const subject = passportSubject(record, bag.patientId);
  if (!encounter || !subject) throw new Error('passport bench: the stay or the person is not in the record');
  const documents = record.filter(
    (r): r is DocumentReference =>
      r.resourceType === 'DocumentReference' &&
      r.meta?.source !== PASSPORT_SOURCE &&
      r.status === 'current' &&
      (r.context?.encounter ?? []).some((e) => e.reference === `Encounter/${encounterId}`) &&
      (r.type?.coding ?? []).some((c) => ['373942005', 'DS', '18842-5'].includes(c.code ?? '')) &&
      !r.content.some((c) => c.attachment.contentType?.startsWith('application/fhir+json')),
  );
  const composition = stayComposition(record, encounter, (c) => c.meta?.source === PASSPORT_SOURCE);
  const name = target.sourceName(encounter.meta?.source);
  const hospital: Reference<Organization> = encounter.serviceProvider ? { ...encounter.serviceProvider, display: name || encounter.serviceProvider.display || 'Hospital' } : { display: name || 'Hospital' };
  const unsigned = buildDischargePassport({
    passportId: dischargePassportId(bag.id),
    version: row.version,
    redBagId: bag.id,
    issuedBy: hospital,
    fhirBase: target.fhirBase,
    subject,
    index: new RecordIndex(record),
    encounter,
    issuedAt: row.issuedAt,
    sourceNames: sourceNames(record, target.sourceName),
    ...(transfer ? { transferPassport: transfer.document } : {}),
    summaries: { ...(composition ? { composition } : {}), documents },
    ...(row.reason ? { reason: row.reason } : {}),
  });
  const assembleMs = msSince(t);
  return signAndRender({ loadMs, assembleMs }, record, unsigned, signer, target);
}
