import type { Encounter, Provenance, Resource } from '@medplum/fhirtypes';
import type { AckError } from '../../adapters/hl7v2/ack';
import { parseHl7 } from '../../adapters/hl7v2/parse';
import type { ParsedHl7 } from '../../adapters/hl7v2/types';
import { mapHl7Message, type Hl7MappingResult } from '../../mappings/hl7v2/map-message';
import { Hl7EventKind } from '../../mappings/hl7v2/tables/events';
import type { VisitEvent } from '../../mappings/hl7v2/visit-event';
import { foldVisit } from '../../mappings/hl7v2/visit-fold';
import { MergeError, mergeSourceRecords } from '../identity/merge';
import { PermanentInputError, type InboxHandler } from '../ingest/inbox-processor';
import { ingestResourcesInTransaction } from '../ingest/ingest';
import type { SqlClient } from '../store/engine';
import { parseStoredResource } from '../store/resource-reader';
import { lockWriteKeys } from '../store/resource-writer';
import type { Store } from '../store/store';
import { recordOutboxEvent } from '../store/outbox';
import { mergeWithStored } from './merge-stored';
import type { Hl7Sender, Hl7SenderDirectory } from './senders';

/** Events the outbox carries for notifications and passports. */
export const OUTBOX_KINDS: ReadonlySet<string> = new Set<string>([
  Hl7EventKind.ADMISSION,
  Hl7EventKind.ED_ATTENDANCE,
  Hl7EventKind.TRANSFER,
  Hl7EventKind.PENDING_DISCHARGE,
  Hl7EventKind.DISCHARGE,
  Hl7EventKind.DEATH,
  Hl7EventKind.CANCEL_ADMISSION,
  Hl7EventKind.CANCEL_TRANSFER,
  Hl7EventKind.CANCEL_DISCHARGE,
  Hl7EventKind.CANCEL_PENDING_ADMISSION,
  Hl7EventKind.CANCEL_PENDING_DISCHARGE,
  Hl7EventKind.MERGE,
  // A document (MDM T02/T04: a discharge summary) for the red bag's discharge passport; no topic notifies it.
  Hl7EventKind.DOCUMENT,
]);

export function mapForSender(message: ParsedHl7, sender: Hl7Sender, receivedAt: string): Hl7MappingResult {
  return mapHl7Message(message, { source: sender.source, senderTimeZone: sender.timeZone, nhsNumberVerifiedBySender: sender.nhsNumberVerified, receivedAt });
}

/** The mapping's errors as ACK errors: what makes the intake answer AE. */
export function mappingErrors(result: Hl7MappingResult): AckError[] {
  return result.issues.filter((i) => i.severity === 'error').map((i) => ({ code: i.code, severity: 'E' as const, location: i.location, text: i.text }));
}

/** Resources many patients' messages share (the sending Organization, a ward Location, a consultant, each message's Provenance). */
export const SHARED_TYPES: ReadonlySet<string> = new Set(['Organization', 'Practitioner', 'Location', 'Provenance']);

/**
 * What applying a message reads and then writes that another message may write too: its own
 * resources (the patient's records and the visit's Encounter), its visit and its patient. Two
 * messages sharing a key are applied one after the other, never side by side: in one process
 * they go to different rounds (inbox-batch.ts); across workers and processes each takes these keys'
 * locks (lockWriteKeys) before it reads what it merges and folds. Shared resources are not keys:
 * every message names them, and taking them would put every worker in one line.
 */
export function writeKeysOf(source: string, result: Hl7MappingResult): string[] {
  const keys = result.resources.filter((r) => !SHARED_TYPES.has(r.resourceType)).map((r) => `${r.resourceType}/${r.id ?? ''}`);
  if (result.visit) keys.push(`visit:${source}|${result.visit.facts.encounterId}`);
  if (result.event) keys.push(`Patient/${result.event.patientId}`);
  return [...new Set(keys)];
}

export function applicabilityCheck(message: ParsedHl7, sender: Hl7Sender, receivedAt: Date): AckError[] {
  return mappingErrors(mapForSender(message, sender, receivedAt.toISOString()));
}

export async function loadStored(db: SqlClient, resources: readonly Resource[]): Promise<Map<string, Resource>> {
  // Each resource once: a round's messages name the same Organization, wards and consultants many times over.
  const keys = new Map(resources.map((r) => [`${r.resourceType}/${r.id ?? ''}`, r]));
  if (keys.size === 0) return new Map();
  const unique = [...keys.values()];
  const rows = await db.query<{ content: string }>(
    `SELECT r.content::text AS content FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i`,
    [unique.map((r) => r.resourceType), unique.map((r) => r.id ?? '')],
  );
  return new Map(rows.rows.map((r) => parseStoredResource(r.content)).map((r) => [`${r.resourceType}/${r.id ?? ''}`, r]));
}

