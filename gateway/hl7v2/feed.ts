import { Counter, type Registry } from 'prom-client';
import type { MllpServer } from '../../adapters/hl7v2/mllp-server';
import { loadFhirDefinitions } from '../fhir/definitions';
import type { Logger } from '../logger';
import type { InboxHandler } from '../ingest/inbox-processor';
import { BullMqInboxQueue } from '../queue/bullmq-queue';
import { processInboxBatch } from '../ingest/inbox-batch';
import { BatchingInboxQueue } from '../ingest/batching-queue';
import type { InboxQueue } from '../queue/inbox-queue';
import { EngineKind } from '../store/engine';
import type { Store } from '../store/store';
import { applicabilityCheck, hl7InboxHandler } from './apply';
import { ApplicationAckDispatcher, type ApplicationAckOptions } from './application-ack';
import { hl7BatchHandler } from './apply-batch';
import { IntakeMappings } from './intake-mappings';
import { HL7_INBOX_KIND, Hl7Intake } from './intake';
import { mllpTlsFromEnv, startMllpListener } from './mllp-listener';
import { loadSenderDirectory, type DeclaredSenders } from './senders';

export interface Hl7Feed {
  readonly intake: Hl7Intake;
  readonly mllpPort?: number;
  /** The queue the inbox workers take from (other intakes enqueue their rows here too). */
  readonly queue: InboxQueue;
  /** Ids waiting for a worker in this process (in-process queue) or in Redis. */
  queueDepth(): Promise<number>;
  close(): Promise<void>;
}

/** A queue that only records: a process without workers and without Redis leaves rows to a worker's poll. */
const pollOnlyQueue: InboxQueue = { enqueue: () => Promise.resolve(), depth: () => Promise.resolve(0), close: () => Promise.resolve() };

/**
 * The hospital feed in one process: the intake (shared by MLLP and POST /hl7v2), the MLLP listener
 * when this process takes MLLP, and the workers that apply the inbox when this process works.
 * Without Redis the workers are in-process; with REDIS_URL they are BullMQ workers.
 */
export async function startHl7Feed(options: {
  store: Store;
  logger: Logger;
  registry: Registry;
  redisUrl?: string;
  listenMllp: boolean;
  mllpPort: number;
  runWorkers: boolean;
  /** The directory's systems: each sender they declare is kept under its system's source. */
  declaredSenders?: readonly DeclaredSenders[];
  /** Handlers of other intakes' inbox kinds (FHIR bundles, GP records), applied by the same workers. */
  otherHandlers?: Readonly<Record<string, InboxHandler>>;
  /** Retry and polling settings of the application ACK sender (tests shorten them). */
  applicationAck?: ApplicationAckOptions;
  /**
   * Called once this process's worker has committed what it applied (an item or a round), so the
   * notification dispatcher in the same process looks at the outbox now instead of at its next poll.
   */
  onApplied?: () => void;
}): Promise<Hl7Feed> {
  const { store, logger } = options;
  // The worker indexes what it writes by the FHIR definitions: loaded now (as server.ts does), not by
  // the first message applied, whose batch would otherwise hold the event loop, and every sender's
  // ACK, for the second or so loading takes.
  if (options.runWorkers) loadFhirDefinitions();
  const senders = loadSenderDirectory(process.env, options.declaredSenders);
  const handlers = { ...options.otherHandlers, [HL7_INBOX_KIND]: hl7InboxHandler(senders) };
  const applied = <T>(result: T): T => {
    options.onApplied?.();
    return result;
  };
  // The workers apply what has arrived in batches (one transaction per round; see inbox-batch.ts).
  // PGlite runs one transaction at a time, so the intake's inbox commits wait for a whole batch: smaller batches there.
  const maxBatch = store.engine.kind === EngineKind.PGLITE ? 16 : 64;
  const batching = (mappings: IntakeMappings | undefined, poll: boolean): BatchingInboxQueue => {
    const batchHandler = hl7BatchHandler(senders, mappings);
    const applyBatch = (ids: readonly string[]): Promise<unknown> => processInboxBatch(store, ids, HL7_INBOX_KIND, batchHandler, handlers, { logger }).then(applied);
    return new BatchingInboxQueue(store, applyBatch, logger, { maxBatch, poll });
  };
  let queue: InboxQueue;
  let intakeMappings: IntakeMappings | undefined;
  let bullBatches: BatchingInboxQueue | undefined;
  if (options.redisUrl) {
    const bull = new BullMqInboxQueue(options.redisUrl, store, logger);
    if (options.runWorkers) {
      // Twice as many jobs at once as a batch holds: the jobs taken while a batch is written make the
      // next one whole (with only a batch's worth, batches would alternate n and 64 − n).
      // Rows may be another process's, so there is no intake mapping to take over: each is mapped from its content.
      const batches = batching(undefined, false);
      bullBatches = batches;
      bull.startWorkers((id) => batches.applyNow(id), { concurrency: 2 * maxBatch });
    }
    queue = bull;
  } else {
    // The worker is in this process: it takes the intake's mapping of each row it stored instead of mapping it again.
    if (options.runWorkers) intakeMappings = new IntakeMappings();
    queue = options.runWorkers ? batching(intakeMappings, true) : pollOnlyQueue;
  }
  const messages = new Counter({ name: 'carebridge_hl7_messages_total', help: 'HL7v2 messages by sender, acknowledgement code and duplicate', labelNames: ['sender', 'ack', 'duplicate'], registers: [options.registry] });
  const intake = new Hl7Intake({
    store,
    queue,
    senders,
    logger,
    check: intakeMappings?.check ?? applicabilityCheck,
    onStored: intakeMappings?.stored,
    onOutcome: (o) => messages.inc({ sender: o.sender, ack: o.code, duplicate: String(o.duplicate) }),
  });
  // Where rows are applied, their enhanced-mode application ACKs are sent from (any number of processes may).
  const applicationAcks = options.runWorkers ? new ApplicationAckDispatcher(store.engine, senders, logger, options.applicationAck) : undefined;
  applicationAcks?.start();
  let mllp: MllpServer | undefined;
  let mllpPort: number | undefined;
  if (options.listenMllp) {
    const started = await startMllpListener(intake, { port: options.mllpPort, tls: mllpTlsFromEnv() }, logger);
    mllp = started.server;
    mllpPort = started.address.port;
  }
  return {
    intake,
    mllpPort,
    queue,
    queueDepth: () => queue.depth(),
    async close(): Promise<void> {
      await mllp?.close();
      await queue.close();
      await bullBatches?.close();
      await applicationAcks?.close();
    },
  };
}
