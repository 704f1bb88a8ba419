/**
 * Fuzz: at least 10,000 random and mutated messages over MLLP on loopback. The listener must stay
 * up and answer each framed message exactly once, in order; bytes outside frames get nothing.
 *
 * Each case knows what it should get back, from how it was built (a clean frame, a frame with a
 * start or end block inside its payload, noise, a frame without its start block, an oversize
 * frame…); a payload holding both block characters is predicted by a small reference model. The
 * expectation is checked against the decoder run over the whole stream, and the replies, which
 * carry the length and a hash of the frame they answer, against the expectation.
 *
 * Reproduce a failure with FUZZ_SEED=<seed printed by fast-check>.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { MllpClient } from './mllp-client';
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodeMllpFrame,
  MLLP_CARRIAGE_RETURN as CR,
  MLLP_END_BLOCK as FS,
  MLLP_START_BLOCK as VT,
  MllpDecoder,
  type MllpFrame,
} from './mllp-framing';
import { MllpServer } from './mllp-server';

const HOST = '127.0.0.1';
const MAX = DEFAULT_MAX_FRAME_BYTES;
const RUNS = 20;
const CONNECTIONS_PER_RUN = 4;
const CASES_PER_CONNECTION = 125;
const REPLY_DEADLINE_MS = 15_000;

// ── What the listener answers: the frame's length and a hash of what it kept; 1 in 16 frames
//    makes the handler throw, so the error path is fuzzed too. ───────────────────────────────────

const digest = (payload: Buffer): string => createHash('sha256').update(payload).digest('hex').slice(0, 16);

function expectedAck(payload: Buffer, byteLength = payload.length): string {
  const kept = byteLength > MAX ? payload.subarray(0, MAX) : payload;
  const hash = digest(kept);
  return `${hash.startsWith('0') ? 'AR' : 'AA'}|${byteLength}|${hash}|${byteLength > MAX ? 1 : 0}`;
}

const handler = (frame: MllpFrame): Promise<Buffer> => {
  const hash = digest(frame.payload);
  if (hash.startsWith('0')) return Promise.reject(new Error('fuzz: refused'));
  return Promise.resolve(Buffer.from(`AA|${frame.byteLength}|${hash}|${frame.oversize === true ? 1 : 0}`));
};
const onHandlerError = (_error: unknown, frame: MllpFrame): Buffer =>
  Buffer.from(`AR|${frame.byteLength}|${digest(frame.payload)}|${frame.oversize === true ? 1 : 0}`);

// ── Payloads ─────────────────────────────────────────────────────────────────────────────────────

const hl7Message = fc
  .record({
    controlId: fc.stringMatching(/^[A-Z0-9]{1,20}$/),
    event: fc.constantFrom('A01', 'A02', 'A03', 'A08', 'A11', 'A13', 'A28', 'A31', 'A40'),
    nhsNumber: fc.stringMatching(/^\d{10}$/),
    family: fc.string({ unit: 'grapheme', maxLength: 20 }),
    given: fc.string({ maxLength: 15 }),
    extra: fc.array(fc.string({ unit: 'binary', maxLength: 80 }), { maxLength: 5 }),
    terminator: fc.constantFrom('\r', '\n', '\r\n'),
    encoding: fc.constantFrom<BufferEncoding>('utf8', 'latin1'),
  })
  .map(({ controlId, event, nhsNumber, family, given, extra, terminator, encoding }) => {
    const segments = [
      `MSH|^~\\&|PAS|RXX|CAREBRIDGE|X|20260301120000||ADT^${event}^ADT_A01|${controlId}|P|2.4|||AL|NE||${encoding === 'utf8' ? 'UNICODE UTF-8' : '8859/1'}`,
      `EVN|${event}|20260301120000`,
      `PID|1||${nhsNumber}^^^NHS^NH||${family}^${given}||19450101|F`,
      'PV1|1|I|WARD1^BED2^^RXX',
      ...extra.map((text, i) => `ZX${i}|${text}`),
    ];
    return Buffer.from(segments.join(terminator) + terminator, encoding);
  });

type Mutation = (payload: Buffer, at: number, length: number, bytes: Uint8Array) => Buffer;
const mutations: readonly Mutation[] = [
  (p, at, _n, bytes) => Buffer.concat([p.subarray(0, at), bytes, p.subarray(at)]), // insert
  (p, at, n) => Buffer.concat([p.subarray(0, at), p.subarray(at + n)]), // delete
  (p, at, n) => Buffer.concat([p.subarray(0, at + n), p.subarray(at, at + n), p.subarray(at + n)]), // duplicate
  (p, at) => p.subarray(0, at), // truncate
  (p, at, _n, bytes) => {
    const copy = Buffer.from(p);
    copy[at] = bytes[0] ?? 0xff; // overwrite one byte
    return copy;
  },
  (p) => Buffer.from(p.toString('latin1').replaceAll('\r', '\n'), 'latin1'), // LF segment terminators
  (p, at) => Buffer.concat([p.subarray(0, at), Buffer.from([VT]), p.subarray(at)]), // start block inside
  (p, at) => Buffer.concat([p.subarray(0, at), Buffer.from([FS]), p.subarray(at)]), // end block inside
  (p, at) => Buffer.concat([p.subarray(0, at), Buffer.from([FS, CR]), p.subarray(at)]), // a whole end inside
];

const mutatedHl7 = fc
  .tuple(
    hl7Message,
    fc.array(fc.tuple(fc.nat(mutations.length - 1), fc.nat(), fc.nat(40), fc.uint8Array({ minLength: 1, maxLength: 30 })), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([message, steps]) =>
    steps.reduce<Buffer>((payload, [which, at, length, bytes]) => {
      const mutate = mutations[which];
      if (mutate === undefined) return payload;
      return mutate(payload, payload.length === 0 ? 0 : at % payload.length, length, bytes);
    }, message),
  );

const randomBytes = fc.uint8Array({ maxLength: 2_000 }).map((array) => Buffer.from(array));
// Around the limit, and far over it.
const hugePayload = fc
  .oneof(fc.integer({ min: MAX - 2, max: MAX + 2 }), fc.integer({ min: MAX + MAX / 2, max: 3 * MAX }))
  .chain((size) => fc.constantFrom(0x41, 0x7c, 0xe9).map((fill) => Buffer.alloc(size, fill)));

const payload = fc.oneof(
  { weight: 100, arbitrary: hl7Message },
  { weight: 130, arbitrary: mutatedHl7 },
  { weight: 60, arbitrary: randomBytes },
  { weight: 8, arbitrary: fc.constant(Buffer.alloc(0)) },
  // About 1 in 300: some 30 frames of 1 to 3 MiB over the whole run.
  { weight: 1, arbitrary: hugePayload },
);

// ── Cases: payload + how it is put on the wire + what must come back ─────────────────────────────

interface FuzzCase {
  readonly bytes: Buffer;
  /** The replies this case must get, in order. */
  readonly acks: readonly string[];
}

