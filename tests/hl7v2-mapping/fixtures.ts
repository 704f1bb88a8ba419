import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedHl7 } from '../../adapters/hl7v2/types';
import type { Hl7MappingContext } from '../../mappings/hl7v2/map-message';
import { simpleParseHl7 } from './simple-parse';

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

/**
 * The parsed fixture. The adapter's parser (adapters/hl7v2/parse.ts) was not committed when these
 * tests were written, so they use the small test parser (UTF-8 only).
 */
export function parseFixture(name: string): ParsedHl7 {
  return simpleParseHl7(fixtureBytes(name).toString('utf8'));
}
