import type { Logger } from 'pino';
import { dueInboxIds } from '../store/inbox';
import type { Store } from '../store/store';
import type { InboxQueue } from './inbox-queue';

/**
 * Without Redis: one worker loop in this process applies rows in arrival order. It takes ids as
 * they are enqueued and, every pollMs, whatever is due in the store (retries whose time has come,
 * rows replayed from the command line, rows left pending by a crash).
 */
export class InProcessInboxQueue implements InboxQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private running = false;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly apply: (inboxId: string) => Promise<unknown>,
    private readonly logger: Logger,
    pollMs = 1000,
  ) {
    this.timer = setInterval(() => {
      void this.poll();
    }, pollMs).unref();
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
      for (let id = this.waiting.shift(); id !== undefined; id = this.waiting.shift()) {
        try {
          await this.apply(id);
        } catch (err) {
          this.logger.error({ err, inboxId: id }, 'inbox worker error');
        } finally {
          this.queued.delete(id);
        }
        if (this.closed) break;
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