const without = (payload: Buffer, ...drop: number[]): Buffer => Buffer.from(payload.filter((b) => !drop.includes(b)));

/** What a frame written as VT payload FS answers to, from the payload alone when it can be told. */
function framedAcks(payload: Buffer): string[] | undefined {
  const hasStart = payload.includes(VT);
  const hasEnd = payload.includes(FS);
  if (hasStart && hasEnd) return undefined;
  // A start block inside restarts the frame; an end block inside ends it (the rest is noise).
  if (hasStart) return [expectedAck(payload.subarray(payload.lastIndexOf(VT) + 1))];
  if (hasEnd) return [expectedAck(payload.subarray(0, payload.indexOf(FS)))];
  return [expectedAck(payload)];
}

/**
 * A payload holding both block characters: predicted by a byte-at-a-time reference model of the
 * framing rules (a start block starts or restarts a frame, an end block ends one, anything else
 * outside a frame is dropped), written independently of the decoder. Closed if left open.
 */
function referencePredicted(bytes: Buffer): FuzzCase {
  const frames: Buffer[] = [];
  let current: number[] | undefined;
  for (const byte of bytes) {
    if (byte === VT) current = [];
    else if (byte === FS) {
      if (current !== undefined) frames.push(Buffer.from(current));
      current = undefined;
    } else current?.push(byte);
  }
  if (current !== undefined) frames.push(Buffer.from(current));
  const closed = current === undefined ? bytes : Buffer.concat([bytes, Buffer.from([FS, CR])]);
  return { bytes: closed, acks: frames.map((frame) => expectedAck(frame)) };
}

