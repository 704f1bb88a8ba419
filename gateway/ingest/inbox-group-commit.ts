import { acceptIntoInbox, acceptManyIntoInbox, type AcceptResult, type InboxInput } from '../store/inbox';
import type { SqlClient } from '../store/engine';

/**
 * Group commit for the inbox: inputs that arrive while an insert is in flight are inserted
 * together, in one statement and one commit, as soon as it returns. A quiet intake inserts each
 * input at once, as before (nothing waits for company); a busy one (8 senders each waiting for
 * its ACK) does one commit for the several inputs that came in meanwhile, instead of one each.
 *
 * Each accept() still resolves only once its own row is committed, with exactly what
 * acceptIntoInbox would have answered. If a group's statement fails, its inputs are inserted one
 * by one, so one input's failure is its own.
 */
const MAX_GROUP = 64;

interface Waiting {
  readonly input: InboxInput;
  resolve(result: AcceptResult): void;
  reject(err: unknown): void;
}

export class InboxGroupCommit {
  private readonly waiting: Waiting[] = [];
  private flushing = false;
  private groups = 0;
  private inputs = 0;

  constructor(private readonly db: SqlClient) {}

  accept(input: InboxInput): Promise<AcceptResult> {
    return new Promise<AcceptResult>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Statements issued and inputs accepted through them (tests, metrics). */
  stats(): { groups: number; inputs: number } {
    return { groups: this.groups, inputs: this.inputs };
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.takeGroup();
        this.groups++;
        this.inputs += group.length;
        if (group.length === 1) {
          await this.one(group[0] as Waiting);
          continue;
        }
        let results: AcceptResult[] | undefined;
        try {
          results = await acceptManyIntoInbox(
            this.db,
            group.map((w) => w.input),
          );
        } catch {
          // Nothing of the group was committed (one statement): each on its own, so a failure is only its own.
          for (const w of group) await this.one(w);
          continue;
        }
        group.forEach((w, n) => {
          w.resolve(results[n] as AcceptResult);
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Up to MAX_GROUP waiting inputs in arrival order, a key at most once (a repeat waits for the next group). */
  private takeGroup(): Waiting[] {
    const group: Waiting[] = [];
    const keys = new Set<string>();
    for (let n = 0; n < this.waiting.length && group.length < MAX_GROUP; ) {
      const w = this.waiting[n] as Waiting;
      const key = JSON.stringify([w.input.source, w.input.kind, w.input.dedupKey]);
      if (keys.has(key)) {
        n++;
        continue;
      }
      keys.add(key);
      group.push(w);
      this.waiting.splice(n, 1);
    }
    return group;
  }

  private async one(w: Waiting): Promise<void> {
    try {
      w.resolve(await acceptIntoInbox(this.db, w.input));
    } catch (err) {
      w.reject(err);
    }
  }
}
