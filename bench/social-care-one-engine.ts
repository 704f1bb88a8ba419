import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { openExtract } from '../adapters/social-care/extract-files';
import { generateSocialCareExtract } from '../gateway/social-care/generator';
import { importExtract } from '../gateway/social-care/importer';
import { createImport, ImportOrigin, ImportStatus } from '../gateway/social-care/imports';
import { pgliteStores, postgresStores } from './bench-stores';
import { sampleMemory } from './social-care-bench';

/**
 * The social care import on one engine in a process of its own (the full benchmark runs PGlite
 * and PostgreSQL in one process, so PostgreSQL's RSS there starts with PGlite's left behind):
 *   N=2000 ENGINE=postgres DATABASE_URL=postgres://… WORK=/tmp/sc npx tsx bench/social-care-one-engine.ts
 * The extract is the benchmark's (generator with the mess, seed 11), kept in WORK between runs.
 * Prints per import: rows/s, time, RSS before and at peak (sampled every 50 ms, as the benchmark),
 * peak V8 heap, the process's CPU time and, on PostgreSQL with pg_stat_statements loaded, the
 * server's execution time. ONCE=1: the first import only. The server time is pg_stat_statements' (cluster-wide: use a
 * server of your own), which, unlike timing statements in the client, does not count the client's
 * own work done while a statement is in flight.
 */
const persons = Number(process.env['N'] ?? 2000);
const engine = process.env['ENGINE'] ?? 'postgres';
const batchSize = Number(process.env['BATCH'] ?? 1000);
const work = process.env['WORK'] ?? '/tmp/social-care-one-engine';
const databaseUrl = process.env['DATABASE_URL'] ?? '';
const dir = join(work, `extract-${String(persons)}`);
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';

async function serverMs(): Promise<number | undefined> {
  if (engine !== 'postgres') return undefined;
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ t: number }>('SELECT sum(total_exec_time)::float8 AS t FROM pg_stat_statements');
    return result.rows[0]?.t ?? 0;
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  if (engine === 'postgres' && !databaseUrl) throw new Error('ENGINE=postgres needs DATABASE_URL');
  if (!existsSync(join(dir, 'manifest.json'))) generateSocialCareExtract({ persons, out: dir, mess: true, seed: 11 });
  const stores = engine === 'pglite' ? pgliteStores(work) : postgresStores(databaseUrl);
  const store = await stores.fresh('social_care_one_engine');
  try {
    for (const label of ['first import', 'same extract again']) {
      if (label !== 'first import' && process.env['ONCE']) break;
      const memory = sampleMemory();
      const loadBefore = load();
      const cpu = process.cpuUsage();
      const server = await serverMs();
      const started = performance.now();
      const importId = await createImport(store.engine, { origin: ImportOrigin.CLI, status: ImportStatus.RUNNING });
      const files = await openExtract(dir);
      const summary = await importExtract(store, files, { importId, batchSize });
      await files.close();
      const ms = performance.now() - started;
      memory.stop();
      const used = process.cpuUsage(cpu);
      const serverAfter = await serverMs();
      const mb = (b: number): number => Math.round(b / 2 ** 20);
      console.log(
        JSON.stringify({
          engine, persons, run: label, rows: summary.rows, seconds: +(ms / 1000).toFixed(1), rowsPerSecond: Math.round((summary.rows / ms) * 1000),
          rssMb: `${String(mb(memory.startRss))} -> ${String(mb(memory.peakRss))}`, peakHeapMb: mb(memory.peakHeap), newVersions: summary.resources.changed,
          processCpuSeconds: +((used.user + used.system) / 1e6).toFixed(1),
          ...(server !== undefined && serverAfter !== undefined ? { serverSeconds: +((serverAfter - server) / 1000).toFixed(1) } : {}),
          load: `${loadBefore} -> ${load()}`,
        }),
      );
    }
  } finally {
    await stores.dispose();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
