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
 * re-resolve identity for the source Patients that changed. Adapters and mappings differ per
 * source; this does not.
 */
export async function ingestResources(store: Store, resources: readonly Resource[], options: Parameters<Store['upsert']>[1] = {}): Promise<IngestResult> {
  const written = await store.upsert(resources, options);
  const changedPatients = written.filter((w) => w.changed && w.resourceType === 'Patient').map((w) => w.id);
  if (changedPatients.length === 0) return { written };
  return { written, identity: await resolveIdentity(store.engine, changedPatients, options.now) };
}
