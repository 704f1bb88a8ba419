import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadAuditConfig, openAuditKeys } from '../audit/audit-config';
import { AuditTrail } from '../audit/audit-trail';
import { exportCheckpoints, parseCheckpointFile, type ExportedCheckpoint } from '../audit/checkpoint-file';
import { verifyAuditTrail, type VerifyReport } from '../audit/verify';
import { loadConfig } from '../config';
import { withStore } from './open-store';

function describe(report: VerifyReport): string {
  const summary = `${String(report.entries)} entries (head seq ${String(report.headSeq)}), ${String(report.checkpoints)} stored checkpoint(s), ${String(report.exportedCheckpoints)} exported checkpoint(s)`;
  if (report.ok) return `The audit trail verifies: ${summary}.\n`;
  const lines = [`The audit trail does NOT verify: ${summary}.`];
  if (report.firstBroken) lines.push(`First broken entry: seq ${String(report.firstBroken.seq)}${report.firstBroken.id ? ` (id ${report.firstBroken.id})` : ''}: ${report.firstBroken.reason}`);
  lines.push(`Problems (${String(report.problems.length)}${report.problems.length >= 100 ? ', first 100' : ''}):`);
  for (const p of report.problems) lines.push(`  [${p.kind}] ${p.message}`);
  return `${lines.join('\n')}\n`;
}

function readPems(paths: readonly string[]): string[] {
  return paths.map((p) => readFileSync(p, 'utf8'));
}

/** `carebridge audit …`: verify the trail, export and sign checkpoints. */
export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('the audit trail: verify its hash chain and signed checkpoints, export checkpoints');

  audit
    .command('verify')
    .description('walk the hash chain and check every entry, link and checkpoint signature; exits 1 and names the first broken entry on failure')
    .option('--checkpoints <file>', 'also check checkpoints exported earlier (carebridge audit export-checkpoints)')
    .option('--public-key <pem...>', 'extra SPKI PEM public keys to accept (besides AUDIT_SIGNING_KEY and AUDIT_PUBLIC_KEYS)')
    .option('--json', 'print the report as JSON')
    .action(async (options: { checkpoints?: string; publicKey?: string[]; json?: boolean }) => {
      const config = loadConfig();
      const auditConfig = loadAuditConfig(process.env, config);
      // Read the file first: a malformed file is a clear error before any database work.
      const exported: ExportedCheckpoint[] | undefined = options.checkpoints ? parseCheckpointFile(readFileSync(options.checkpoints, 'utf8'), options.checkpoints) : undefined;
      const { keys } = await openAuditKeys(auditConfig, { create: false, extraPublicPems: readPems(options.publicKey ?? []) });
      const report = await withStore((store) => verifyAuditTrail(store.engine, keys, exported ? { exported } : {}));
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : describe(report));
      if (!report.ok) process.exitCode = 1;
    });

  audit
    .command('export-checkpoints')
    .description('write every signed checkpoint and the public keys to a file (keep it away from the database)')
    .option('--out <file>', 'where to write (default: standard output)')
    .action(async (options: { out?: string }) => {
      const config = loadConfig();
      const { keys } = await openAuditKeys(loadAuditConfig(process.env, config), { create: false });
      const file = await withStore((store) => exportCheckpoints(store.engine, keys, new Date()));
      const text = `${JSON.stringify(file, null, 2)}\n`;
      if (options.out) {
        writeFileSync(options.out, text, { flag: 'w' });
        process.stdout.write(`Exported ${String(file.checkpoints.length)} checkpoint(s) to ${options.out}\n`);
      } else {
        process.stdout.write(text);
      }
    });

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the chain as it is now (if entries were added since the last one)')
    .action(async () => {
      const config = loadConfig();
      const auditConfig = loadAuditConfig(process.env, config);
      const { signer } = await openAuditKeys(auditConfig, { create: true });
      const checkpoint = await withStore(async (store) => {
        const trail = new AuditTrail({ engine: store.engine, node: auditConfig.node, ...(signer ? { signer } : {}) });
        return trail.checkpointIfDue(true);
      });
      process.stdout.write(checkpoint ? `Signed checkpoint at seq ${String(checkpoint.seq)} (key ${checkpoint.kid})\n` : 'Nothing to sign: no entries since the last checkpoint\n');
    });
}
