import { createHash } from 'node:crypto';
import type { Provenance, Resource } from '@medplum/fhirtypes';
import { parseGpBundle } from '../../adapters/gp-connect/parse';
import { mapGpBundle, type GpMappingResult } from '../../mappings/gp/map-bundle';
import { endedVersion, itemsToEnd, type AreaItems } from '../../mappings/gp/reimport';
import { PermanentInputError, type InboxHandler } from '../ingest/inbox-processor';
import { resolveWrittenPatients } from '../ingest/ingest';
import type { SqlClient } from '../store/engine';
import { parseStoredResource } from '../store/resource-reader';
import { lockFollowingMerges } from '../identity/merge';
import { writeResourcesInTransaction, type WrittenResource } from '../store/resource-writer';
import type { Store } from '../store/store';

export const GP_INBOX_KIND = 'gp-connect';

/** What applying one bundle did; kept in the inbox row's outcome (ids and counts, no patient data). */
export interface GpApplyOutcome extends Record<string, unknown> {
  readonly applied: boolean;
  /** An older record than the one already imported for this patient from this practice: not applied. */
  readonly superseded: boolean;
  readonly patientId: string;
  readonly asOf: string;
  readonly written: number;
  readonly changed: number;
  readonly ended: number;
  /** Items absent from a list that warns items were withheld: left as they were. */
  readonly leftAsWere: number;
  readonly warnings: number;
}

export function bundleKey(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Maps the bundle; a bundle the mapping refuses is a permanent failure (never retried). */
export function mapStoredBundle(content: Buffer, receivedAt: string): GpMappingResult {
  const parsed = parseGpBundle(content);
  if (!parsed.ok) throw new PermanentInputError(parsed.error);
  const result = mapGpBundle(parsed.value, { receivedAt, bundleKey: bundleKey(content) });
  if (!result.ok) throw new PermanentInputError(result.issues.filter((i) => i.severity === 'error').map((i) => `${i.expression}: ${i.text}`).join('; '));
  return result;
}

async function loadResources(tx: SqlClient, refs: readonly string[]): Promise<Resource[]> {
  if (refs.length === 0) return [];
  const rows = await tx.query<{ content: string }>(
    `SELECT r.content::text AS content FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i`,
    [refs.map((r) => r.slice(0, r.indexOf('/'))), refs.map((r) => r.slice(r.indexOf('/') + 1))],
  );
  return rows.rows.map((r) => parseStoredResource(r.content));
}

/**
 * Applies one mapped bundle as that practice's current view of the patient's record, in one
 * transaction serialised per practice and patient: an older bundle than the last applied one is
 * not applied (no roll-back); items the previous import held in an area this bundle carries, and
 * this bundle no longer holds, are ended (reimport.ts); the practice's view is recorded. Then
 * identity is resolved for the Patient, as for every other source.
 */
export async function applyGpResult(store: Store, result: GpMappingResult, options: { inboxId?: string; receivedAt: string; now?: Date }): Promise<GpApplyOutcome> {
  const source = result.source as string;
  const nhsNumber = result.nhsNumber as string;
  const patientId = result.patientId as string;
  const asOf = result.asOf ?? options.receivedAt;
  const now = options.now ?? new Date();
  const warnings = result.issues.filter((i) => i.severity === 'warning').length;
  let written: WrittenResource[] = [];
  const outcome = await store.engine.transaction(async (tx): Promise<GpApplyOutcome> => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`gp-record|${source}|${nhsNumber}`]);
    const state = await tx.query<{ as_of: Date; areas: AreaItems }>('SELECT as_of, areas FROM gp_record_state WHERE source = $1 AND nhs_number = $2', [source, nhsNumber]);
    const before = state.rows[0];
    if (before && new Date(before.as_of).getTime() > Date.parse(asOf)) {
      return { applied: false, superseded: true, patientId, asOf, written: 0, changed: 0, ended: 0, leftAsWere: 0, warnings };
    }
    const present = new Set(result.resources.map((r) => `${r.resourceType}/${r.id}`));
    const { end, withheld } = itemsToEnd(before?.areas ?? {}, result.areas, present, result.incompleteAreas);
    const ended = (await loadResources(tx, end)).map((r) => endedVersion(r, asOf)).filter((r): r is Resource => r !== undefined);
    written = await writeResourcesInTransaction(tx, await lockFollowingMerges(tx, [...result.resources, ...ended]), now);
    const changed = written.filter((w) => w.changed);
    if (changed.length > 0 && result.provenance) {
      const provenance: Provenance = { ...result.provenance, target: changed.map((c) => ({ reference: `${c.resourceType}/${c.id}/_history/${c.versionId}` })) };
      await writeResourcesInTransaction(tx, [provenance], now);
    }
    const areas: AreaItems = { ...(before?.areas ?? {}), ...result.areas };
    await tx.query(
      `INSERT INTO gp_record_state (source, nhs_number, patient_id, as_of, areas, inbox_id, applied_at) VALUES ($1, $2, $3, $4::timestamptz, $5::jsonb, $6::bigint, $7::timestamptz)
       ON CONFLICT (source, nhs_number) DO UPDATE SET patient_id = EXCLUDED.patient_id, as_of = EXCLUDED.as_of, areas = EXCLUDED.areas, inbox_id = EXCLUDED.inbox_id, applied_at = EXCLUDED.applied_at`,
      [source, nhsNumber, patientId, asOf, JSON.stringify(areas), options.inboxId ?? null, now.toISOString()],
    );
    return { applied: true, superseded: false, patientId, asOf, written: written.length, changed: changed.length, ended: ended.length, leftAsWere: withheld.length, warnings };
  });
  if (outcome.applied) await resolveWrittenPatients(store, written, now);
  return outcome;
}

/** The inbox handler for GP Connect bundles (POST /intake/gp and `carebridge gp fetch`). */
export function gpInboxHandler(): InboxHandler {
  return async (item, store) => {
    const row = await store.engine.query<{ received_at: Date }>('SELECT received_at FROM inbox WHERE id = $1::bigint', [item.id]);
    const receivedAt = new Date(row.rows[0]?.received_at ?? Date.now()).toISOString();
    const result = mapStoredBundle(item.content, receivedAt);
    return applyGpResult(store, result, { inboxId: item.id, receivedAt });
  };
}
