import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseHl7 } from '../../adapters/hl7v2/parse';
import type { ParsedHl7 } from '../../adapters/hl7v2/types';
import type { Hl7MappingContext } from '../../mappings/hl7v2/map-message';

/** The golden HL7v2 fixtures: tests/fixtures/hl7v2/<case>.hl7 beside <case>.expected.json (and optionally <case>.context.json). */
export const FIXTURE_DIR = join(__dirname, '..', 'fixtures', 'hl7v2');

export const DEFAULT_CONTEXT: Hl7MappingContext = {
  source: 'https://pas.northfield-trust.invalid/hl7v2',
  receivedAt: '2025-07-20T12:00:00Z',
};

export function fixtureCases(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.hl7'))
    .map((f) => f.slice(0, -'.hl7'.length))
    .sort();
}

export function fixtureBytes(name: string): Buffer {
  return readFileSync(join(FIXTURE_DIR, `${name}.hl7`));
}

export function fixtureContext(name: string): Hl7MappingContext {
  const path = join(FIXTURE_DIR, `${name}.context.json`);
  if (!existsSync(path)) return DEFAULT_CONTEXT;
  return { ...DEFAULT_CONTEXT, ...(JSON.parse(readFileSync(path, 'utf8')) as Partial<Hl7MappingContext>) };
}

/** The fixture's bytes through the adapter's parser (charset from MSH-18, terminators, escapes), as in production. */
export function parseFixture(name: string): ParsedHl7 {
  return parseBytes(fixtureBytes(name));
}

export function parseBytes(bytes: Buffer): ParsedHl7 {
  const parsed = parseHl7(bytes);
  if (!parsed.ok) throw new Error(`fixture does not parse: ${parsed.error.code} ${parsed.error.text}`);
  return parsed.message;
}
