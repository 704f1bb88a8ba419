import type { Logger } from 'pino';
import { completeInboxItem, inboxEntry, readInboxContent, retryInboxItem, InboxStatus } from '../store/inbox';
import type { Store } from '../store/store';

/**
 * Applying one inbox row: the handler for its kind maps and writes it. A malformed input is a
 * PermanentInputError and is never retried; anything else (a database hiccup, a lost connection)
 * is retried with exponential backoff, and after the last attempt the row is dead: kept, listed by
 * `carebridge dlq list`, and replayable.
 */
export class PermanentInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentInputError';
  }
}

export interface InboxItem {
  readonly id: string;
  readonly source: string;
  readonly kind: string;
  readonly content: Buffer;
  /** When the row was accepted (filled by the batch path; the per-item path leaves it to the handler). */
  readonly receivedAt?: Date;
}

/** Applies one item; resolves with what to remember in the row's outcome. */
export type InboxHandler = (item: InboxItem, store: Store) => Promise<Record<string, unknown>>;

export interface ProcessOptions {
  maxAttempts?: number;
  /** Backoff base: attempt n waits base × 2^(n-1). */
  backoffMs?: number;
  now?: () => Date;
  logger?: Logger;
}

export type ProcessResult = 'done' | 'failed' | 'retry' | 'dead' | 'skipped';

export const DEFAULT_MAX_ATTEMPTS = 6;

/** Only input we know to be malformed is final; any other failure may pass on another attempt. */
function isRetryable(err: unknown): boolean {
  return !(err instanceof PermanentInputError);
}

export async function processInboxItem(store: Store, id: string, handlers: Readonly<Record<string, InboxHandler>>, options: ProcessOptions = {}): Promise<ProcessResult> {
  const entry = await inboxEntry(store.engine, id);
  if (!entry || (entry.status !== InboxStatus.PENDING && entry.status !== InboxStatus.RETRY)) return 'skipped';
  const handler = handlers[entry.kind];
  if (!handler) {
    await completeInboxItem(store.engine, id, InboxStatus.FAILED, {}, `No handler for inbox kind '${entry.kind}'`);
    return 'failed';
  }
  const content = await readInboxContent(store.engine, id);
  try {
    const outcome = await handler({ id, source: entry.source, kind: entry.kind, content: content ?? Buffer.alloc(0) }, store);
    await completeInboxItem(store.engine, id, InboxStatus.DONE, outcome);
    return 'done';
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!isRetryable(err)) {
      await completeInboxItem(store.engine, id, InboxStatus.FAILED, {}, message);
      options.logger?.warn({ inboxId: id, kind: entry.kind }, 'inbox item failed permanently');
      return 'failed';
    }
    const attempts = entry.attempts + 1;
    if (attempts >= (options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)) {
      await completeInboxItem(store.engine, id, InboxStatus.DEAD, {}, message);
      options.logger?.error({ inboxId: id, kind: entry.kind, attempts }, 'inbox item dead after its last attempt');
      return 'dead';
    }
    const delay = (options.backoffMs ?? 500) * 2 ** (attempts - 1);
    const now = options.now?.() ?? new Date();
    await retryInboxItem(store.engine, id, message, new Date(now.getTime() + delay));
    options.logger?.warn({ inboxId: id, kind: entry.kind, attempts, delayMs: delay }, 'inbox item will be retried');
    return 'retry';
  }
}
