import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { Interaction, type AuditHook, type AuditRecord } from '../access/hooks';
import { EngineKind, isTransientSqlError, type SqlClient, type SqlEngine } from '../store/engine';
import { baseReference, buildAuditEvent, entryFromOperation, entryFromRecord, type AuditEntry, type OperationRecord } from './audit-event';
import { appendIfHeadIs, appendToChain, lockChainHead, readChainHead, signCheckpoint, writeCheckpoint, type AppendedEntry, type ChainHead, type Checkpoint } from './chain';
import type { CheckpointSigner } from './signing';

/**
 * The audit trail as the read path's AuditHook. `record()` resolves only once the entry is
 * committed, so the response leaves after its audit. Group commit: entries wait in a small queue
 * and one writer per process flushes them; while a transaction is in flight the entries that
 * arrive meanwhile wait and go together in the next one. A batch is one statement (chain.ts
 * appendIfHeadIs): it inserts the entries and moves the head row only if the head is still the one
 * this process last saw; if another process appended meanwhile it re-reads the head and relinks the
 * batch (after OPTIMISTIC_ATTEMPTS it takes the head row lock instead), so one PostgreSQL holds one
 * linear chain whatever the number of API processes.
 *
 * Signed checkpoints: a transaction that takes the chain `checkpointEvery` entries past the last
 * checkpoint signs one in the same transaction; a timer signs one when `checkpointIntervalMs` has
 * passed since the last and entries were added (any process may, the head row says whether it is due).
 */
export interface AuditTrailOptions {
  readonly engine: SqlEngine;
  /** This CareBridge node's name (AuditEvent.source.observer). */
  readonly node: string;
  /** Without a signer no checkpoints are written (tests of the chain alone). */
  readonly signer?: CheckpointSigner;
  readonly checkpointEvery?: number;
  readonly checkpointIntervalMs?: number;
  /** Most entries in one transaction. */
  readonly maxBatch?: number;
  readonly logger?: Logger;
  readonly clock?: () => Date;
}

interface Pending {
  readonly input: { kind: 'record'; record: AuditRecord } | { kind: 'operation'; operation: OperationRecord };
  readonly id: string;
  readonly recorded: string;
  readonly resolve: (entry: AppendedEntry) => void;
  readonly reject: (err: unknown) => void;
}

const TRANSIENT_RETRIES = 3;
/** Optimistic appends tried before falling back to the head row lock. */
const OPTIMISTIC_ATTEMPTS = 20;

export class AuditTrail implements AuditHook {
  private readonly queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The chain head as this process last left it; undefined after a conflict or error, then read again. */
  private knownHead: ChainHead | undefined;
  private readonly clock: () => Date;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  private readonly maxBatch: number;

  constructor(private readonly options: AuditTrailOptions) {
    this.clock = options.clock ?? ((): Date => new Date());
    this.checkpointEvery = options.checkpointEvery ?? 1000;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? 15 * 60_000;
    this.maxBatch = options.maxBatch ?? 500;
  }

  /** AuditHook: one read request's entry, durable when this resolves. */
  async record(entry: AuditRecord): Promise<void> {
    await this.enqueue({ kind: 'record', record: entry });
  }

  /** A named operation (break-glass, an alert review, a privacy officer's search), durable when this resolves. */
  recordOperation(operation: OperationRecord): Promise<AppendedEntry> {
    return this.enqueue({ kind: 'operation', operation });
  }

  /**
   * Appends operations inside the caller's transaction, so what they record (a grant, a review)
   * and its audit entry commit together or not at all. Bypasses the queue; the head lock still orders it.
   */
  async appendWithin(tx: SqlClient, operations: readonly OperationRecord[]): Promise<AppendedEntry[]> {
    const recorded = this.clock().toISOString();
    const events = operations.map((op) => buildAuditEvent(entryFromOperation(op, randomUUID(), recorded), this.options.node));
    return this.appendLocked(tx, events);
  }

  private enqueue(input: Pending['input']): Promise<AppendedEntry> {
    return new Promise<AppendedEntry>((resolve, reject) => {
      this.queue.push({ input, id: randomUUID(), recorded: this.clock().toISOString(), resolve, reject });
      this.flushing ??= this.flushLoop().finally(() => {
        this.flushing = undefined;
      });
    });
  }

