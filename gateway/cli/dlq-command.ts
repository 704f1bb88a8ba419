import { type Command, InvalidArgumentError } from 'commander';
import { inboxEntry, InboxStatus, listInbox, readInboxContent, replayInboxItems, type InboxEntry } from '../store/inbox';
import { withStore } from './open-store';

const STATUSES = Object.values(InboxStatus) as string[];

function line(e: InboxEntry): string {
  return `${e.id.padStart(8)}  ${e.status.padEnd(7)}  ${e.kind.padEnd(12)}  ${e.receivedAt}  attempts ${String(e.attempts)}  ${e.source}  ${e.dedupKey}${e.lastError ? `\n          ${e.lastError}` : ''}`;
}

/** `carebridge dlq …`: inputs that could not be applied (dead after retries, or failed as malformed), and their replay. */
export function registerDlqCommand(program: Command): void {
  const dlq = program.command('dlq').description('the dead-letter queue: inbox rows that could not be applied');

  dlq
    .command('list')
    .description('list dead and failed rows, newest first (no message content)')
    .option('--status <list>', 'comma-separated statuses', (value: string) => {
      const list = value.split(',');
      for (const s of list) if (!STATUSES.includes(s)) throw new InvalidArgumentError(`status must be one of ${STATUSES.join(', ')}`);
      return list as InboxStatus[];
    })
    .option('--limit <n>', 'how many', (value: string) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('limit must be 1 to 10000');
      return n;
    }, 100)
    .action(async (options: { status?: InboxStatus[]; limit: number }) => {
      await withStore(async (store) => {
        const rows = await listInbox(store.engine, options.status ?? [InboxStatus.DEAD, InboxStatus.FAILED], options.limit);
        process.stdout.write(rows.length === 0 ? 'The dead-letter queue is empty.\n' : `${rows.map(line).join('\n')}\n`);
      });
    });

  dlq
    .command('show <id>')
    .description('one row in full; --content prints the raw input (it holds patient data: mind where you run this)')
    .option('--content', 'print the raw input as received')
    .action(async (id: string, options: { content?: boolean }) => {
      await withStore(async (store) => {
        const entry = await inboxEntry(store.engine, id);
        if (!entry) throw new Error(`No inbox row ${id}`);
        process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
        if (options.content) {
          const content = await readInboxContent(store.engine, id);
          // HL7 uses CR between segments: show them as lines.
          process.stdout.write(`${(content ?? Buffer.alloc(0)).toString('latin1').replace(/\r\n?/g, '\n')}\n`);
        }
      });
    });

  dlq
    .command('replay [ids...]')
    .description('put dead or failed rows back to pending so a worker applies them again')
    .option('--all', 'every dead row')
    .action(async (ids: string[], options: { all?: boolean }) => {
      if (!options.all && ids.length === 0) throw new Error('Name the rows to replay, or pass --all for every dead row');
      for (const id of ids) if (!/^\d{1,18}$/.test(id)) throw new Error(`'${id}' is not an inbox row id`);
      await withStore(async (store) => {
        const replayed = await replayInboxItems(store.engine, options.all ? 'all-dead' : ids);
        process.stdout.write(`Replayed ${String(replayed.length)} row(s)${replayed.length > 0 ? `: ${replayed.join(', ')}` : ''}. A running worker applies them within seconds.\n`);
      });
    });
}
