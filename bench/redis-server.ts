import { spawn, spawnSync } from 'node:child_process';
import IORedis from 'ioredis';
import { freePort } from './postgres-server';

/**
 * A throw-away Redis for one benchmark run (the BullMQ row of the hospital feed benchmark), on
 * 127.0.0.1 and a free port, keeping nothing on disk: Redis only carries inbox row ids, and the
 * deployment runs it without persistence too (docker/compose.yaml).
 */
export interface ThrowawayRedis {
  readonly url: string;
  stop(): void;
}

export function findRedisServer(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

export async function startThrowawayRedis(bin: string): Promise<ThrowawayRedis> {
  const port = await freePort();
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${String(port)}`;
  const stop = (): void => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  const until = Date.now() + 10_000;
  for (;;) {
    const client = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // Refused while the server starts: connect() rejects, and the client's error event is that same refusal.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return { url, stop };
    } catch {
      // Not listening yet.
    } finally {
      client.disconnect();
    }
    if (child.exitCode !== null || Date.now() > until) {
      stop();
      throw new Error(`redis-server did not start on port ${String(port)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
