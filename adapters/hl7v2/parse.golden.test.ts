/**
 * Golden files: every tests/fixtures/hl7v2-parse/<case>.hl7 is parsed and compared with
 * <case>.expected.json (the header, the encoding and every non-empty value, unescaped, with
 * HL7_NULL as null; or the error). UPDATE_GOLDEN=1 rewrites the expected files; review the diff.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParsedMessage, type ParsedSegment } from './message';
import { parseHl7 } from './parse';
import { HL7_NULL } from './types';

const FIXTURES = join(__dirname, '..', '..', 'tests', 'fixtures', 'hl7v2-parse');
const cases = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.hl7'))
  .map((file) => file.slice(0, -'.hl7'.length))
  .sort();

type Value = string | null | Value[];

/** Collapses single-element levels so a plain value reads as a string. */
function collapse(values: Value[]): Value {
  return values.length === 1 ? (values[0] ?? null) : values;
}

function dumpSegment(segment: ParsedSegment, message: ParsedMessage): Record<string, unknown> {
  const d = message.encoding.delimiters;
  const fields: Record<string, Value> = {};
  for (let seq = 1; seq <= segment.fieldCount; seq++) {
    const raw = segment.rawField(seq);
    if (raw === '') continue;
    if (segment.name === 'MSH' && seq <= 2) {
      fields[String(seq)] = raw;
      continue;
    }
    const repetitions = raw.split(d.repetition).map((rep, r) =>
      collapse(
        rep.split(d.component).map((component, c) =>
          collapse(
            component.split(d.subcomponent).map((_, s) => {
              const value = segment.get(seq, c + 1, s + 1, r + 1);
              return value === HL7_NULL ? null : value;
            }),
          ),
        ),
      ),
    );
    fields[String(seq)] = collapse(repetitions);
  }
  return { name: segment.name, position: segment.position, fieldCount: segment.fieldCount, fields };
}

function dump(bytes: Buffer): unknown {
  const result = parseHl7(bytes);
  if (!result.ok) return { ok: false, error: result.error };
  const message = result.message;
  if (!(message instanceof ParsedMessage)) throw new Error('parseHl7 returned a foreign message');
  return {
    ok: true,
    header: message.header,
    encoding: message.encoding,
    segments: message.segments.map((segment) => dumpSegment(segment, message)),
  };
}

describe('parseHl7 golden files', () => {
  it('has cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(5);
  });

  it.each(cases)('%s', (name) => {
    const actual = dump(readFileSync(join(FIXTURES, `${name}.hl7`)));
    const expectedPath = join(FIXTURES, `${name}.expected.json`);
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
    }
    expect(actual).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
  });
});
