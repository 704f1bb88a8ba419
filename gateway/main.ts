import { loadConfig } from './config';
import { createLogger } from './logger';
import { Role, startGateway } from './server';

/** `npm start`: the whole gateway in one process. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const gateway = await startGateway(config, Role.ALL, logger);
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping');
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (gateway.httpPort !== undefined) {
    // Said plainly on stdout too, for the person who just typed `npm start`.
    process.stdout.write(`CareBridge is running: http://localhost:${gateway.httpPort}/ (FHIR API at /fhir, store: ${gateway.store.engine.kind})\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`CareBridge could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