  /** The single writer: takes whatever is queued, commits it in one transaction, repeats until empty. */
  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const appended = await this.commitBatch(batch);
        batch.forEach((p, i) => {
          p.resolve(appended[i] as AppendedEntry);
        });
      } catch (err) {
        this.options.logger?.error({ err: { code: (err as { code?: unknown }).code, message: (err as Error).message }, entries: batch.length }, 'audit batch failed: the requests are refused');
        for (const p of batch) p.reject(err);
      }
    }
  }

  private async commitBatch(batch: readonly Pending[]): Promise<AppendedEntry[]> {
    const patients = await this.patientsOfReturned(batch);
    const events = batch.map((p) => buildAuditEvent(this.entryOf(p, patients), this.options.node));
    let transient = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        if (attempt > OPTIMISTIC_ATTEMPTS) {
          // Guaranteed progress under heavy contention: take the head row lock and append behind it.
          return await this.options.engine.transaction((tx) => this.appendLocked(tx, events));
        }
        const head = this.knownHead ?? (await readChainHead(this.options.engine));
        const append = (db: SqlClient): ReturnType<typeof appendIfHeadIs> => appendIfHeadIs(db, head, events, (seq, hash) => this.checkpointFor(head, seq, hash));
        // PostgreSQL: one autocommit statement. PGlite makes a commit durable (WAL fsync) at the end of
        // a transaction or after a statement it recognises as a write, and a WITH … statement is not one.
        const done = this.options.engine.kind === EngineKind.PGLITE ? await this.options.engine.transaction(append) : await append(this.options.engine);
        if (done) {
          this.knownHead = done.head;
          return done.appended;
        }
        // Another process appended since: read the head again and rebuild the links.
        this.knownHead = undefined;
      } catch (err) {
        this.knownHead = undefined;
        if (!isTransientSqlError(err) || ++transient >= TRANSIENT_RETRIES) throw err;
      }
    }
  }

  /** The checkpoint to sign with an append that takes the chain to (seq, hash), when one is due by count. */
  private async checkpointFor(head: ChainHead, seq: number, hash: string): Promise<Checkpoint | undefined> {
    const signer = this.options.signer;
    if (!signer || seq - head.checkpointSeq < this.checkpointEvery) return undefined;
    return signCheckpoint(signer, seq, hash, this.options.node, this.clock());
  }

  private entryOf(p: Pending, patients: ReadonlyMap<string, readonly string[]>): AuditEntry {
    if (p.input.kind === 'operation') return entryFromOperation(p.input.operation, p.id, p.recorded);
    const record = p.input.record;
    const found = new Set<string>();
    for (const ref of record.returned) for (const id of patients.get(baseReference(ref)) ?? []) found.add(id);
    return entryFromRecord(record, p.id, p.recorded, [...found]);
  }

  /**
   * The patients whose data each returned resource is (the store's patient compartment), in one
   * query for the batch: a search of Observations names no patient in the request, but its entry
   * must, or the person's access report would miss it. $everything of a patient needs no lookup,
   * nor a record whose caller gave `patientIds` (which must then name every patient returned).
   */
  private async patientsOfReturned(batch: readonly Pending[]): Promise<Map<string, readonly string[]>> {
    const refs = new Set<string>();
    for (const p of batch) {
      if (p.input.kind !== 'record') continue;
      const { request, returned, patientIds } = p.input.record;
      // The caller named the patients (the access hook knows them), or $everything of a patient.
      if (patientIds !== undefined || (request.interaction === Interaction.EVERYTHING && request.patientId)) continue;
      for (const ref of returned) refs.add(baseReference(ref));
    }
    const map = new Map<string, readonly string[]>();
    if (refs.size === 0) return map;
    const types: string[] = [];
    const ids: string[] = [];
    for (const ref of refs) {
      const slash = ref.indexOf('/');
      types.push(ref.slice(0, slash));
      ids.push(ref.slice(slash + 1));
    }
    const result = await this.options.engine.query<{ t: string; i: string; patient_ids: string[] }>(
      'SELECT r.resource_type AS t, r.id AS i, r.patient_ids FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i',
      [types, ids],
    );
    for (const row of result.rows) map.set(`${row.t}/${row.i}`, row.patient_ids);
    return map;
  }

  private async appendLocked(tx: SqlClient, events: readonly AuditEvent[]): Promise<AppendedEntry[]> {
    // The group-commit writer's cached head is stale after this; it re-reads on its next conflict.
    const head = await lockChainHead(tx);
    const { head: after, appended } = await appendToChain(tx, head, events);
    const signer = this.options.signer;
    if (signer && after.seq - after.checkpointSeq >= this.checkpointEvery) await writeCheckpoint(tx, after, signer, this.options.node, this.clock());
    return appended;
  }

  /** Signs a checkpoint of the head now if entries were added since the last one (or `force` with any entries). */
  async checkpointIfDue(force = false): Promise<Checkpoint | undefined> {
    const signer = this.options.signer;
    if (!signer) return undefined;
    return this.options.engine.transaction(async (tx) => {
      const head: ChainHead = await lockChainHead(tx);
      if (head.seq === 0 || head.seq === head.checkpointSeq) return undefined;
      const now = this.clock();
      const due = force || !head.checkpointAt || now.getTime() - head.checkpointAt.getTime() >= this.checkpointIntervalMs;
      return due ? writeCheckpoint(tx, head, signer, this.options.node, now) : undefined;
    });
  }

  /** Starts the periodic checkpoint timer (checks a few times per interval; the head row says when one is due). */
  start(): void {
    if (this.timer || !this.options.signer) return;
    const period = Math.max(1000, Math.min(60_000, Math.floor(this.checkpointIntervalMs / 4)));
    this.timer = setInterval(() => {
      this.checkpointIfDue().catch((err: unknown) => this.options.logger?.warn({ err: { code: (err as { code?: unknown }).code } }, 'audit checkpoint failed; the next tick retries'));
    }, period).unref();
  }

  /** Stops the timer and waits for queued entries to be committed. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
  }
}
