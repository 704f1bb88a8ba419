import fc from 'fast-check';
import {
  encodeMllpFrame,
  MLLP_CARRIAGE_RETURN,
  MLLP_END_BLOCK,
  MLLP_START_BLOCK,
  MllpDecoder,
  type MllpDecoded,
  type MllpDecoderOptions,
  type MllpFrame,
} from './mllp-framing';

const VT = String.fromCharCode(MLLP_START_BLOCK);
const FS = String.fromCharCode(MLLP_END_BLOCK);
const CR = String.fromCharCode(MLLP_CARRIAGE_RETURN);

const ADT = 'MSH|^~\\&|PAS|RXX|CAREBRIDGE|X|20260101120000||ADT^A01|MSG0001|P|2.4\rPID|1||9990000018^^^NHS||DOE^JANE\r';

interface Summary {
  frames: { payload: string; byteLength: number; oversize: boolean }[];
  discarded: Record<string, number>;
  anomalies: string[];
}

/** Decodes chunk by chunk and summarises, adding up discards (their runs split with the chunks). */
function decode(chunks: readonly Buffer[], options?: MllpDecoderOptions, finish = false): Summary {
  const decoder = new MllpDecoder(options);
  const items: MllpDecoded[] = [];
  for (const chunk of chunks) items.push(...decoder.push(chunk));
  if (finish) items.push(...decoder.finish());
  const summary: Summary = { frames: [], discarded: {}, anomalies: [] };
  for (const item of items) {
    if (item.kind === 'frame') summary.frames.push(frameSummary(item.frame));
    else if (item.kind === 'discarded') summary.discarded[item.reason] = (summary.discarded[item.reason] ?? 0) + item.byteCount;
    else summary.anomalies.push(item.anomaly);
  }
  return summary;
}

function frameSummary(frame: MllpFrame): Summary['frames'][number] {
  return { payload: frame.payload.toString('latin1'), byteLength: frame.byteLength, oversize: frame.oversize === true };
}

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Splits a buffer at the given cut points (sorted, deduplicated, within bounds). */
function splitAt(buffer: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => Math.min(Math.max(cut, 0), buffer.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, buffer.length]) {
    chunks.push(buffer.subarray(start, point));
    start = point;
  }
  return chunks;
}

/** Bytes the decoder accounted for: each frame's start block, payload, end block and CR, plus every discard. */
function accountedBytes(summary: Summary, input: Buffer): { framed: number; discarded: number; unframedCrs: number } {
  const framed = summary.frames.reduce((sum, frame) => sum + frame.byteLength + 2, 0);
  const discarded = Object.values(summary.discarded).reduce((sum, n) => sum + n, 0);
  return { framed, discarded, unframedCrs: input.length - framed - discarded };
}

describe('encodeMllpFrame', () => {
  it('wraps a payload in a start block, end block and carriage return', () => {
    expect([...encodeMllpFrame(bytes('AB'))]).toEqual([0x0b, 0x41, 0x42, 0x1c, 0x0d]);
    expect([...encodeMllpFrame(Buffer.alloc(0))]).toEqual([0x0b, 0x1c, 0x0d]);
  });
});

