import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { Command } from 'commander';
import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';
import { pdsPatient, startPdsStub, type PdsStub } from '../../tests/support/pds-stub';
import { demoNhsNumber } from '../demo/demo-data';
import { loadFhirDefinitions } from '../fhir/definitions';
import { ingestResources } from '../ingest/ingest';
import { Store } from '../store/store';
import { registerPdsCommand } from './pds-command';

const MATCH = demoNhsNumber(30);
const UNKNOWN = demoNhsNumber(31);
const patient = (id: string, nhs: string): Patient => ({
  resourceType: 'Patient',
  id,
  meta: { source: 'https://pas.example-trust.nhs.uk' },
  identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }],
  name: [{ family: 'Testperson', given: ['Alex'] }],
  birthDate: '1950-02-03',
});

describe('carebridge pds trace', () => {
  let dataDir: string;
  let stub: PdsStub;
  let output: string[];
  const savedEnv = { ...process.env };

  const run = async (...args: string[]): Promise<void> => {
    const program = new Command('carebridge').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    registerPdsCommand(program);
    await program.parseAsync(['node', 'carebridge', 'pds', 'trace', ...args]);
  };

  beforeAll(async () => {
    loadFhirDefinitions();
    dataDir = await mkdtemp(join(tmpdir(), 'carebridge-pds-'));
    const store = await Store.open({ dataDir });
    await store.migrate();
    await ingestResources(store, [patient('h-1', MATCH), patient('h-2', UNKNOWN)], { now: new Date('2026-01-01T00:00:00Z') });
    await store.close();
    stub = await startPdsStub({ patients: [pdsPatient(MATCH, { family: 'Testperson', birthDate: '1950-02-03' })], requireToken: 'cli-token' });
  });
  beforeEach(() => {
    process.env = { ...savedEnv, DATA_DIR: dataDir, PDS_BASE_URL: stub.baseUrl, PDS_ACCESS_TOKEN: 'cli-token', LOG_LEVEL: 'silent' };
    delete process.env['DATABASE_URL'];
    output = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.env = savedEnv;
  });
  afterAll(async () => {
    await stub.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('without PDS_BASE_URL it says what to set, before touching the store', async () => {
    delete process.env['PDS_BASE_URL'];
    await expect(run()).rejects.toThrow(/^PDS_BASE_URL is not set/);
    expect(stub.requests).toHaveLength(0);
  });

  test('an invalid --nhs-number is refused', async () => {
    await expect(run('--nhs-number', '1234567890')).rejects.toThrow(/not a valid NHS number/);
  });

  test('--nhs-number traces only that number and prints only the number typed', async () => {
    await run('--nhs-number', `${MATCH.slice(0, 3)} ${MATCH.slice(3, 6)} ${MATCH.slice(6)}`);
    expect(output.join('')).toBe(`Traced 1 source record holding NHS number ${MATCH} against PDS: 1 verified, 0 mismatch, 0 not found, 0 error.\nIdentity re-resolved for 1 whose verification changed.\n`);
    expect(stub.requests.map((r) => r.headers.authorization)).toEqual(['Bearer cli-token']);
  });

  test('then the rest, with a summary of counts and no names or numbers; a second run has nothing to do', async () => {
    await run('--limit', '10');
    expect(output.join('')).toBe('Traced 1 source record against PDS: 0 verified, 0 mismatch, 1 not found, 0 error.\n');
    expect(output.join('')).not.toContain(UNKNOWN);
    output.length = 0;
    await run();
    expect(output.join('')).toBe('No source records needed tracing (already traced, verified by their source, or none held).\n');
  });
});
