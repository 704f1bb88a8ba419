import type { Encounter, Provenance, Resource } from '@medplum/fhirtypes';
import { parseHl7 } from '../../adapters/hl7v2/parse';
import type { Hl7MappingResult } from '../../mappings/hl7v2/map-message';
import { Hl7EventKind } from '../../mappings/hl7v2/tables/events';
import type { VisitEvent } from '../../mappings/hl7v2/visit-event';
import { foldVisit } from '../../mappings/hl7v2/visit-fold';
import type { InboxBatchHandler, PreparedItem } from '../ingest/inbox-batch';
import type { InboxItem } from '../ingest/inbox-processor';
import { ingestBatchInTransaction, type IngestUnit } from '../ingest/ingest';
import type { SqlClient } from '../store/engine';
import { contentHash, lockWriteKeys } from '../store/resource-writer';
import { currentLocation, loadStored, mapForSender, OUTBOX_KINDS, SHARED_TYPES, writeKeysOf } from './apply';
import type { IntakeMappings, KeptMapping } from './intake-mappings';
import { mergeWithStored } from './merge-stored';
import type { Hl7Sender, Hl7SenderDirectory } from './senders';

/**
 * The HL7v2 inbox handler for many messages at once (see gateway/ingest/inbox-batch.ts): the same
 * steps as hl7InboxHandler, each done once for the round instead of once per message. A round
 * never holds two messages of one patient or one visit, so each patient's and each visit's
 * messages are applied in arrival order with one version each, exactly as one by one. Resources
 * many messages share (the sending Organization, a ward Location, a consultant) are folded over
 * the round in arrival order and written once. A40 merges are applied alone, by the per-item handler.
 */
export interface Hl7Unit {
  readonly sender: Hl7Sender;
  readonly result: Hl7MappingResult;
}

const keyOf = (r: { resourceType: string; id?: string }): string => `${r.resourceType}/${r.id ?? ''}`;

const YIELD_EVERY = 8;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The intake's mapping when it handed one over for exactly this row, else the row parsed and mapped again. */
function mappingOf(senders: Hl7SenderDirectory, item: InboxItem, kept: IntakeMappings | undefined): KeptMapping | { failure: string } {
  const handed = kept?.take(item);
  if (handed) return handed;
  const parsed = parseHl7(item.content);
  if (!parsed.ok) return { failure: `${parsed.error.code} ${parsed.error.text}` };
  const sender = senders.senderOf(parsed.message.header);
  return { sender, result: mapForSender(parsed.message, sender, (item.receivedAt ?? new Date()).toISOString()) };
}

function prepareOne(senders: Hl7SenderDirectory, item: InboxItem, kept: IntakeMappings | undefined): PreparedItem<Hl7Unit> {
  const mapping = mappingOf(senders, item, kept);
  if ('failure' in mapping) return { id: item.id, failure: mapping.failure };
  const { sender, result } = mapping;
  const errors = result.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0 || !result.event) return { id: item.id, failure: errors.map((e) => `${e.code} ${e.text}`).join('; ') || 'The message names no patient event' };
  if (result.event.merge) return { id: item.id, alone: true };
  return { id: item.id, keys: writeKeysOf(sender.source, result), unit: { sender, result } };
}

/**
 * A row the mapper throws on is applied alone, through the per-item handler, which meets the same
 * error and retries and dead-letters the row as usual (`carebridge dlq`), instead of taking its
 * whole batch down with it and coming back, never counted, with every re-enqueue.
 */
function preparedOrAlone(senders: Hl7SenderDirectory, item: InboxItem, kept: IntakeMappings | undefined): PreparedItem<Hl7Unit> {
  try {
    return prepareOne(senders, item, kept);
  } catch {
    return { id: item.id, alone: true };
  }
}

