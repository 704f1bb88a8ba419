import { Command, InvalidArgumentError } from 'commander';
import { registerAuditCommand } from './cli/audit-command';
import { registerDlqCommand } from './cli/dlq-command';
import { registerGpCommand } from './cli/gp-command';
import { registerIdentityCommand } from './cli/identity-command';
import { registerNotifyCommand } from './cli/notify-command';
import { registerPassportCommand } from './cli/passport-command';
import { registerPdsCommand } from './cli/pds-command';
import { registerTokenCommand } from './cli/token-command';
import { registerSocialCareCommand } from './cli/social-care-command';
import { withStore } from './cli/open-store';
import { loadConfig } from './config';
import { createLogger } from './logger';
import { loadDemoDataIfEmpty, Role, startGateway } from './server';
import { Store } from './store/store';

/** `npx carebridge …`: the command line. Later work adds import, dlq, token, identity, passport… */
export function buildCli(): Command {
  const program = new Command('carebridge').description('CareBridge shared care record gateway').showHelpAfterError();

  program
    .command('serve')
    .description('run the gateway, or one role of it (api, mllp, worker) when running at scale')
    .option('--role <role>', 'all | api | mllp | worker', (value: string) => {
      if (!(Object.values(Role) as string[]).includes(value)) throw new InvalidArgumentError(`role must be one of ${Object.values(Role).join(', ')}`);
      return value as Role;
    }, Role.ALL)
    .action(async (options: { role: Role }) => {
      const config = loadConfig();
      const gateway = await startGateway(config, options.role, createLogger(config.logLevel));
      const stop = (): void => {
        void gateway.close().then(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });

  program
    .command('worker')
    .description('run ingest workers only (the same as serve --role worker); with REDIS_URL they take BullMQ jobs')
    .action(async () => {
      const config = loadConfig();
      const gateway = await startGateway(config, Role.WORKER, createLogger(config.logLevel));
      const stop = (): void => {
        void gateway.close().then(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });

  program
    .command('migrate')
    .description('apply database migrations and exit (safe to run twice, and from two processes at once)')
    .action(async () => {
      const config = loadConfig();
      const store = await Store.open({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const applied = await store.migrate();
        process.stdout.write(applied.length > 0 ? `Applied migrations ${applied.join(', ')}\n` : 'The schema is up to date\n');
      } finally {
        await store.close();
      }
    });

  program
    .command('demo')
    .description('load the synthetic demo population into an empty store')
    .action(async () => {
      await withStore(async (store) => {
        const loaded = await loadDemoDataIfEmpty(store);
        process.stdout.write(loaded > 0 ? `Loaded ${loaded} demo resources\n` : 'The store is not empty; demo data not loaded\n');
      });
    });

  registerIdentityCommand(program);
  registerPdsCommand(program);
  registerDlqCommand(program);
  registerTokenCommand(program);
  registerAuditCommand(program);
  registerPassportCommand(program);
  registerGpCommand(program);
  registerNotifyCommand(program);
  registerSocialCareCommand(program);
  return program;
}

/** Runs the command line (bin/carebridge.js calls this, however it was reached: npx links it under another name). */
export function runCli(argv: readonly string[] = process.argv): void {
  buildCli()
    .parseAsync([...argv])
    .catch((err: unknown) => {
      process.stderr.write(`carebridge: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}

if (require.main === module) runCli();
