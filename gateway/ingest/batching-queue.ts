import type { Logger } from 'pino';
import type { InboxQueue } from '../queue/inbox-queue';
import { dueInboxIds } from '../store/inbox';
import type { Store } from '../store/store';

/**
 * The inbox worker of one process: one loop that applies whatever has been handed to it since its
 * last batch, up to maxBatch ids at a time, in arrival order (inbox-batch.ts keeps each patient's
 * and visit's messages in that order, and its locks keep other processes' batches off the same
 * patients and visits). Batches grow with the load by themselves: a quiet feed applies each
 * message on its own as soon as it arrives; a busy one applies the messages that arrived while
 * the previous batch was being written.
 *
 * Ids come in two ways:
 *   - without Redis, enqueue() from the intakes of this process, and every pollMs whatever is due
 *     in the store (retries whose time has come, replays, rows a crash left pending);
 *   - with Redis, applyNow() from BullMQ jobs (bullmq-queue.ts): each job waits for the batch its
 *     row went into, so a worker running many jobs at once applies them as one batch. BullMQ
 *     re-enqueues what is due, so there is no poll (`poll: false`).
 */
export class BatchingInboxQueue implements InboxQueue {
  private readonly waiting: string[] = [];
  /** Ids waiting or being applied, with the callers of applyNow() waiting for each. */
  private readonly queued = new Map<string, (() => void)[]>();
  private running = false;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly applyBatch: (inboxIds: readonly string[]) => Promise<unknown>,
    private readonly logger: Logger,
    private readonly options: { pollMs?: number; maxBatch?: number; poll?: boolean } = {},
  ) {
    if (options.poll !== false) {
      this.timer = setInterval(() => {
        void this.poll();
      }, options.pollMs ?? 1000).unref();
      void this.poll();
    }
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    try {
      for (const id of await dueInboxIds(this.store.engine, 500)) this.push(id);
    } catch (err) {
      this.logger.warn({ err }, 'inbox poll failed');
    }
  }

  private push(id: string, done?: () => void): void {
    if (this.closed) {
      done?.();
      return;
    }
    const waiters = this.queued.get(id);
    if (waiters) {
      if (done) waiters.push(done);
      return;
    }
    this.queued.set(id, done ? [done] : []);
    this.waiting.push(id);
    if (!this.running) this.idle = this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0 && !this.closed) {
        // Arrival order is inbox id order; the poll (or Redis) can hand over older ids after newer
        // ones, so the whole waiting list is put back in id order first.
        this.waiting.sort((a, b) => Number(a) - Number(b));
        const batch = this.waiting.splice(0, this.options.maxBatch ?? 200);
        try {
          await this.applyBatch(batch);
        } catch (err) {
          this.logger.error({ err, items: batch.length }, 'inbox batch worker error');
        } finally {
          for (const id of batch) this.finish(id);
        }
      }
    } finally {
      this.running = false;
      // Closed with ids still waiting: their callers are not left hanging (the rows stay pending).
      if (this.closed) this.release();
    }
  }

  /** The id is no longer queued: whoever waits for it is told. */
  private finish(id: string): void {
    for (const done of this.queued.get(id) ?? []) done();
    this.queued.delete(id);
  }

  private release(): void {
    for (const id of this.waiting.splice(0)) this.finish(id);
  }

  enqueue(inboxId: string): Promise<void> {
    this.push(inboxId);
    return Promise.resolve();
  }

  /**
   * Hands the row to the next batch and resolves once that batch has been applied, whatever its
   * outcome: the row itself then says done, failed, retry or dead (as processInboxItem leaves it).
   */
  applyNow(inboxId: string): Promise<void> {
    return new Promise((resolve) => {
      this.push(inboxId, resolve);
    });
  }

  depth(): Promise<number> {
    return Promise.resolve(this.waiting.length);
  }

  /** Resolves when everything enqueued so far has been applied (tests, graceful stop). */
  async settled(): Promise<void> {
    while (this.running || this.waiting.length > 0) await this.idle;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.idle;
    this.release();
  }
}
