import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../../gateway/store/store';
import { caseSystem, FIXTURE_DIR, fixtureBytes, fixtureCases, intakeOver, storedResources } from './support';

/**
 * Golden files: every tests/fixtures/fhir-intake/<case>.json is posted by a system of its own
 * (source https://<case>.example.org, so cases sharing one store stay apart); <case>.expected.json holds the HTTP status, the answer (transaction-response
 * or OperationOutcome) and every resource stored. Cases named bad-* must be refused with nothing
 * stored. UPDATE_GOLDEN=1 rewrites the expected files (from the embedded store's run); review the
 * diff. The same files are checked on PGlite and on PostgreSQL.
 */
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const cases = fixtureCases();

export function describeGoldenSuite(engine: string, open: () => Promise<{ store: Store; dispose: () => Promise<void> }>, update = UPDATE): void {
  describe(`FHIR intake golden files on ${engine}`, () => {
    test('the fixture folder has the accepted kinds and the malformed ones', () => {
      expect(cases.filter((c) => !c.startsWith('bad-')).sort()).toEqual(['collection-mental-health', 'document-edischarge', 'transaction-care-home']);
      expect(cases.filter((c) => c.startsWith('bad-')).length).toBeGreaterThanOrEqual(8);
    });

    let store: Store;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      ({ store, dispose } = await open());
    });
    afterAll(async () => {
      await store.close();
      await dispose();
    });

    describe.each(cases)('%s', (name) => {
      test('is answered and stored as the golden file says', async () => {
        const system = caseSystem(name);
        const answer = await intakeOver(store).receive(fixtureBytes(name), system);
        const actual = JSON.parse(JSON.stringify({ status: answer.status, answer: answer.body, stored: await storedResources(store, system.sourceUri) })) as { status: number; stored: unknown[] };
        const expectedPath = join(FIXTURE_DIR, `${name}.expected.json`);
        if (update || !existsSync(expectedPath)) writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
        expect(actual).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
        if (name.startsWith('bad-')) {
          expect(actual.status === 400 || actual.status === 422).toBe(true);
          expect(actual.stored).toEqual([]);
        } else {
          expect(actual.status).toBe(200);
        }
      });
    });
  });
}