/** The visit's stored events plus this one (idempotently), in the fold's order. */
async function visitEvents(db: SqlClient, source: string, inboxId: string, visit: VisitEvent): Promise<VisitEvent[]> {
  await db.query(
    `INSERT INTO hl7_visit_event (source, visit_key, inbox_id, event_time, message_time, control_id, event) VALUES ($1, $2, $3::bigint, $4::timestamptz, $5, $6, $7::jsonb)
     ON CONFLICT (source, visit_key, inbox_id) DO NOTHING`,
    [source, visit.facts.encounterId, inboxId, visit.eventTime, visit.messageTime, visit.messageId, JSON.stringify(visit)],
  );
  const rows = await db.query<{ event: VisitEvent }>(`SELECT event FROM hl7_visit_event WHERE source = $1 AND visit_key = $2 ORDER BY inbox_id`, [source, visit.facts.encounterId]);
  return rows.rows.map((r) => r.event);
}

export const currentLocation = (e: Encounter | undefined): string | undefined => e?.location?.find((l) => l.status === 'active' || !l.period?.end)?.location.reference;

/** The inbox handler for HL7v2: map, merge with what is stored, fold the visit, write, merge patients, record the event. */
export function hl7InboxHandler(senders: Hl7SenderDirectory): InboxHandler {
  return async (item, store: Store) => {
    const db = store.engine;
    const receivedRow = await db.query<{ received_at: Date }>('SELECT received_at FROM inbox WHERE id = $1::bigint', [item.id]);
    const receivedAt = new Date(receivedRow.rows[0]?.received_at ?? Date.now()).toISOString();
    const parsed = parseHl7(item.content);
    if (!parsed.ok) throw new PermanentInputError(`${parsed.error.code} ${parsed.error.text}`);
    const sender = senders.senderOf(parsed.message.header);
    const result = mapForSender(parsed.message, sender, receivedAt);
    const errors = result.issues.filter((i) => i.severity === 'error');
    if (errors.length > 0 || !result.event) throw new PermanentInputError(errors.map((e) => `${e.code} ${e.text}`).join('; ') || 'The message names no patient event');
    const event = result.event;

    const provenance = result.resources.find((r): r is Provenance => r.resourceType === 'Provenance');
    const others = result.resources.filter((r) => r.resourceType !== 'Provenance' && r.resourceType !== 'Encounter');
    // Read, merge, fold and write in one transaction under the message's keys: another worker
    // applying the same visit's or patient's next message waits, then reads what this one wrote.
    const visitChanged = await db.transaction(async (tx) => {
      await lockWriteKeys(tx, writeKeysOf(sender.source, result), { withSurvivors: true });
      const stored = await loadStored(tx, others);
      const toWrite: Resource[] = others.map((r) => mergeWithStored(stored.get(`${r.resourceType}/${r.id ?? ''}`), r, result.cleared));
      let changed = false;
      if (result.visit) {
        const events = await visitEvents(tx, sender.source, item.id, result.visit);
        const after = foldVisit(events);
        const before = foldVisit(events.filter((e) => e.messageId !== result.visit?.messageId));
        changed = after?.status !== before?.status || currentLocation(after) !== currentLocation(before) || after?.period?.end !== before?.period?.end;
        // Its subject is the merged record's, if the patient has been merged: the write follows the merge.
        if (after) toWrite.push(after);
      }
      await ingestResourcesInTransaction(tx, toWrite, {
        provenance: (written) =>
          provenance && written.length > 0 ? { ...provenance, target: written.map((c) => ({ reference: `${c.resourceType}/${c.id}/_history/${c.versionId}` })) } : undefined,
      });
      return changed;
    });

    if (event.merge) {
      try {
        await mergeSourceRecords(store, { mergedId: event.merge.mergedPatientId, survivorId: event.merge.survivorPatientId, reason: `HL7 ${event.trigger} ${event.controlId}`, mergedBy: sender.key });
      } catch (err) {
        // Already merged (a repeat), or the merged record never reached us: nothing to move.
        if (!(err instanceof MergeError)) throw err;
      }
    }
    // Every applied event is recorded; changedState says whether it changed where the visit stands now
    // (a discharge arriving after its cancellation, or an admission after its discharge, did not).
    const recorded = OUTBOX_KINDS.has(event.kind);
    const changedState = event.kind === Hl7EventKind.MERGE || !result.visit || visitChanged;
    if (recorded) {
      await recordOutboxEvent(db, { kind: event.kind, patientId: event.patientId, encounterId: event.encounterId ?? '', source: sender.source, inboxId: item.id, eventTime: event.eventTime, payload: { trigger: event.trigger, controlId: event.controlId, changedState } });
    }
    return { applied: event.kind, encounterId: event.encounterId ?? null, outbox: recorded, changedState };
  };
}
