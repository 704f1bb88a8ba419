import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../../gateway/store/store';
import { caseSystem, FIXTURE_DIR, fixtureBytes, fixtureCases, intakeOver, openStore, storedResources } from './support';

/**
 * Golden files: every tests/fixtures/fhir-intake/<case>.json is posted by a system of its own
 * (source https://<case>.example.org, so cases sharing one store stay apart); <case>.expected.json holds the HTTP status, the answer (transaction-response
 * or OperationOutcome) and every resource stored. Cases named bad-* must be refused with nothing
 * stored. UPDATE_GOLDEN=1 rewrites the expected files; review the diff.
 */
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const cases = fixtureCases();

test('the fixture folder has the accepted kinds and the malformed ones', () => {
  expect(cases.filter((c) => !c.startsWith('bad-')).sort()).toEqual(['collection-mental-health', 'document-edischarge', 'transaction-care-home']);
  expect(cases.filter((c) => c.startsWith('bad-')).length).toBeGreaterThanOrEqual(8);
});

let store: Store;
beforeAll(async () => {
  store = await openStore();
});
afterAll(async () => {
  await store.close();
});

describe.each(cases)('%s', (name) => {
  test('is answered and stored as the golden file says', async () => {
    const system = caseSystem(name);
    const answer = await intakeOver(store).receive(fixtureBytes(name), system);
    const actual = JSON.parse(JSON.stringify({ status: answer.status, answer: answer.body, stored: await storedResources(store, system.sourceUri) })) as { status: number; stored: unknown[] };
    const expectedPath = join(FIXTURE_DIR, `${name}.expected.json`);
    if (UPDATE || !existsSync(expectedPath)) writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
    expect(actual).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
    if (name.startsWith('bad-')) {
      expect(actual.status === 400 || actual.status === 422).toBe(true);
      expect(actual.stored).toEqual([]);
    } else {
      expect(actual.status).toBe(200);
    }
  });
});
