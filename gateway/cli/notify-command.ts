import { type Command, InvalidArgumentError } from 'commander';
import { listDeadDeliveries, redeliver } from '../notify/dead-letters';
import { listSubscriptions, subscriptionBacklogs } from '../notify/subscriptions';
import { withStore } from './open-store';

const limitOption = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('limit must be 1 to 10000');
  return n;
};

/** `carebridge notify …`: subscriptions' delivery status and the notification dead-letter queue. */
export function registerNotifyCommand(program: Command): void {
  const notify = program.command('notify').description('notifications: subscription status and dead letters');

  notify
    .command('status')
    .description('each subscription: topic, recipient, status, events since start, withheld by access rules, last success, last error, backlog, dead letters')
    .option('--json', 'as JSON')
    .action(async (options: { json?: boolean }) => {
      await withStore(async (store) => {
        const rows = [];
        const subscriptions = await listSubscriptions(store.engine);
        const backlogs = await subscriptionBacklogs(store.engine, subscriptions.map((s) => s.id));
        for (const s of subscriptions) {
          const backlog = backlogs.get(s.id) ?? { pending: 0, dead: 0 };
          rows.push({ id: s.id, owner: s.owner, topic: s.topic, recipient: s.recipient, channel: s.channelType, status: s.status, eventsSinceStart: s.eventsSinceStart, withheld: s.withheldEvents, lastSuccessAt: s.lastSuccessAt ?? null, lastErrorAt: s.lastErrorAt ?? null, lastError: s.lastError ?? null, backlog: backlog.pending, dead: backlog.dead });
        }
        if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (rows.length === 0) process.stdout.write('No subscriptions.\n');
        else
          process.stdout.write(
            `${rows
              .map((r) => `${r.id}  ${r.status.padEnd(9)}  ${r.topic.padEnd(18)}  ${r.recipient}  events ${String(r.eventsSinceStart)}  withheld ${String(r.withheld)}  backlog ${String(r.backlog)}  dead ${String(r.dead)}  last ok ${r.lastSuccessAt ?? '-'}${r.lastError ? `\n    last error ${r.lastErrorAt ?? ''}: ${r.lastError}` : ''}`)
              .join('\n')}\n`,
          );
      });
    });

  const dlq = notify.command('dlq').description('notifications whose every attempt failed');
  dlq
    .command('list')
    .description('dead deliveries, newest first (no notification content)')
    .option('--limit <n>', 'how many', limitOption, 100)
    .action(async (options: { limit: number }) => {
      await withStore(async (store) => {
        const rows = await listDeadDeliveries(store.engine, options.limit);
        process.stdout.write(
          rows.length === 0
            ? 'No dead notifications.\n'
            : `${rows.map((d) => `${d.id.padStart(8)}  ${d.kind.padEnd(18)}  subscription ${d.subscriptionId}  event ${d.eventNumber}  attempts ${String(d.attempts)}  ${d.createdAt}\n          ${d.endpoint}  ${d.lastError ?? ''}`).join('\n')}\n`,
        );
      });
    });
  dlq
    .command('redeliver [ids...]')
    .description('send dead notifications again (same event number and idempotency key)')
    .option('--all', 'every dead notification')
    .action(async (ids: string[], options: { all?: boolean }) => {
      if (!options.all && ids.length === 0) throw new Error('Name the deliveries to send again, or pass --all');
      for (const id of ids) if (!/^\d{1,18}$/.test(id)) throw new Error(`'${id}' is not a delivery id`);
      await withStore(async (store) => {
        const done = await redeliver(store.engine, options.all ? 'all-dead' : ids);
        process.stdout.write(`Put back ${String(done.length)} notification(s)${done.length > 0 ? `: ${done.join(', ')}` : ''}. A running worker sends them within seconds.\n`);
      });
    });
}