const wire = (...parts: (Buffer | number[])[]): Buffer => Buffer.concat(parts.map((part) => Buffer.from(part)));

/** A counterexample prints as shapes and sizes, not megabytes of bytes; FUZZ_SEED replays it whole. */
function labelled(shape: string, fuzz: FuzzCase): FuzzCase {
  return Object.assign(fuzz, { [fc.toStringMethod]: () => `${shape}(${fuzz.bytes.length} bytes, ${fuzz.acks.length} replies)` });
}

/** How a case goes on the wire. */
const Shape = {
  Framed: 'framed',
  NoCarriageReturn: 'no-cr',
  TrailingLineFeed: 'trailing-lf',
  /** A partial frame, then a start block and a whole frame. */
  Abandoned: 'abandoned',
  /** Bytes outside any frame. */
  Noise: 'noise',
  /** A payload and end block without a start block. */
  Headless: 'headless',
} as const;
type Shape = (typeof Shape)[keyof typeof Shape];

const fuzzCase: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: fc.constant(Shape.Framed) }, fc.constantFrom(...Object.values(Shape))),
    payload,
    randomBytes,
  )
  .map(([shape, body, noise]) => labelled(shape, buildCase(shape, body, noise)));

function buildCase(shape: Shape, body: Buffer, noise: Buffer): FuzzCase {
  switch (shape) {
    case 'framed':
      return framedCase(wire([VT], body, [FS, CR]), body);
    case 'no-cr':
      return framedCase(wire([VT], body, [FS]), body);
    case 'trailing-lf':
      return framedCase(wire([VT], body, [FS, CR, 0x0a]), body);
    case 'abandoned':
      return framedCase(wire([VT], without(noise, VT, FS), [VT], body, [FS, CR]), body);
    case 'noise':
      return { bytes: without(noise, VT), acks: [] };
    case 'headless':
      return { bytes: wire(without(body, VT), [FS, CR]), acks: [] };
  }
}

function framedCase(bytes: Buffer, body: Buffer): FuzzCase {
  const acks = framedAcks(body);
  return acks === undefined ? referencePredicted(bytes) : { bytes, acks };
}

// ── Sending ─────────────────────────────────────────────────────────────────────────────────────

const SENTINEL = Buffer.from('MSH|^~\\&|FUZZ|SENTINEL');

