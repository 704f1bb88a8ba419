import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { DEV_SIGNING_KEY_FILE, loadAuditConfig, openAuditKeys } from '../../gateway/audit/audit-config';
import { AuditTrail } from '../../gateway/audit/audit-trail';
import { registerAuditCommand } from '../../gateway/cli/audit-command';
import { ConfigError } from '../../gateway/config';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { Store } from '../../gateway/store/store';
import { readRecord } from './support';
import { deleteStoredCheckpoints, rewriteChainFrom } from './tamper';

/** process.exitCode as the command left it (read in a function so the compiler does not narrow it). */
function currentExitCode(): number {
  return Number(process.exitCode ?? 0);
}

/**
 * `carebridge audit …` against a file-backed embedded store in a temporary DATA_DIR, with the
 * development signing key created there.
 */
describe('carebridge audit commands', () => {
  const saved = { ...process.env };
  let dir: string;
  let out: string;

  async function run(...args: string[]): Promise<{ out: string; exitCode: number }> {
    out = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    const program = new Command('carebridge').exitOverride();
    registerAuditCommand(program);
    process.exitCode = undefined;
    try {
      await program.parseAsync(['node', 'carebridge', 'audit', ...args]);
      return { out, exitCode: currentExitCode() };
    } finally {
      spy.mockRestore();
      process.exitCode = undefined;
    }
  }

  async function withDataDirStore(fn: (store: Store) => Promise<void>): Promise<void> {
    const store = await Store.open({ dataDir: dir });
    try {
      await store.migrate();
      await fn(store);
    } finally {
      await store.close();
    }
  }

  beforeAll(async () => {
    loadFhirDefinitions();
    dir = mkdtempSync(join(tmpdir(), 'cb-audit-cli-'));
    delete process.env['DATABASE_URL'];
    delete process.env['NODE_ENV'];
    delete process.env['AUDIT_SIGNING_KEY'];
    delete process.env['AUDIT_PUBLIC_KEYS'];
    process.env['DATA_DIR'] = dir;
    process.env['AUDIT_NODE'] = 'cli-test';
    const config = loadAuditConfig(process.env, { dataDir: dir, production: false });
    const { signer } = await openAuditKeys(config, { create: true });
    await withDataDirStore(async (store) => {
      const trail = new AuditTrail({ engine: store.engine, node: config.node, ...(signer ? { signer } : {}), checkpointEvery: 5 });
      for (let n = 1; n <= 12; n++) await trail.record(readRecord(n));
      await trail.close();
    });
  });
  afterAll(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  test('the development key is created once in DATA_DIR, readable by its owner only', () => {
    const path = join(dir, DEV_SIGNING_KEY_FILE);
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test('in production a signing key must be configured', () => {
    expect(() => loadAuditConfig({ NODE_ENV: 'production' }, { dataDir: dir, production: true })).toThrow(ConfigError);
    expect(loadAuditConfig({ AUDIT_SIGNING_KEY: '/keys/audit.pem', AUDIT_CHECKPOINT_EVERY: '50', AUDIT_CHECKPOINT_MINUTES: '5', AUDIT_NODE: 'api-1', AUDIT_PUBLIC_KEYS: '/keys/old1.pem, /keys/old2.pem' }, { dataDir: dir, production: true })).toEqual({
      signingKeyPath: '/keys/audit.pem',
      developmentKey: false,
      publicKeyPaths: ['/keys/old1.pem', '/keys/old2.pem'],
      checkpointEvery: 50,
      checkpointIntervalMs: 300_000,
      node: 'api-1',
    });
    expect(() => loadAuditConfig({ AUDIT_CHECKPOINT_EVERY: '0' }, { dataDir: dir, production: false })).toThrow(/AUDIT_CHECKPOINT_EVERY/);
  });

  test('checkpoint, export, verify; then a rewrite with the stored checkpoints deleted is caught only with the exported file', async () => {
    const signed = await run('checkpoint');
    expect(signed.out).toMatch(/^Signed checkpoint at seq 12 \(key [\w-]{43}\)\n$/);

    const file = join(dir, 'checkpoints.json');
    expect((await run('export-checkpoints', '--out', file)).out).toBe(`Exported 3 checkpoint(s) to ${file}\n`);
    const exported = JSON.parse(readFileSync(file, 'utf8')) as { checkpoints: { seq: number }[] };
    expect(exported.checkpoints.map((c) => c.seq)).toEqual([5, 10, 12]);

    expect(await run('verify', '--checkpoints', file)).toEqual({ out: 'The audit trail verifies: 12 entries (head seq 12), 3 stored checkpoint(s), 3 exported checkpoint(s).\n', exitCode: 0 });

    let id5 = '';
    await withDataDirStore(async (store) => {
      id5 = (await store.engine.query<{ id: string }>('SELECT id::text AS id FROM audit_event WHERE seq = 5')).rows[0]?.id ?? '';
      await rewriteChainFrom(store.engine, 3, 'someone-else');
      await deleteStoredCheckpoints(store.engine);
    });

    expect(await run('verify')).toEqual({ out: 'The audit trail verifies: 12 entries (head seq 12), 0 stored checkpoint(s), 0 exported checkpoint(s).\n', exitCode: 0 });

    const caught = await run('verify', '--checkpoints', file);
    expect(caught.exitCode).toBe(1);
    expect(caught.out).toContain('The audit trail does NOT verify');
    expect(caught.out).toContain(`First broken entry: seq 5 (id ${id5}): ${file} checkpoints[0] (seq 5): entry 5 (id ${id5}) does not have the signed hash; the chain was rewritten somewhere in entries 1-5`);
  });

  test('a malformed checkpoints file is refused naming the file, the field and why', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'carebridge-audit-checkpoints', version: 1, checkpoints: [{ seq: 1, jws: 'not a jws' }] }));
    await expect(run('verify', '--checkpoints', bad)).rejects.toThrow(`${bad}: checkpoints[0].jws: not a compact JWS`);
  });
});
