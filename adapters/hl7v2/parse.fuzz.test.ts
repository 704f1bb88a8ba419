import fc from 'fast-check';
import { ackErrorFrom, buildAck } from './ack';
import { DEFAULT_DELIMITERS, decodeText, encodeText, Hl7Charset } from './encoding';
import { HL7_ERROR_CODE_TEXT } from './errors';
import { escapeHl7, unescapeHl7 } from './escape';
import { parseHl7 } from './parse';
import { recoverHeader } from './recover';

// Synthetic data only.
const SEED = Buffer.from(
  [
    String.raw`MSH|^~\&|PAS|RXX01|CAREBRIDGE|ICB|20250314093000||ADT^A01^ADT_A01|MSG00001|P|2.5.1|||AL|NE||UNICODE UTF-8`,
    'EVN|A01|20250314093000',
    String.raw`PID|1||RXX123456^^^RXX01^MR~9990000018^^^NHS^NH||Müller^Zoë||19800101|F|||1 Test St\T\Co^^Leeds||""`,
    'PV1|1|I|WARD1^BED2^^RXX01',
    String.raw`NTE|1||Line\.br\two \X41\ \H\x\N\ \Q\ end`,
  ].join('\r') + '\r',
);

/** The seed with a few bytes overwritten, inserted or deleted. */
const mutated = fc
  .array(fc.tuple(fc.nat({ max: SEED.length }), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), {
    minLength: 1,
    maxLength: 8,
  })
  .map((edits) => {
    const bytes = [...SEED];
    for (const [at, value, kind] of edits) {
      if (kind === 'set') bytes[at] = value;
      else if (kind === 'insert') bytes.splice(at, 0, value);
      else bytes.splice(at, 1);
    }
    return Buffer.from(bytes);
  });

const US = { receivingApplication: 'CAREBRIDGE', receivingFacility: 'ICB', controlId: 'ACK1', now: new Date('2025-03-14T09:30:01Z') } as const;

describe('parseHl7 under random and mutated input', () => {
  it('never throws on arbitrary bytes, and every error has a table 0357 code', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)), mutated), (bytes) => {
        const result = parseHl7(bytes);
        if (!result.ok) expect(Object.keys(HL7_ERROR_CODE_TEXT)).toContain(result.error.code);
      }),
      { numRuns: 3000 },
    );
  });

  it('answers every input with an ACK that parses back and names the recovered MSH-10', () => {
    fc.assert(
      fc.property(mutated, (bytes) => {
        const result = parseHl7(bytes);
        const original = result.ok ? result.message : recoverHeader(bytes);
        const ack = buildAck({ ...US, original, code: result.ok ? 'AA' : 'AR', errors: result.ok ? [] : [ackErrorFrom(result.error)] });
        const back = parseHl7(ack);
        const header = original.header;
        if (!back.ok) {
          // The one ACK we refuse ourselves: MSH-9 is ACK^^ACK when the original's trigger is unknown.
          expect([header.triggerEvent, back.error.location]).toEqual(['', { segment: 'MSH', position: 1, field: 9, component: 2 }]);
          return;
        }
        // MSA-2 is the original's MSH-10, as far as the original's charset can carry it.
        const charset = 'encoding' in original ? original.encoding.charset : Hl7Charset.Utf8;
        const expected = decodeText(encodeText(header.controlId, charset), charset);
        expect(back.message.segment('MSA')?.text(2)).toBe(expected);
        expect(back.message.segment('MSA')?.text(1)).toBe(result.ok ? 'AA' : 'AR');
        expect(back.message.header.triggerEvent).toBe(header.triggerEvent);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('escapeHl7 and unescapeHl7', () => {
  it('round-trip any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(unescapeHl7(escapeHl7(text, DEFAULT_DELIMITERS), DEFAULT_DELIMITERS, Hl7Charset.Utf8)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});