/** Writes the stream in the given chunk sizes and resolves with every reply once the sentinel's arrives. */
async function sendStream(port: number, stream: Buffer, chunkSizes: readonly number[]): Promise<string[]> {
  const socket: Socket = connect({ host: HOST, port });
  socket.setNoDelay(true);
  await once(socket, 'connect');
  const replies: string[] = [];
  const decoder = new MllpDecoder();
  const sentinelAck = expectedAck(SENTINEL);
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no sentinel reply after ${REPLY_DEADLINE_MS} ms (${replies.length} replies)`));
    }, REPLY_DEADLINE_MS);
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        if (item.kind !== 'frame') continue;
        const reply = item.frame.payload.toString();
        replies.push(reply);
        if (reply === sentinelAck) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`connection closed after ${replies.length} replies`));
    });
  });
  const whole = Buffer.concat([stream, encodeMllpFrame(SENTINEL)]);
  let offset = 0;
  for (let i = 0; offset < whole.length; i += 1) {
    const size = chunkSizes[i % chunkSizes.length] ?? 1;
    if (!socket.write(whole.subarray(offset, offset + size))) await once(socket, 'drain');
    offset += size;
  }
  try {
    await done;
  } finally {
    socket.destroy();
  }
  return replies.slice(0, -1);
}

// ── The test ────────────────────────────────────────────────────────────────────────────────────

describe('MLLP fuzz', () => {
  let server: MllpServer;
  let port: number;

  beforeAll(async () => {
    server = new MllpServer({ handler, onHandlerError, port: 0, host: HOST });
    ({ port } = await server.listen());
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers each of 10,000 random and mutated framed messages exactly once and stays up', async () => {
    let cases = 0;
    let expectedReplies = 0;
    const chunkSize = fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 1_500 }), fc.integer({ min: 1_501, max: 65_536 }));
    const connectionStream = fc.tuple(
      fc.array(fuzzCase, { minLength: CASES_PER_CONNECTION, maxLength: CASES_PER_CONNECTION }),
      fc.array(chunkSize, { minLength: 1, maxLength: 40 }),
    );
    const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

    await fc.assert(
      fc.asyncProperty(fc.array(connectionStream, { minLength: CONNECTIONS_PER_RUN, maxLength: CONNECTIONS_PER_RUN }), async (connections) => {
        const results = await Promise.all(
          connections.map(async ([fuzzCases, chunkSizes]) => {
            const stream = Buffer.concat(fuzzCases.map((c) => c.bytes));
            const expected = fuzzCases.flatMap((c) => c.acks);
            // What was built agrees with the decoder over the whole stream...
            const predicted = new MllpDecoder()
              .push(stream)
              .flatMap((item) => (item.kind === 'frame' ? [expectedAck(item.frame.payload, item.frame.byteLength)] : []));
            expect(predicted).toEqual(expected);
            // ...and the listener answers exactly that, in order.
            const replies = await sendStream(port, stream, chunkSizes);
            expect(replies).toEqual(expected);
            return expected.length;
          }),
        );
        cases += connections.reduce((sum, [fuzzCases]) => sum + fuzzCases.length, 0);
        expectedReplies += results.reduce((sum, n) => sum + n, 0);
      }),
      { numRuns: RUNS, endOnFailure: true, ...(seed === undefined ? {} : { seed }) },
    );

    expect(cases).toBeGreaterThanOrEqual(10_000);
    const stats = server.stats();
    const sentinels = RUNS * CONNECTIONS_PER_RUN;
    expect(stats.framesReceived).toBe(expectedReplies + sentinels);
    expect(stats.framesAnswered).toBe(expectedReplies + sentinels);
    expect(stats.framesUnanswered).toBe(0);
    expect(stats.responseErrors).toBe(0);
    // The faults were really there.
    expect(stats.handlerErrors).toBeGreaterThan(0);
    expect(stats.oversizeFrames).toBeGreaterThan(0);
    expect(stats.discardedBytes).toBeGreaterThan(0);
    expect(stats.missingStartBlocks).toBeGreaterThan(0);
    expect(stats.missingCarriageReturns).toBeGreaterThan(0);
    await waitForNoConnections(server);

    const after = new MllpClient({ host: HOST, port, timeoutMs: 5_000 });
    try {
      expect((await after.send(Buffer.from('MSH|after'))).toString()).toBe(expectedAck(Buffer.from('MSH|after')));
    } finally {
      await after.close();
    }
  }, 60_000);
});

async function waitForNoConnections(listener: MllpServer): Promise<void> {
  for (let i = 0; i < 200 && listener.connectionCount > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(listener.connectionCount).toBe(0);
}
