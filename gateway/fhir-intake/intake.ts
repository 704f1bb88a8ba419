import type { Bundle, BundleEntry, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { sha256Hex } from '../fhir/canonical-json';
import { PermanentInputError, processInboxItem, type InboxHandler } from '../ingest/inbox-processor';
import { ingestResources } from '../ingest/ingest';
import { survivorsOf } from '../identity/merge';
import type { Logger } from '../logger';
import type { SqlClient } from '../store/engine';
import { acceptIntoInbox, inboxEntry, InboxStatus } from '../store/inbox';
import { indexedIdentifierValue } from '../store/indexer';
import { recordOutboxEvent } from '../store/outbox';
import type { Store } from '../store/store';
import type { Sensitivity } from '../../mappings/security/labels';
import { Hl7EventKind } from '../../mappings/hl7v2/tables/events';
import { RedBagEventKind } from '../../mappings/notify/topics';
import { TRANSFER_REQUEST_CATEGORY } from '../../mappings/passport/codes';
import { AcceptedBundleType } from './bundle-shape';
import { documentResources } from './document';
import { conditionalCandidates, prepareBundle, storedCandidates, type PreparedBundle, type PrepareResult } from './prepare';
import { bundleProvenance } from './provenance';

/**
 * POST /intake/fhir, without HTTP: a FHIR R4 Bundle from a system that speaks FHIR (care home
 * records, hospital eDischarge documents, mental health trusts) is checked whole, committed to the
 * inbox, applied, and answered.
 *
 *   - Refused (400 for the envelope, 422 for its content), nothing written: the OperationOutcome
 *     names the entry index and path of every problem. The refused Bundle is kept in the inbox
 *     (status failed, kind `fhir-bundle-rejected`) for the integration team.
 *   - Accepted: committed to the inbox before anything is applied or answered, then applied in the
 *     same request; the answer is a `transaction-response` Bundle (200), one entry per request
 *     entry in order, with `201 Created` or `200 OK`, the location `Type/id/_history/version` and
 *     the etag, as a FHIR server answers a transaction. Collections and documents get the same.
 *   - If applying fails for a reason that may pass (the database), the Bundle is safe in the inbox
 *     and the worker retries it: the answer is 202 with a Content-Location to poll
 *     (GET /intake/fhir/status/{id}).
 *   - The same Bundle again (same Bundle.identifier, or the same bytes when it has none) is
 *     answered as the first time and writes nothing; the same identifier with other content is 409.
 */

export const FHIR_INBOX_KIND = 'fhir-bundle';
/** How long the receiving request keeps the workers off a row it is applying itself. */
const CLAIM_SECONDS = 120;

/** A sending system: its name and the source URI everything it sends is attributed to. */
export interface SendingSystem {
  readonly system: string;
  readonly sourceUri: string;
}

export interface IntakeAnswer {
  readonly status: number;
  readonly body: Bundle | OperationOutcome;
  /** For 202: where to ask how it went. */
  readonly statusLocation?: string;
}

/** What the inbox row remembers of an applied Bundle (its outcome), from which the answer is rebuilt. */
interface AppliedOutcome {
  entries: { resourceType: string; id: string; versionId: string; created: boolean }[];
  document?: { bundle: string; documentReference: string };
}

export interface FhirIntakeOptions {
  store: Store;
  logger: Logger;
  /** Sensitivities a resource's codes imply (mappings/security sensitive-code lists); none by default. */
  sensitivitiesOf?: (resource: Resource) => readonly Sensitivity[];
  now?: () => Date;
}

const noCodeSensitivities = (): readonly Sensitivity[] => [];

function outcomeOf(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

function parseJson(raw: Buffer): { ok: true; body: unknown } | { ok: false; issue: OperationOutcomeIssue } {
  try {
    return { ok: true, body: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    // The parser's message quotes the body, which may hold patient data: say only what is wrong.
    return { ok: false, issue: { severity: 'error', code: 'invalid', details: { text: 'The body is not valid JSON' }, expression: ['Bundle'] } };
  }
}

/** Which of these ids (`Type/id`) are stored. */
async function storedIds(db: SqlClient, candidates: readonly string[]): Promise<Set<string>> {
  if (candidates.length === 0) return new Set();
  const types = candidates.map((c) => c.slice(0, c.indexOf('/')));
  const ids = candidates.map((c) => c.slice(c.indexOf('/') + 1));
  const rows = await db.query<{ resource_type: string; id: string }>(
    'SELECT r.resource_type, r.id FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i',
    [types, ids],
  );
  return new Set(rows.rows.map((r) => `${r.resource_type}/${r.id}`));
}

/** The inbox key of a Bundle: its identifier when it has one, else its bytes. */
function dedupKeyOf(body: unknown, raw: Buffer): string {
  const identifier = (body as Bundle).identifier;
  return identifier?.system && identifier.value ? `identifier|${identifier.system}|${identifier.value}` : `sha256|${sha256Hex(raw)}`;
}

/** What this source stored with each conditional reference's identifier: `Type?identifier=system|value` → `Type/id`s. */
async function storedByIdentifier(db: SqlClient, candidates: ReturnType<typeof conditionalCandidates>, sourceUri: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  if (candidates.length === 0) return found;
  const rows = await db.query<{ k: string; resource_type: string; id: string }>(
    `SELECT DISTINCT k.key AS k, r.resource_type, r.id
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k(key, rt, s, v)
       JOIN sp_token t ON t.resource_type = k.rt AND t.code = 'identifier' AND t.value = k.v AND t.system = k.s
       JOIN resource r ON r.resource_type = t.resource_type AND r.id = t.resource_id
      WHERE r.content->'meta'->>'source' = $5
      ORDER BY k.key, r.resource_type, r.id`,
    [candidates.map((c) => c.key), candidates.map((c) => c.resourceType), candidates.map((c) => c.system), candidates.map((c) => indexedIdentifierValue(c.system, c.value)), sourceUri],
  );
  // A Patient the system merged into another stands for the one that survived (as a FHIR server's
  // search of an identifier the two share should give one person): the reference goes there.
  const survivors = await survivorsOf(db, rows.rows.map((r) => `${r.resource_type}/${r.id}`));
  for (const row of rows.rows) {
    const ref = `${row.resource_type}/${row.id}`;
    const to = survivors.get(ref) ?? ref;
    const already = found.get(row.k) ?? [];
    if (!already.includes(to)) found.set(row.k, [...already, to]);
  }
  return found;
}

async function prepare(db: SqlClient, body: unknown, sourceUri: string, sensitivitiesOf: (resource: Resource) => readonly Sensitivity[]): Promise<PrepareResult> {
  const stored = await storedIds(db, storedCandidates(body, sourceUri));
  return prepareBundle(body, { sourceUri, stored, storedByIdentifier: await storedByIdentifier(db, conditionalCandidates(body), sourceUri), sensitivitiesOf });
}

/**
 * Outbox events of a FHIR Bundle, committed with it (the outbox's own contract), for what other
 * parts act on: a discharge summary document (`document`, as for HL7 MDM; the red bag follows it)
 * and a care home's transfer request (the red bag issues a transfer passport from it). Only for
 * what this Bundle changed: the same Bundle again writes no event.
 */
async function recordIntakeEvents(tx: SqlClient, input: { inboxId: string; source: string; resources: readonly Resource[]; written: readonly { resourceType: string; id: string; changed: boolean }[]; eventTime: string }): Promise<void> {
  const changed = new Set(input.written.filter((w) => w.changed).map((w) => `${w.resourceType}/${w.id}`));
  const patientOf = (reference: string | undefined): string | undefined => (reference?.startsWith('Patient/') ? reference.slice('Patient/'.length) : undefined);
  const events: { kind: string; patientId: string; encounterId: string; payload: Record<string, unknown> }[] = [];
  for (const r of input.resources) {
    if (!changed.has(`${r.resourceType}/${r.id ?? ''}`)) continue;
    if (r.resourceType === 'Composition') {
      const patientId = patientOf(r.subject?.reference);
      const encounter = r.encounter?.reference?.startsWith('Encounter/') ? r.encounter.reference.slice('Encounter/'.length) : '';
      if (patientId) events.push({ kind: Hl7EventKind.DOCUMENT, patientId, encounterId: encounter, payload: { composition: `Composition/${r.id ?? ''}`, changedState: false } });
    }
    if (r.resourceType === 'ServiceRequest' && (r.category ?? []).some((c) => (c.coding ?? []).some((k) => k.system === TRANSFER_REQUEST_CATEGORY.system && k.code === TRANSFER_REQUEST_CATEGORY.code))) {
      const patientId = patientOf(r.subject.reference);
      if (patientId) events.push({ kind: RedBagEventKind.TRANSFER_REQUESTED, patientId, encounterId: '', payload: { serviceRequest: `ServiceRequest/${r.id ?? ''}`, entries: input.resources.map((e) => `${e.resourceType}/${e.id ?? ''}`), changedState: true } });
    }
  }
  for (const e of events) await recordOutboxEvent(tx, { ...e, source: input.source, inboxId: input.inboxId, eventTime: input.eventTime });
}

/** The transaction-response for an applied Bundle. */
export function transactionResponse(applied: AppliedOutcome): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: applied.entries.map(
      (e): BundleEntry => ({
        response: { status: e.created ? '201 Created' : '200 OK', location: `${e.resourceType}/${e.id}/_history/${e.versionId}`, etag: `W/"${e.versionId}"` },
      }),
    ),
  };
}

export class FhirIntake {
  private readonly sensitivitiesOf: (resource: Resource) => readonly Sensitivity[];

  constructor(private readonly options: FhirIntakeOptions) {
    this.sensitivitiesOf = options.sensitivitiesOf ?? noCodeSensitivities;
  }

  /**
   * The inbox handler (for the workers): prepares the stored Bundle again and writes it. In the
   * request that received it, the Bundle was just prepared: `alreadyPrepared` spares doing it twice.
   */
  handler(alreadyPrepared?: { inboxId: string; prepared: PreparedBundle }): InboxHandler {
    return async (item, store) => {
      const entry = await inboxEntry(store.engine, item.id);
      const accepted = (entry?.outcome ?? {}) as { system?: string; receivedAt?: string };
      let prepared: PreparedBundle;
      if (alreadyPrepared?.inboxId === item.id) {
        prepared = alreadyPrepared.prepared;
      } else {
        const parsed = parseJson(item.content);
        if (!parsed.ok) throw new PermanentInputError(parsed.issue.details?.text ?? 'not JSON');
        const result = await prepare(store.engine, parsed.body, item.source, this.sensitivitiesOf);
        if (!result.ok) throw new PermanentInputError(result.issues.map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? ''}`).join('; '));
        prepared = result.prepared;
      }
      const document = prepared.type === AcceptedBundleType.DOCUMENT ? documentResources(prepared, item.source) : undefined;
      const toWrite: Resource[] = [...prepared.resources, ...(document ? [document.bundle, document.documentReference] : [])];
      const { written } = await ingestResources(store, toWrite, {
        inTransaction: (tx, done) => recordIntakeEvents(tx, { inboxId: item.id, source: item.source, resources: prepared.resources, written: done, eventTime: accepted.receivedAt ?? new Date().toISOString() }),
        provenance: (changed) =>
          changed.length > 0
            ? bundleProvenance({ sourceUri: item.source, system: accepted.system ?? item.source, bundleKey: entry?.dedupKey ?? item.id, bundleType: prepared.type, receivedAt: accepted.receivedAt ?? new Date().toISOString(), changed })
            : undefined,
      });
      const byKey = new Map(written.map((w) => [`${w.resourceType}/${w.id}`, w]));
      const applied: AppliedOutcome = {
        entries: prepared.entries.map((p) => {
          const w = byKey.get(`${p.resourceType}/${p.id}`);
          return { resourceType: p.resourceType, id: p.id, versionId: w?.versionId ?? '1', created: w?.changed === true && w.versionId === '1' };
        }),
        ...(document ? { document: { bundle: `Bundle/${document.bundle.id}`, documentReference: `DocumentReference/${document.documentReference.id}` } } : {}),
      };
      return { applied };
    };
  }


  async receive(raw: Buffer, system: SendingSystem): Promise<IntakeAnswer> {
    const { store, logger } = this.options;
    const receivedAt = (this.options.now?.() ?? new Date()).toISOString();
    const parsed = parseJson(raw);
    if (!parsed.ok) {
      await this.keepRejected(raw, system, parsed.issue.details?.text ?? '');
      return { status: 400, body: outcomeOf([parsed.issue]) };
    }
    const result = await prepare(store.engine, parsed.body, system.sourceUri, this.sensitivitiesOf);
    if (!result.ok) {
      await this.keepRejected(raw, system, `${String(result.issues.length)} problem(s), first at ${result.issues[0]?.expression?.[0] ?? 'Bundle'}`);
      logger.info({ system: system.system, status: result.status, problems: result.issues.length }, 'FHIR bundle refused');
      return { status: result.status, body: outcomeOf(result.issues) };
    }
    const accepted = await acceptIntoInbox(store.engine, {
      source: system.sourceUri,
      kind: FHIR_INBOX_KIND,
      dedupKey: dedupKeyOf(parsed.body, raw),
      content: raw,
      outcome: { system: system.system, receivedAt, bundleType: result.prepared.type },
    });
    if (accepted.accepted === 'conflict') {
      return { status: 409, body: outcomeOf([{ severity: 'error', code: 'duplicate', details: { text: 'Bundle.identifier was already used by this system for a different Bundle' }, expression: ['Bundle.identifier'] }]) };
    }
    const inboxId = accepted.item.id;
    if (accepted.accepted === 'new') {
      // This request applies the row now: keep the workers' poll (which takes due rows) off it
      // meanwhile. If this process dies first, the row falls due later and a worker applies it.
      await store.engine.query(`UPDATE inbox SET not_before = now() + interval '${String(CLAIM_SECONDS)} seconds' WHERE id = $1::bigint AND status = 'pending'`, [inboxId]);
      const processed = await processInboxItem(store, inboxId, { [FHIR_INBOX_KIND]: this.handler({ inboxId, prepared: result.prepared }) }, { logger });
      logger.info({ system: system.system, inboxId, processed, entries: result.prepared.entries.length }, 'FHIR bundle received');
    }
    return this.answerFor(inboxId);
  }

  /** The answer for an inbox row: its transaction-response once applied, else 202 (or its failure). */
  async answerFor(inboxId: string, sourceUri?: string): Promise<IntakeAnswer> {
    const entry = await inboxEntry(this.options.store.engine, inboxId);
    const statusLocation = `/intake/fhir/status/${inboxId}`;
    // A system sees only its own Bundles.
    if (!entry || entry.kind !== FHIR_INBOX_KIND || (sourceUri !== undefined && entry.source !== sourceUri)) return { status: 404, body: outcomeOf([{ severity: 'error', code: 'not-found', details: { text: `No FHIR bundle ${inboxId}` } }]) };
    const applied = (entry.outcome as { applied?: AppliedOutcome } | null)?.applied;
    if (entry.status === InboxStatus.DONE && applied) return { status: 200, body: transactionResponse(applied) };
    if (entry.status === InboxStatus.FAILED || entry.status === InboxStatus.DEAD) {
      return { status: 422, body: outcomeOf([{ severity: 'error', code: 'processing', details: { text: `The Bundle could not be applied (inbox ${inboxId}, ${entry.status}); the integration team can see why` } }]) };
    }
    return {
      status: 202,
      statusLocation,
      body: outcomeOf([{ severity: 'information', code: 'informational', details: { text: `Accepted and stored (inbox ${inboxId}); it will be applied shortly. Ask ${statusLocation}` } }]),
    };
  }

  private async keepRejected(raw: Buffer, system: SendingSystem, reason: string): Promise<void> {
    try {
      await acceptIntoInbox(this.options.store.engine, {
        source: system.sourceUri,
        kind: `${FHIR_INBOX_KIND}-rejected`,
        dedupKey: sha256Hex(raw),
        content: raw,
        status: InboxStatus.FAILED,
        outcome: { system: system.system },
        error: reason,
      });
    } catch (err) {
      this.options.logger.warn({ err, system: system.system }, 'could not keep a refused FHIR bundle');
    }
  }
}
