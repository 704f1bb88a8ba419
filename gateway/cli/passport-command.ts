import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import type { Command } from 'commander';
import { compositionOf } from '../../mappings/passport/document';
import { loadConfig } from '../config';
import { loadPassportConfig, openPassportKeys } from '../passport/passport-config';
import { PassportKeySet } from '../passport/signing';

/**
 * `carebridge passport verify FILE`: whether a passport document (a FHIR Bundle, JSON) is
 * authentic and unchanged. Offline: the signature is checked against this deployment's keys
 * (PASSPORT_SIGNING_KEY, PASSPORT_PUBLIC_KEYS, or the development key in DATA_DIR), or against a
 * JWK Set saved from GET /passport/jwks.json (--jwks). Prints nothing of the person. Exit codes:
 * 0 authentic and unchanged, 1 not, 2 the file or the keys could not be read.
 */

function readInput(file: string): string {
  return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
}

export function registerPassportCommand(program: Command): void {
  const passport = program.command('passport').description('red bag passports: verify a passport document');
  passport
    .command('verify')
    .argument('<file>', 'the passport document, FHIR JSON (- for standard input)')
    .option('--jwks <file>', 'verify against this JWK Set (saved from GET /passport/jwks.json) instead of the configured keys')
    .option('--json', 'print the result as JSON')
    .description('say whether a passport document is authentic (signed by CareBridge) and unchanged since; exits 0 if so, 1 if not')
    .action(async (file: string, options: { jwks?: string; json?: boolean }) => {
      let document: unknown;
      let keys: PassportKeySet;
      try {
        document = JSON.parse(readInput(file));
        if (options.jwks) {
          const set = JSON.parse(readFileSync(options.jwks, 'utf8')) as { keys?: JWK[] };
          keys = await PassportKeySet.fromJwks(set.keys ?? []);
        } else {
          const config = loadConfig();
          keys = (await openPassportKeys(loadPassportConfig(process.env, config), { create: false })).keys;
        }
      } catch (err) {
        process.stderr.write(`carebridge passport verify: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const result = await keys.verify(document);
      const bundle = document as { identifier?: { value?: string } };
      const composition = result.valid ? compositionOf(document as never) : undefined;
      const report = {
        authentic: result.valid,
        unchanged: result.valid,
        ...(result.valid ? { signedAt: result.signedAt, signer: result.signer, kid: result.kid } : { reason: result.reason }),
        ...(result.fingerprint ? { fingerprint: result.fingerprint } : {}),
        ...(bundle.identifier?.value ? { document: bundle.identifier.value } : {}),
        ...(composition?.title ? { title: composition.title } : {}),
      };
      if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else if (result.valid) {
        process.stdout.write(
          `Authentic and unchanged: ${report.title ?? 'passport'} ${report.document ?? ''}, signed ${result.signedAt} by ${result.signer} (key ${result.kid}).\nFingerprint ${result.fingerprint}.\nWhether it is the current version: the verification page or POST /passport/verify says.\n`,
        );
      } else process.stdout.write(`NOT VERIFIED: ${result.reason}.\n`);
      if (!result.valid) process.exitCode = 1;
    });
}
