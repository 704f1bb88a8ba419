import type { Patient, Resource } from '@medplum/fhirtypes';
import { lockFollowingMerges } from '../identity/merge';
import { resolveIdentity, resolveIdentityInTransaction, type ResolutionResult } from '../identity/resolver';
import { parseStoredResource } from '../store/resource-reader';
import type { SqlClient } from '../store/engine';
import { writeResourcesInTransaction, type WrittenResource } from '../store/resource-writer';
import type { Store } from '../store/store';

export interface IngestResult {
  written: WrittenResource[];
  identity?: ResolutionResult;
}

/**
 * The common tail of every intake: upsert what a mapping produced (with its Provenance) and
 * resolve identity for its source Patients, in one transaction (one commit; no crash window
 * between the write and the resolution). The resolver is handed the Patients just written instead
 * of reading them back: safe inside the transaction, which holds their write locks until it
 * commits. References to a Patient its source has merged are moved to the survivor first, under
 * the locks (lockFollowingMerges). Adapters and mappings differ per source; this does not.
 */
export type IngestOptions = Parameters<Store['upsert']>[1] & {
  /** Work that must commit with the write (an outbox event of what was written), in the same transaction. */
  readonly inTransaction?: (tx: SqlClient, written: readonly WrittenResource[]) => Promise<void>;
};

export async function ingestResources(store: Store, resources: readonly Resource[], options: IngestOptions = {}): Promise<IngestResult> {
  return store.engine.transaction((tx) => ingestResourcesInTransaction(tx, resources, options));
}

/** ingestResources in the caller's transaction (an intake that read stored state under its locks first). */
export async function ingestResourcesInTransaction(tx: SqlClient, resources: readonly Resource[], options: IngestOptions = {}): Promise<IngestResult> {
  const now = options.now ?? new Date();
  // As written (a merged Patient sent again stays merged): what the resolver is handed must be that.
  const toWrite = await lockFollowingMerges(tx, resources);
  const byKey = new Map(toWrite.map((r) => [`${r.resourceType}/${r.id ?? ''}`, r]));
  const written = await writeResourcesInTransaction(tx, toWrite, now);
  const provenance = options.provenance?.(written.filter((w) => w.changed));
  if (provenance) written.push(...(await writeResourcesInTransaction(tx, [provenance], now)));
  await options.inTransaction?.(tx, written);
  // Every Patient of the input, changed or not: a retry after a transient failure finds the
  // Patient already written and must still resolve it. Resolution writes nothing when nothing changed.
  const patients = written.filter((w) => w.resourceType === 'Patient');
  if (patients.length === 0) return { written };
  const known = new Map<string, Patient>();
  for (const w of patients) {
    const input = byKey.get(`Patient/${w.id}`) as Patient | undefined;
    // Exactly what the store wrote for a changed Patient (an unchanged one keeps its stored meta: read back).
    if (w.changed && input) known.set(w.id, asStored(input, w.versionId, now));
  }
  return { written, identity: await resolveIdentityInTransaction(tx, patients.map((w) => w.id), now, known) };
}

/** A resource as the store keeps it: its JSON with the version and time the store assigned. */
function asStored(resource: Patient, versionId: string, now: Date): Patient {
  return parseStoredResource(JSON.stringify({ ...resource, meta: { ...resource.meta, versionId, lastUpdated: now.toISOString() } })) as Patient;
}

/** One input's share of a batch: its resources and the Provenance to write for what of them changed. */
export interface IngestUnit {
  readonly resources: readonly Resource[];
  readonly provenance?: (changed: readonly WrittenResource[]) => Resource | undefined;
}

/**
 * ingestResources for many inputs in the caller's transaction (the batched inbox worker): one
 * upsert of every resource, one upsert of every Provenance, one identity resolution of every
 * Patient. A resource in several units is written once, as its last occurrence: a caller that
 * lets units share a resource (an Organization, a Location) gives the later units the content
 * folded over the earlier ones. Each unit's Provenance targets its own resources that changed.
 */
export async function ingestBatchInTransaction(tx: SqlClient, units: readonly IngestUnit[], now: Date = new Date()): Promise<IngestResult[]> {
  const keyOf = (r: { resourceType: string; id?: string }): string => `${r.resourceType}/${r.id ?? ''}`;
  const last = new Map<string, Resource>();
  for (const unit of units) for (const r of unit.resources) last.set(keyOf(r), r);
  // Every key at once, in the one order: the chunks below would each lock theirs in order, but
  // across chunks out of order, and two processes' rounds naming the same wards could deadlock.
  const toWrite = await lockFollowingMerges(tx, [...last.values()]);
  for (const r of toWrite) last.set(keyOf(r), r);
  const written = new Map((await writeInChunks(tx, toWrite, now)).map((w) => [keyOf(w), w]));
  const perUnit = units.map((unit) => unit.resources.map((r) => written.get(keyOf(r))).filter((w): w is WrittenResource => w !== undefined));
  const provenances = units.map((unit, i) => unit.provenance?.((perUnit[i] ?? []).filter((w) => w.changed)));
  const provenanceWritten = new Map((await writeInChunks(tx, provenances.filter((p): p is Resource => p !== undefined), now)).map((w) => [keyOf(w), w]));
  const results: IngestResult[] = perUnit.map((w, i) => {
    const p = provenances[i];
    const extra = p ? provenanceWritten.get(keyOf(p)) : undefined;
    return { written: extra ? [...w, extra] : w };
  });
  const patientsWritten = [...written.values()].filter((w) => w.resourceType === 'Patient');
  const patients = patientsWritten.map((w) => w.id);
  if (patients.length > 0) {
    // As in ingestResources: the changed Patients as the store wrote them, not read back.
    const known = new Map<string, Patient>();
    for (const w of patientsWritten) {
      const input = last.get(`Patient/${w.id}`) as Patient | undefined;
      if (w.changed && input) known.set(w.id, asStored(input, w.versionId, now));
    }
    const identity = await resolveIdentityInTransaction(tx, patients, now, known);
    for (const r of results) if (r.written.some((w) => w.resourceType === 'Patient')) r.identity = identity;
  }
  return results;
}

/**
 * Indexing a resource for search is synchronous JavaScript (FHIRPath over every search parameter):
 * written in chunks, with a turn for the event loop between them, a big batch does not hold up
 * the acknowledgements the same process owes its senders.
 */
const WRITE_CHUNK = 48;

async function writeInChunks(tx: SqlClient, resources: readonly Resource[], now: Date): Promise<WrittenResource[]> {
  const written: WrittenResource[] = [];
  for (let i = 0; i < resources.length; i += WRITE_CHUNK) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    written.push(...(await writeResourcesInTransaction(tx, resources.slice(i, i + WRITE_CHUNK), now)));
  }
  return written;
}

/**
 * The identity tail of an ingest, on its own for an intake that writes inside a transaction of its
 * own (GP Connect re-import checks and records the practice's view in the same transaction).
 * Every Patient of the input, changed or not: a retry after a crash (or a transient failure)
 * between the upsert and the resolution finds the Patient already written, and must still
 * resolve it. Resolution writes nothing when nothing changed.
 */
export async function resolveWrittenPatients(store: Store, written: WrittenResource[], now?: Date): Promise<IngestResult> {
  const patients = written.filter((w) => w.resourceType === 'Patient').map((w) => w.id);
  if (patients.length === 0) return { written };
  return { written, identity: await resolveIdentity(store.engine, patients, now) };
}