describe('MllpDecoder', () => {
  it('decodes one frame and leaves its payload as bytes, ISO-8859-1 included', () => {
    const payload = Buffer.concat([bytes(ADT), Buffer.from([0xe9])]);
    const summary = decode([encodeMllpFrame(payload)]);
    expect(summary).toEqual({
      frames: [{ payload: payload.toString('latin1'), byteLength: payload.length, oversize: false }],
      discarded: {},
      anomalies: [],
    });
  });

  it('decodes several frames in one chunk, an empty frame among them', () => {
    const stream = bytes(`${VT}one${FS}${CR}${VT}${FS}${CR}${VT}three${FS}${CR}`);
    expect(decode([stream]).frames.map((frame) => frame.payload)).toEqual(['one', '', 'three']);
  });

  it('gives the same frames whichever byte boundary a two-frame stream is split at', () => {
    const stream = bytes(`${VT}${ADT}${FS}${CR}${VT}second${FS}${CR}`);
    const whole = decode([stream]);
    expect(whole.frames.map((frame) => frame.payload)).toEqual([ADT, 'second']);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      expect(decode(splitAt(stream, [cut]))).toEqual(whole);
    }
  });

  it('gives the same result fed one byte at a time, for a stream with every kind of fault', () => {
    const stream = bytes(`noise${VT}a${FS}${CR}\n${VT}lost${VT}b${FS}X${VT}c${FS}headless${FS}${CR}${VT}d${FS}`);
    const whole = decode([stream]);
    const oneByOne = decode([...stream].map((byte) => Buffer.from([byte])));
    expect(oneByOne).toEqual(whole);
    expect(whole).toEqual({
      frames: [
        { payload: 'a', byteLength: 1, oversize: false },
        { payload: 'b', byteLength: 1, oversize: false },
        { payload: 'c', byteLength: 1, oversize: false },
        { payload: 'd', byteLength: 1, oversize: false },
      ],
      // 'noise' 5 + LF 1 + 'X' 1 + 'headless' 8 + its end block 1 + the CR after it 1.
      discarded: { 'outside-frame': 17, 'abandoned-frame': 5 },
      // b's end block is followed by 'X', c's by 'h'.
      anomalies: ['missing-carriage-return', 'missing-carriage-return', 'missing-start-block'],
    });
  });

  it('discards and counts bytes outside a frame, a LF after the end block among them', () => {
    const summary = decode([bytes(`garbage${VT}a${FS}${CR}\n${VT}b${FS}${CR}\r\n`)]);
    expect(summary.frames.map((frame) => frame.payload)).toEqual(['a', 'b']);
    expect(summary.discarded).toEqual({ 'outside-frame': 10 });
    expect(summary.anomalies).toEqual([]);
  });

  it('reports an end block without a start block and discards what came before it', () => {
    const summary = decode([bytes(`${ADT}${FS}${CR}${VT}next${FS}${CR}`)]);
    expect(summary.frames.map((frame) => frame.payload)).toEqual(['next']);
    expect(summary.anomalies).toEqual(['missing-start-block']);
    expect(summary.discarded).toEqual({ 'outside-frame': ADT.length + 2 });
  });

  it('ends a frame at an end block without a carriage return and reports it', () => {
    const summary = decode([bytes(`${VT}a${FS}${VT}b${FS}${CR}`)]);
    expect(summary.frames.map((frame) => frame.payload)).toEqual(['a', 'b']);
    expect(summary.anomalies).toEqual(['missing-carriage-return']);
    expect(summary.discarded).toEqual({});
  });

  it('delivers a frame as soon as its end block arrives, before the carriage return', () => {
    const decoder = new MllpDecoder();
    const first = decoder.push(bytes(`${VT}a${FS}`));
    expect(first).toEqual([{ kind: 'frame', frame: { payload: bytes('a'), byteLength: 1 } }]);
    expect(decoder.push(bytes(CR))).toEqual([]);
  });

  it('abandons a partial frame when a start block arrives inside it', () => {
    const summary = decode([bytes(`${VT}half a mess`), bytes(`age${VT}whole${FS}${CR}`)]);
    expect(summary.frames.map((frame) => frame.payload)).toEqual(['whole']);
    expect(summary.discarded).toEqual({ 'abandoned-frame': 'half a message'.length + 1 });
  });

  it('reads an oversize frame to its end, keeps its first bytes, flags it, and decodes the next frame', () => {
    const big = 'x'.repeat(25);
    const stream = bytes(`${VT}${big}${FS}${CR}${VT}small${FS}${CR}`);
    for (const chunks of [[stream], splitAt(stream, [3, 11, 20, 27])]) {
      expect(decode(chunks, { maxFrameBytes: 10 }).frames).toEqual([
        { payload: 'x'.repeat(10), byteLength: 25, oversize: true },
        { payload: 'small', byteLength: 5, oversize: false },
      ]);
    }
  });

  it('accepts a frame of exactly the maximum size', () => {
    expect(decode([bytes(`${VT}${'y'.repeat(10)}${FS}${CR}`)], { maxFrameBytes: 10 }).frames).toEqual([
      { payload: 'y'.repeat(10), byteLength: 10, oversize: false },
    ]);
  });

  it('keeps no more than the maximum of an endless frame', () => {
    const decoder = new MllpDecoder({ maxFrameBytes: 1000 });
    decoder.push(bytes(VT));
    for (let i = 0; i < 100; i += 1) decoder.push(Buffer.alloc(10_000, 0x41));
    const [item] = decoder.push(bytes(`${FS}${CR}`));
    expect(item).toEqual({ kind: 'frame', frame: { payload: Buffer.alloc(1000, 0x41), byteLength: 1_000_000, oversize: true } });
  });

  it('reports a frame left open when the stream ends', () => {
    expect(decode([bytes(`${VT}a${FS}${CR}${VT}unfinished`)], {}, true)).toEqual({
      frames: [{ payload: 'a', byteLength: 1, oversize: false }],
      discarded: { 'unterminated-frame': 11 },
      anomalies: [],
    });
  });

  it('does not pin the chunk a payload came from', () => {
    const chunk = bytes(`${VT}abc${FS}${CR}`);
    const [item] = new MllpDecoder().push(chunk);
    chunk.fill(0);
    expect(item?.kind === 'frame' && item.frame.payload.toString()).toBe('abc');
  });

  it('round-trips any payloads without block characters, however the stream is cut', () => {
    const payload = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array.filter((b) => b !== 0x0b && b !== 0x1c)));
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 20 }), fc.array(fc.nat(7000), { maxLength: 30 }), (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map(encodeMllpFrame));
        const summary = decode(splitAt(stream, cuts));
        expect(summary.frames.map((frame) => frame.payload)).toEqual(payloads.map((p) => p.toString('latin1')));
        expect(summary.discarded).toEqual({});
        expect(summary.anomalies).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('frames any stream as the reference model does, accounts for every byte, and cutting it never changes the result', () => {
    // Bytes biased towards the block characters, so every path of the decoder is taken.
    const byte = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 255 }) },
      { weight: 1, arbitrary: fc.constantFrom(0x0b, 0x1c, 0x0d, 0x0a) },
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 400 }), fc.array(fc.nat(400), { maxLength: 20 }), fc.integer({ min: 0, max: 40 }), (array, cuts, max) => {
        const stream = Buffer.from(array);
        const whole = decode([stream], { maxFrameBytes: max }, true);
        expect(whole.frames.map((frame) => frame.byteLength)).toEqual(referenceFrames(stream).map((frame) => frame.length));
        expect(whole.frames.map((frame) => frame.payload)).toEqual(referenceFrames(stream).map((frame) => frame.subarray(0, max).toString('latin1')));
        expect(decode(splitAt(stream, cuts), { maxFrameBytes: max }, true)).toEqual(whole);
        const { unframedCrs } = accountedBytes(whole, stream);
        // Whatever was not framed or discarded is exactly the CRs that closed frames.
        const closingCrs = whole.frames.length - whole.anomalies.filter((a) => a === 'missing-carriage-return').length;
        expect(unframedCrs).toBe(closingCrs - (endsWithFrame(stream) ? 1 : 0));
        for (const frame of whole.frames) {
          expect(frame.payload.length).toBe(Math.min(frame.byteLength, max));
          expect(frame.oversize).toBe(frame.byteLength > max);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

/**
 * The framing rules one byte at a time, written independently of the decoder: a start block
 * starts (or restarts) a frame, an end block ends one, anything else outside a frame is dropped.
 */
function referenceFrames(stream: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let current: number[] | undefined;
  for (const byte of stream) {
    if (byte === MLLP_START_BLOCK) current = [];
    else if (byte === MLLP_END_BLOCK) {
      if (current !== undefined) frames.push(Buffer.from(current));
      current = undefined;
    } else current?.push(byte);
  }
  return frames;
}

/** The stream ends on a frame's end block, so the CR that may follow it was never seen. */
function endsWithFrame(stream: Buffer): boolean {
  const lastStart = stream.lastIndexOf(0x0b);
  return lastStart !== -1 && stream.indexOf(0x1c, lastStart) === stream.length - 1;
}
