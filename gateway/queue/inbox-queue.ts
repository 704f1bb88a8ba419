/**
 * Moves inbox row ids to the worker that applies them. The inbox in the store is the truth: a
 * queue only carries ids, so a queue that loses its contents (Redis restarted empty) loses
 * nothing, because every process that runs workers re-enqueues the due rows on start and on a
 * timer.
 */
export interface InboxQueue {
  /** Asks for the row to be applied soon. */
  enqueue(inboxId: string): Promise<void>;
  /** Ids waiting (for metrics). */
  depth(): Promise<number>;
  close(): Promise<void>;
}
