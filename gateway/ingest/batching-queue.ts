import type { Logger } from 'pino';
import type { InboxQueue } from '../queue/inbox-queue';
import { dueInboxIds } from '../store/inbox';
import type { Store } from '../store/store';

/**
 * Without Redis, for intakes with a batch handler: one worker loop in this process that applies
 * whatever has been enqueued since its last batch, up to maxBatch ids at a time, in arrival order
 * (inbox-batch.ts keeps each patient's and visit's messages in that order). Batches grow with the
 * load by themselves: a quiet feed applies each message on its own as soon as it arrives; a busy
 * one applies the messages that arrived while the previous batch was being written. Every pollMs
 * it also takes what is due in the store (retries whose time has come, replays, rows a crash left
 * pending).
 */
export class BatchingInboxQueue implements InboxQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private running = false;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly applyBatch: (inboxIds: readonly string[]) => Promise<unknown>,
    private readonly logger: Logger,
    private readonly options: { pollMs?: number; maxBatch?: number } = {},
  ) {
    this.timer = setInterval(() => {
      void this.poll();
    }, options.pollMs ?? 1000).unref();
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    try {
      for (const id of await dueInboxIds(this.store.engine, 500)) this.push(id);
    } catch (err) {
      this.logger.warn({ err }, 'inbox poll failed');
    }
  }

  private push(id: string): void {
    if (this.closed || this.queued.has(id)) return;
    this.queued.add(id);
    this.waiting.push(id);
    if (!this.running) this.idle = this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0 && !this.closed) {
        // Arrival order is inbox id order; the poll can add older ids after newer ones (and
        // dueInboxIds orders ids as text), so the whole waiting list is put back in id order first.
        this.waiting.sort((a, b) => Number(a) - Number(b));
        const batch = this.waiting.splice(0, this.options.maxBatch ?? 200);
        try {
          await this.applyBatch(batch);
        } catch (err) {
          this.logger.error({ err, items: batch.length }, 'inbox batch worker error');
        } finally {
          for (const id of batch) this.queued.delete(id);
        }
      }
    } finally {
      this.running = false;
    }
  }

  enqueue(inboxId: string): Promise<void> {
    this.push(inboxId);
    return Promise.resolve();
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
    clearInterval(this.timer);
    await this.idle;
  }
}
