import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const GP_FIXTURE_DIR = join(__dirname, '..', 'fixtures', 'gp');

/** Every `<case>.json` in tests/fixtures/gp (not the `.expected.json` files), sorted. */
export function gpFixtureCases(): string[] {
  return readdirSync(GP_FIXTURE_DIR)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function gpFixture(name: string): unknown {
  return JSON.parse(readFileSync(join(GP_FIXTURE_DIR, `${name}.json`), 'utf8')) as unknown;
}

export function gpFixtureBytes(name: string): Buffer {
  return readFileSync(join(GP_FIXTURE_DIR, `${name}.json`));
}

export const GP_RECEIVED_AT = '2026-11-20T10:00:00.000Z';
