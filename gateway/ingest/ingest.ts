import type { Resource } from '@medplum/fhirtypes';
import { resolveIdentity, type ResolutionResult } from '../identity/resolver';
import type { WrittenResource } from '../store/resource-writer';
import type { Store } from '../store/store';

export interface IngestResult {
  written: WrittenResource[];
  identity?: ResolutionResult;
}

/**
 * The common tail of every intake: upsert what a mapping produced (with its Provenance), then
 * resolve identity for its source Patients. Adapters and mappings differ per
 * source; this does not.
 */
export async function ingestResources(store: Store, resources: readonly Resource[], options: Parameters<Store['upsert']>[1] = {}): Promise<IngestResult> {
  const written = await store.upsert(resources, options);
  return resolveWrittenPatients(store, written, options.now);
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
