import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { Command } from 'commander';
import { registerPassportCommand } from '../../gateway/cli/passport-command';
import { PassportKeySet, signerFromPem } from '../../gateway/passport/signing';

const FIXTURES = join(__dirname, '..', 'fixtures', 'passport');
const KEY_FILE = join(FIXTURES, 'test-signing-key.pem');
/** The journey's golden transfer passport, signed with the test key. */
const DOCUMENT = readFileSync(join(FIXTURES, 'journey', '1-transfer-passport.expected.json'), 'utf8');

function exitCode(): number {
  return Number(process.exitCode ?? 0);
}

describe('carebridge passport verify', () => {
  const saved = { ...process.env };
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-passport-cli-'));
  });
  afterAll(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(...args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
    let out = '';
    let err = '';
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += chunk.toString();
      return true;
    });
    const program = new Command('carebridge').exitOverride();
    registerPassportCommand(program);
    process.exitCode = undefined;
    try {
      await program.parseAsync(['node', 'carebridge', 'passport', ...args]);
      return { out, err, exitCode: exitCode() };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      process.exitCode = undefined;
    }
  }

  test('an untouched passport is authentic and unchanged (exit 0), and nothing of the person is printed', async () => {
    process.env = { ...saved, PASSPORT_SIGNING_KEY: KEY_FILE, DATA_DIR: dir };
    const file = join(dir, 'passport.json');
    writeFileSync(file, DOCUMENT);
    const result = await run('verify', file);
    expect(result.exitCode).toBe(0);
    expect(result.out).toMatch(/^Authentic and unchanged: Hospital transfer passport [0-9a-f-]+\/1, signed 2026-11-20T02:40:00.000Z/);
    expect(result.out).not.toMatch(/Ellis|ELLIS|9990000018|999 000 0018/);
  });

  test('one character changed in the document fails (exit 1) and says why', async () => {
    process.env = { ...saved, PASSPORT_SIGNING_KEY: KEY_FILE, DATA_DIR: dir };
    const file = join(dir, 'tampered.json');
    writeFileSync(file, DOCUMENT.replace('One tablet at night', 'Two tablets at night'));
    const result = await run('verify', file, '--json');
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.out)).toMatchObject({ authentic: false, unchanged: false, reason: expect.stringMatching(/changed after it was signed/) });
  });

  test('against a saved JWK Set of the public keys; an unknown key fails', async () => {
    process.env = { ...saved, DATA_DIR: dir };
    const signer = await signerFromPem(readFileSync(KEY_FILE, 'utf8'));
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify((await PassportKeySet.from({ signers: [signer] })).jwks()));
    const file = join(dir, 'passport.json');
    writeFileSync(file, DOCUMENT);
    expect((await run('verify', file, '--jwks', jwks)).exitCode).toBe(0);
    // This DATA_DIR has no development key: the configured key set is empty, so nothing verifies.
    const unknown = await run('verify', file);
    expect([unknown.exitCode, unknown.out]).toEqual([1, expect.stringMatching(/NOT VERIFIED: signed with a key CareBridge does not know/)]);
  });

  test('a file that is not JSON is a usage error (exit 2)', async () => {
    const file = join(dir, 'garbage.json');
    writeFileSync(file, 'not json');
    const result = await run('verify', file);
    expect(result.exitCode).toBe(2);
    expect(result.err).toMatch(/carebridge passport verify/);
    const document = JSON.parse(DOCUMENT) as Bundle;
    expect(document.signature?.sigFormat).toBe('application/jose');
  });
});
