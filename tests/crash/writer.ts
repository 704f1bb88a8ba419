/**
 * A child process for the crash tests: writes batches to the store and, after each commit, says so
 * on stdout ("ack <batch>"). The parent kills it with SIGKILL at a random moment.
 * Usage: tsx tests/crash/writer.ts <run-label>   (DATA_DIR or DATABASE_URL selects the engine)
 */
import { writeSync } from 'node:fs';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { acceptIntoInbox } from '../../gateway/store/inbox';
import { Store } from '../../gateway/store/store';

async function main(): Promise<void> {
  const run = process.argv[2] ?? 'run';
  loadFhirDefinitions();
  const store = await Store.open({ databaseUrl: process.env['DATABASE_URL'], dataDir: process.env['DATA_DIR'] });
  await store.migrate();
  writeSync(1, 'ready\n');
  for (let batch = 0; ; batch++) {
    await acceptIntoInbox(store.engine, { source: 'crash-test', kind: 'test', dedupKey: `${run}-${batch}`, content: Buffer.from(`message ${run} ${batch}`) });
    await store.upsert(
      Array.from({ length: 10 }, (_, i) => ({
        resourceType: 'Observation' as const,
        id: `${run}-${batch}-${i}`,
        status: 'final' as const,
        code: { text: 'crash test' },
        valueQuantity: { value: batch * 10 + i },
      })),
    );
    writeSync(1, `ack ${batch}\n`);
  }
}

main().catch((err: unknown) => {
  writeSync(2, `writer failed: ${String(err)}\n`);
  process.exit(1);
});
