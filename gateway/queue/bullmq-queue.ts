import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import type { Logger } from 'pino';
import { dueInboxIds } from '../store/inbox';
import type { Store } from '../store/store';
import type { InboxQueue } from './inbox-queue';

export const INBOX_QUEUE_NAME = 'carebridge-inbox';

/**
 * With REDIS_URL: BullMQ carries inbox row ids (never patient data) to workers in any process
 * (`carebridge serve --role worker`). Retries and dead-lettering stay in the inbox rows, so the
 * queue holds nothing that cannot be rebuilt: processes with workers re-enqueue due rows on start
 * and every pollMs. The job id is the row id, so an id already queued is not queued twice.
 */
export class BullMqInboxQueue implements InboxQueue {
  private readonly connection: IORedis;
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private workerConnection: IORedis | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    redisUrl: string,
    private readonly store: Store,
    private readonly logger: Logger,
  ) {
    this.connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
    this.queue = new Queue(INBOX_QUEUE_NAME, { connection: this.connection, defaultJobOptions: { removeOnComplete: 1000, removeOnFail: 1000 } });
  }

  /** Runs workers in this process: `apply` returns when the row is done, failed, retried or dead. */
  startWorkers(apply: (inboxId: string) => Promise<unknown>, options: { concurrency?: number; pollMs?: number } = {}): void {
    // BullMQ does not close a connection it was given: we keep it to close it ourselves.
    this.workerConnection = this.connection.duplicate({ maxRetriesPerRequest: null });
    this.worker = new Worker(
      INBOX_QUEUE_NAME,
      async (job) => {
        await apply((job.data as { inboxId: string }).inboxId);
      },
      { connection: this.workerConnection, concurrency: options.concurrency ?? 4 },
    );
    this.worker.on('error', (err) => this.logger.warn({ err }, 'BullMQ worker error'));
    const requeue = async (): Promise<void> => {
      try {
        for (const id of await dueInboxIds(this.store.engine, 1000)) await this.enqueue(id);
      } catch (err) {
        this.logger.warn({ err }, 'inbox re-enqueue failed');
      }
    };
    void requeue();
    this.timer = setInterval(() => void requeue(), options.pollMs ?? 5000).unref();
  }

  async enqueue(inboxId: string): Promise<void> {
    // A finished job with the same id would block a re-run (a replay, a retry): remove it first.
    const existing = await this.queue.getJob(`inbox-${inboxId}`);
    if (existing && ((await existing.isCompleted()) || (await existing.isFailed()))) await existing.remove();
    await this.queue.add('apply', { inboxId }, { jobId: `inbox-${inboxId}` });
  }

  async depth(): Promise<number> {
    return this.queue.count();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.worker?.close();
    await this.queue.close();
    this.workerConnection?.disconnect();
    this.connection.disconnect();
  }
}
