import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { FhirIntake, type SendingSystem } from '../../gateway/fhir-intake/intake';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { createLogger } from '../../gateway/logger';
import { parseStoredResource } from '../../gateway/store/resource-reader';
import { Store } from '../../gateway/store/store';

export const FIXTURE_DIR = join(__dirname, '../fixtures/fhir-intake');
export const CARE_HOME: SendingSystem = { system: 'oakview-care-home', sourceUri: 'https://records.oakview-care.example.org' };
export const RECEIVED_AT = new Date('2026-11-21T17:00:00Z');

/** The fixture cases: every `<case>.json` beside its `<case>.expected.json`. */
export function fixtureCases(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function fixtureBytes(name: string): Buffer {
  return readFileSync(join(FIXTURE_DIR, `${name}.json`));
}

export async function openStore(): Promise<Store> {
  loadFhirDefinitions();
  const store = await Store.open({});
  await store.migrate();
  return store;
}

export function intakeOver(store: Store): FhirIntake {
  return new FhirIntake({ store, logger: createLogger('silent'), now: () => RECEIVED_AT });
}

/** The sending system a fixture case posts as: its own source, so cases sharing a store stay apart. */
export function caseSystem(name: string): SendingSystem {
  return { system: name, sourceUri: `https://${name}.example.org` };
}

/** Every stored resource (of one source, or all), current versions, sorted by type and id, without the store's own meta. */
export async function storedResources(store: Store, source?: string): Promise<Resource[]> {
  const rows = await store.engine.query<{ content: string }>(
    `SELECT content::text AS content FROM resource ${source ? "WHERE content->'meta'->>'source' = $1" : ''} ORDER BY resource_type, id`,
    source ? [source] : [],
  );
  return rows.rows.map((r) => {
    const resource = parseStoredResource(r.content);
    const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta ?? {};
    return { ...resource, meta };
  });
}

export async function versionCount(store: Store): Promise<number> {
  const rows = await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM resource_history');
  return rows.rows[0]?.n ?? 0;
}
