/**
 * A child process for the HL7v2 crash test: the whole gateway (HTTP, MLLP listener, in-process
 * inbox worker) in this one process, so SIGKILL kills the gateway itself and not a wrapper.
 * DATA_DIR (PGlite) or DATABASE_URL (PostgreSQL) select the store; PORT and MLLP_PORT default to 0
 * (free ports). Says "ready mllp=<port> http=<port>" on stdout once both listen. SIGTERM stops it
 * gracefully. Usage: node --import tsx tests/crash/hl7-gateway.ts
 */
import { writeSync } from 'node:fs';
import { loadConfig } from '../../gateway/config';
import { createLogger } from '../../gateway/logger';
import { Role, startGateway } from '../../gateway/server';

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig({ ...env, PORT: env['PORT'] ?? '0', MLLP_PORT: env['MLLP_PORT'] ?? '0', DEMO_DATA: 'false', LOG_LEVEL: env['LOG_LEVEL'] ?? 'silent', REDIS_URL: '' });
  const gateway = await startGateway(config, Role.ALL, createLogger(config.logLevel));
  process.once('SIGTERM', () => {
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        writeSync(2, `gateway close failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  });
  writeSync(1, `ready mllp=${String(gateway.mllpPort)} http=${String(gateway.httpPort)}\n`);
}

main().catch((err: unknown) => {
  writeSync(2, `gateway failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
