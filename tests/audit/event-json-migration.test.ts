import { AuditTrail } from '../../gateway/audit/audit-trail';
import { CheckpointKeySet, generateSigningKeyPem, signerFromPem } from '../../gateway/audit/signing';
import { verifyAuditTrail } from '../../gateway/audit/verify';
import { canonicalJson } from '../../gateway/fhir/canonical-json';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { migrate, MIGRATIONS } from '../../gateway/store/migrations';
import { Store } from '../../gateway/store/store';
import { readRecord } from './support';

/**
 * Migration 17 turns the audit entries from jsonb into json. A trail written before it (jsonb,
 * whose text PostgreSQL re-formats) still verifies after it, entries written after it are stored
 * as exactly the canonical text their hash covers, and the chain runs on across the change.
 */

test('a trail written as jsonb verifies after migration 17, and new entries keep their canonical text', async () => {
  loadFhirDefinitions();
  const store = await Store.open({});
  try {
    await migrate(store.engine, MIGRATIONS.filter((m) => m.version < 17));
    const columnType = async (): Promise<string | undefined> =>
      (await store.engine.query<{ t: string }>(`SELECT data_type AS t FROM information_schema.columns WHERE table_name = 'audit_event' AND column_name = 'event'`)).rows[0]?.t;
    expect(await columnType()).toBe('jsonb');

    const before = new AuditTrail({ engine: store.engine, node: 'test-node' });
    for (let n = 1; n <= 3; n++) await before.record(readRecord(n));
    await before.close();

    expect(await migrate(store.engine, MIGRATIONS.filter((m) => m.version <= 17))).toEqual([17]);
    expect(await columnType()).toBe('json');

    const after = new AuditTrail({ engine: store.engine, node: 'test-node' });
    for (let n = 4; n <= 5; n++) await after.record(readRecord(n));
    await after.close();

    const rows = (await store.engine.query<{ seq: string; text: string; event: unknown }>('SELECT seq, event::text AS text, event FROM audit_event ORDER BY seq')).rows;
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5]);
    for (const row of rows.slice(3)) expect(row.text).toBe(canonicalJson(JSON.parse(row.text)));

    const keys = await CheckpointKeySet.from({ signers: [await signerFromPem(generateSigningKeyPem())] });
    const report = await verifyAuditTrail(store.engine, keys);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.entries).toBe(5);
  } finally {
    await store.close();
  }
});
