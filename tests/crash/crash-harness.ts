import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SYSTEM_SCOPE } from '../../gateway/store/access-scope';
import { readResource } from '../../gateway/store/resource-reader';
import type { Store } from '../../gateway/store/store';

const WRITER = join(__dirname, 'writer.ts');

/**
 * Starts the writer, lets it commit at least `minAcks` batches, waits a random few milliseconds
 * more so the kill lands mid-transaction as often as not, then SIGKILLs it. Returns the batches
 * it acknowledged (every one of which must survive).
 */
export async function runAndKill(run: string, env: NodeJS.ProcessEnv, minAcks: number): Promise<number[]> {
  // One process (node with tsx's loader), so SIGKILL kills the writer itself, not a wrapper around it.
  const nodeOptions = (process.env['NODE_OPTIONS'] ?? '').replace('--experimental-vm-modules', '');
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, run], { env: { ...process.env, NODE_OPTIONS: nodeOptions, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: number[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    let killing = false;
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line);
        if (m) acked.push(Number(m[1]));
      }
      if (!killing && acked.length >= minAcks) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 40));
      }
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited on its own: ${stderr}`));
    });
  });
  return acked;
}

/** The acknowledged batches that are missing from the store (should be none). */
export async function missingBatches(store: Store, run: string, acked: readonly number[]): Promise<string[]> {
  const missing: string[] = [];
  for (const batch of acked) {
    for (let i = 0; i < 10; i++) {
      const read = await readResource(store.engine, SYSTEM_SCOPE, 'Observation', `${run}-${batch}-${i}`);
      if (!read.found) missing.push(`${run}-${batch}-${i}`);
    }
    const inbox = await store.engine.query('SELECT 1 FROM inbox WHERE source = $1 AND dedup_key = $2', ['crash-test', `${run}-${batch}`]);
    if (inbox.rows.length !== 1) missing.push(`inbox ${run}-${batch}`);
  }
  return missing;
}
