import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import type { Logger } from 'pino';
import type { BatchResult } from './delivery';

/**
 * Carries delivery ids (never content) to whatever sends them. The rows are the truth: a queue
 * that loses its contents loses nothing, because overdue lane heads are re-enqueued by a poll.
 */
export interface DeliveryQueue {
  enqueue(ids: readonly string[], delayMs?: number): Promise<void>;
  /** Ids waiting in this queue (for status and metrics). */
  depth(): Promise<number>;
  close(): Promise<void>;
}

export type BatchProcessor = (ids: readonly string[]) => Promise<BatchResult>;

const BATCH = 128;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Without Redis: batches of ids sent by up to `concurrency` batches at once in this process. */
export class InProcessDeliveryQueue implements DeliveryQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private active = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly processBatch: BatchProcessor,
    private readonly logger: Logger,
    private readonly concurrency = 16,
    private readonly batchSize = BATCH,
  ) {}

  enqueue(ids: readonly string[], delayMs = 0): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (delayMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.enqueue(ids);
      }, delayMs);
      timer.unref();
      this.timers.add(timer);
      return Promise.resolve();
    }
    for (const id of ids) {
      if (this.queued.has(id)) continue;
      this.queued.add(id);
      this.waiting.push(id);
    }
    this.pump();
    return Promise.resolve();
  }

  private pump(): void {
    while (!this.closed && this.active < this.concurrency && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.batchSize);
      for (const id of batch) this.queued.delete(id);
      this.active++;
      void this.run(batch);
    }
    if (this.active === 0 && this.waiting.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async run(batch: string[]): Promise<void> {
    try {
      const result = await this.processBatch(batch);
      if (result.next.length > 0) void this.enqueue(result.next);
      for (const later of result.later) void this.enqueue([later.id], later.delayMs);
    } catch (err) {
      // The rows stay as they were (or leased): the overdue poll hands them back.
      this.logger.error({ err }, 'notification batch failed');
    } finally {
      this.active--;
      this.pump();
    }
  }

  depth(): Promise<number> {
    return Promise.resolve(this.waiting.length + this.active);
  }

  /** Resolves when nothing is waiting or being sent (retries scheduled for later do not count). */
  settled(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting.length = 0;
    while (this.active > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const QUEUE_NAME = 'carebridge-notify';

/** With REDIS_URL: BullMQ jobs of delivery ids, for workers in any process; retries are delayed jobs. */
export class BullMqDeliveryQueue implements DeliveryQueue {
  private readonly connection: IORedis;
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private workerConnection: IORedis | undefined;

  constructor(
    redisUrl: string,
    private readonly logger: Logger,
  ) {
    this.connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection, defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000 } });
  }

  startWorkers(processBatch: BatchProcessor, concurrency = 16): void {
    this.workerConnection = this.connection.duplicate({ maxRetriesPerRequest: null });
    this.worker = new Worker(
      QUEUE_NAME,
      async (job) => {
        const result = await processBatch((job.data as { ids: string[] }).ids);
        if (result.next.length > 0) await this.enqueue(result.next);
        for (const later of result.later) await this.enqueue([later.id], later.delayMs);
      },
      { connection: this.workerConnection, concurrency },
    );
    this.worker.on('error', (err) => this.logger.warn({ err }, 'BullMQ notification worker error'));
  }

  async enqueue(ids: readonly string[], delayMs = 0): Promise<void> {
    if (ids.length === 0) return;
    await this.queue.addBulk(chunks(ids, BATCH).map((c) => ({ name: 'deliver', data: { ids: c }, opts: delayMs > 0 ? { delay: delayMs } : {} })));
  }

  async depth(): Promise<number> {
    return this.queue.count();
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    this.workerConnection?.disconnect();
    this.connection.disconnect();
  }
}
