import type { AckError } from '../../adapters/hl7v2/ack';
import type { ParsedHl7 } from '../../adapters/hl7v2/types';
import type { Hl7MappingResult } from '../../mappings/hl7v2/map-message';
import type { InboxItem } from '../ingest/inbox-processor';
import { mapForSender, mappingErrors } from './apply';
import type { Hl7Sender } from './senders';

/**
 * The intake maps every message once to decide AA or AE; the in-process worker needs the same
 * mapping to apply it. This hands the intake's mapping to the worker of the same process instead
 * of parsing and mapping the row again. It is only a memo: the inbox row stays the truth, and a
 * row the memo does not hold (after a restart, a replay, a retry, another process's row, or one
 * evicted) is parsed and mapped from its content as before. A memo is used only for the row it
 * was made for, with the same content and the same received time the row holds, and only once.
 * The mapping is pure (ARCHITECTURE.md §3), so the worker gets exactly what mapping the row again
 * would give.
 */
export interface KeptMapping {
  readonly sender: Hl7Sender;
  readonly result: Hl7MappingResult;
}

interface Kept extends KeptMapping {
  readonly content: Buffer;
  readonly receivedAt: string;
}

export class IntakeMappings {
  /** Mappings made by check(), until the intake has stored (or dropped) their message. */
  private readonly checked = new WeakMap<ParsedHl7, { sender: Hl7Sender; receivedAt: string; result: Hl7MappingResult }>();
  /** Stored rows waiting for the worker, oldest first (Map keeps insertion order). */
  private readonly kept = new Map<string, Kept>();
  private hits = 0;
  private misses = 0;

  /**
   * `limit`: rows held at most (a mapping is some kilobytes of objects: 2,000 is tens of MB when the
   * worker is far behind); the oldest is dropped first, and the worker then maps that row itself.
   */
  constructor(private readonly limit = 2_000) {}

  /** The intake's check (Hl7IntakeOptions.check): the mapping's errors, and the mapping kept for stored(). */
  readonly check = (message: ParsedHl7, sender: Hl7Sender, receivedAt: Date): AckError[] => {
    const at = receivedAt.toISOString();
    const result = mapForSender(message, sender, at);
    this.checked.set(message, { sender, receivedAt: at, result });
    return mappingErrors(result);
  };

  /** The intake committed `message` as a new pending row `inboxId` (Hl7IntakeOptions.onStored). */
  readonly stored = (inboxId: string, message: ParsedHl7, content: Buffer): void => {
    const checked = this.checked.get(message);
    if (!checked) return;
    this.checked.delete(message);
    this.kept.set(inboxId, { ...checked, content });
    while (this.kept.size > this.limit) {
      const oldest = this.kept.keys().next().value;
      if (oldest === undefined) break;
      this.kept.delete(oldest);
    }
  };

  /** The intake's mapping of this row, once; undefined when there is none for exactly this row. */
  take(item: InboxItem): KeptMapping | undefined {
    const kept = this.kept.get(item.id);
    if (kept) this.kept.delete(item.id);
    if (!kept || kept.receivedAt !== item.receivedAt?.toISOString() || !kept.content.equals(item.content)) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return { sender: kept.sender, result: kept.result };
  }

  /** Rows held, and how many rows the worker took a mapping for or mapped itself (tests, metrics). */
  stats(): { held: number; hits: number; misses: number } {
    return { held: this.kept.size, hits: this.hits, misses: this.misses };
  }
}