/** `kept`: the intake's mappings of the rows it stored in this process (see intake-mappings.ts). */
export function hl7BatchHandler(senders: Hl7SenderDirectory, kept?: IntakeMappings): InboxBatchHandler<Hl7Unit> {
  return {
    async prepare(items) {
      const prepared: PreparedItem<Hl7Unit>[] = [];
      for (const item of items) {
        // Mapping is synchronous JavaScript: give the intake's ACKs a turn every few messages.
        if (prepared.length % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
        prepared.push(preparedOrAlone(senders, item, kept));
      }
      return prepared;
    },

    async apply(tx, units) {
      // The round shares no key within itself; these locks keep out another process's round (or
      // a worker applying one message) on the same patients and visits until this one commits.
      await lockWriteKeys(tx, units.flatMap((u) => writeKeysOf(u.unit.sender.source, u.unit.result)), { withSurvivors: true });
      const stored = await loadStored(
        tx,
        units.flatMap((u) => u.unit.result.resources.filter((r) => r.resourceType !== 'Provenance' && r.resourceType !== 'Encounter')),
      );
      // Each resource folded over the round in arrival order, as one-by-one application would store it.
      const current = new Map<string, Resource | undefined>(stored);
      // A shared resource's content hash, once per version of it: the merged one of one message is the previous of the next.
      const hashes = new WeakMap<Resource, string>();
      const hashOf = (r: Resource): string => {
        let hash = hashes.get(r);
        if (hash === undefined) {
          hash = contentHash(r);
          hashes.set(r, hash);
        }
        return hash;
      };
      // Which shared resources each message itself changed: only those are its Provenance's, as one by one.
      const changedBy = units.map(() => new Set<string>());
      const toWrite = units.map(({ unit }, i) =>
        unit.result.resources
          .filter((r) => r.resourceType !== 'Provenance' && r.resourceType !== 'Encounter')
          .map((r) => {
            const key = keyOf(r);
            const previous = current.get(key);
            const merged = mergeWithStored(previous, r, unit.result.cleared);
            if (SHARED_TYPES.has(r.resourceType) && (!previous || hashOf(previous) !== hashOf(merged))) changedBy[i]?.add(key);
            current.set(key, merged);
            return merged;
          }),
      );
      // A shared resource is written once, with its content after the last message of the round.
      // A stored shared resource no message of the round changed is not handed to the writer at all:
      // it would only hash it again, find the same hash and make no version.
      const changedShared = new Set(changedBy.flatMap((keys) => [...keys]));
      const unchanged = (key: string): boolean => SHARED_TYPES.has(key.slice(0, key.indexOf('/'))) && stored.has(key) && !changedShared.has(key);
      const finalToWrite = toWrite.map((list) => list.filter((r) => !unchanged(keyOf(r))).map((r) => current.get(keyOf(r)) ?? r));

      const visits = await visitEventsOf(tx, units.map((u) => ({ id: u.id, source: u.unit.sender.source, visit: u.unit.result.visit })));
      const visitChanged = new Map<string, boolean>();
      const folded = units.map(({ id, unit }): Encounter | undefined => {
        const visit = unit.result.visit;
        if (!visit) return undefined;
        const events = visits.get(`${unit.sender.source}|${visit.facts.encounterId}`) ?? [];
        const after = foldVisit(events);
        const before = foldVisit(events.filter((e) => e.messageId !== visit.messageId));
        visitChanged.set(id, after?.status !== before?.status || currentLocation(after) !== currentLocation(before) || after?.period?.end !== before?.period?.end);
        return after;
      });
      // A merged patient's visit keeps the merged record as its subject here; the write follows the merge (lockFollowingMerges).
      folded.forEach((after, i) => {
        if (after) finalToWrite[i]?.push(after);
      });

      const ingestUnits: IngestUnit[] = units.map(({ unit }, i) => {
        const provenance = unit.result.resources.find((r): r is Provenance => r.resourceType === 'Provenance');
        return {
          resources: finalToWrite[i] ?? [],
          provenance: (written) => {
            const changed = written.filter((w) => !SHARED_TYPES.has(w.resourceType) || changedBy[i]?.has(keyOf(w)));
            return provenance && changed.length > 0 ? { ...provenance, target: changed.map((c) => ({ reference: `${c.resourceType}/${c.id}/_history/${c.versionId}` })) } : undefined;
          },
        };
      });
      await ingestBatchInTransaction(tx, ingestUnits);

      const outcomes = new Map<string, Record<string, unknown>>();
      const outbox: { kind: string; patient: string; encounter: string; source: string; inbox: string; time: string; payload: string }[] = [];
      for (const { id, unit } of units) {
        const event = unit.result.event;
        if (!event) continue;
        const recorded = OUTBOX_KINDS.has(event.kind);
        const changedState = event.kind === Hl7EventKind.MERGE || !unit.result.visit || (visitChanged.get(id) ?? false);
        if (recorded) {
          outbox.push({ kind: event.kind, patient: event.patientId, encounter: event.encounterId ?? '', source: unit.sender.source, inbox: id, time: event.eventTime, payload: JSON.stringify({ trigger: event.trigger, controlId: event.controlId, changedState }) });
        }
        outcomes.set(id, { applied: event.kind, encounterId: event.encounterId ?? null, outbox: recorded, changedState });
      }
      if (outbox.length > 0) {
        await tx.query(
          `INSERT INTO outbox (kind, patient_id, encounter_id, source, inbox_id, event_time, payload)
           SELECT k, p, e, s, i::bigint, t::timestamptz, j::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS x(k, p, e, s, i, t, j)
           ON CONFLICT (inbox_id, kind, encounter_id) DO NOTHING`,
          [outbox.map((o) => o.kind), outbox.map((o) => o.patient), outbox.map((o) => o.encounter), outbox.map((o) => o.source), outbox.map((o) => o.inbox), outbox.map((o) => o.time), outbox.map((o) => o.payload)],
        );
      }
      return outcomes;
    },
  };
}

/** Stores the round's visit events (idempotently) and returns every event of their visits, by `source|visit`, in the fold's order. */
async function visitEventsOf(db: SqlClient, units: readonly { id: string; source: string; visit: VisitEvent | undefined }[]): Promise<Map<string, VisitEvent[]>> {
  const withVisit = units.filter((u): u is { id: string; source: string; visit: VisitEvent } => u.visit !== undefined);
  const byVisit = new Map<string, VisitEvent[]>();
  if (withVisit.length === 0) return byVisit;
  await db.query(
    `INSERT INTO hl7_visit_event (source, visit_key, inbox_id, event_time, message_time, control_id, event)
     SELECT s, k, i::bigint, t::timestamptz, m, c, e::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS x(s, k, i, t, m, c, e)
     ON CONFLICT (source, visit_key, inbox_id) DO NOTHING`,
    [
      withVisit.map((u) => u.source),
      withVisit.map((u) => u.visit.facts.encounterId),
      withVisit.map((u) => u.id),
      withVisit.map((u) => u.visit.eventTime),
      withVisit.map((u) => u.visit.messageTime),
      withVisit.map((u) => u.visit.messageId),
      withVisit.map((u) => JSON.stringify(u.visit)),
    ],
  );
  const rows = await db.query<{ source: string; visit_key: string; event: VisitEvent }>(
    `SELECT v.source, v.visit_key, v.event FROM hl7_visit_event v JOIN unnest($1::text[], $2::text[]) AS k(s, vk) ON v.source = k.s AND v.visit_key = k.vk ORDER BY v.inbox_id`,
    [withVisit.map((u) => u.source), withVisit.map((u) => u.visit.facts.encounterId)],
  );
  for (const r of rows.rows) {
    const key = `${r.source}|${r.visit_key}`;
    const list = byVisit.get(key) ?? [];
    list.push(r.event);
    byVisit.set(key, list);
  }
  return byVisit;
}

