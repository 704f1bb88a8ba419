import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { MllpClient, MllpConnectionError } from './mllp-client';
import { type MllpConnectionInfo, type MllpServerEvent } from './mllp-events';
import { encodeMllpFrame, MllpDecoder, type MllpFrame } from './mllp-framing';
import { MllpServer, type MllpServerOptions } from './mllp-server';

const HOST = '127.0.0.1';

const servers: MllpServer[] = [];
const clients: MllpClient[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const echo = (frame: MllpFrame): Promise<Buffer> => Promise.resolve(Buffer.concat([Buffer.from('ACK|'), frame.payload]));
const failureReply = (): Buffer => Buffer.from('AR');

async function startServer(options: Partial<MllpServerOptions> = {}): Promise<{ server: MllpServer; port: number; events: MllpServerEvent[] }> {
  const events: MllpServerEvent[] = [];
  const server = new MllpServer({
    handler: echo,
    onHandlerError: failureReply,
    port: 0,
    host: HOST,
    onEvent: (event) => events.push(event),
    ...options,
  });
  servers.push(server);
  const { port } = await server.listen();
  return { server, port, events };
}

function client(port: number, options: Partial<ConstructorParameters<typeof MllpClient>[0]> = {}): MllpClient {
  const created = new MllpClient({ host: HOST, port, timeoutMs: 5_000, ...options });
  clients.push(created);
  return created;
}

/** A raw TCP connection collecting decoded reply payloads, for bytes MllpClient would never send. */
async function rawConnection(port: number): Promise<{ socket: Socket; replies: string[]; ended: Promise<void> }> {
  const socket = connect({ host: HOST, port });
  sockets.push(socket);
  const replies: string[] = [];
  const decoder = new MllpDecoder();
  socket.on('data', (chunk: Buffer) => {
    for (const item of decoder.push(chunk)) if (item.kind === 'frame') replies.push(item.frame.payload.toString());
  });
  socket.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, replies, ended };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

const text = (buffer: Buffer): string => buffer.toString();

describe('MllpServer', () => {
  it('answers 20 concurrent connections of 100 frames each, in order on each connection', async () => {
    const active = new Map<string, number>();
    let maxPerConnection = 0;
    let maxOverall = 0;
    let overall = 0;
    const { server, port } = await startServer({
      handler: async (frame, connection) => {
        const now = (active.get(connection.id) ?? 0) + 1;
        active.set(connection.id, now);
        overall += 1;
        maxPerConnection = Math.max(maxPerConnection, now);
        maxOverall = Math.max(maxOverall, overall);
        await sleep(frame.payload.length % 3);
        active.set(connection.id, now - 1);
        overall -= 1;
        return echo(frame);
      },
    });
    const senders = Array.from({ length: 20 }, (_, c) => client(port, { pipelining: c % 2 === 0 }));
    const replies = await Promise.all(
      senders.map((sender, c) => Promise.all(Array.from({ length: 100 }, (_, i) => sender.send(Buffer.from(`MSH|c${c}|m${i}`))))),
    );
    replies.forEach((list, c) => {
      expect(list.map(text)).toEqual(Array.from({ length: 100 }, (_, i) => `ACK|MSH|c${c}|m${i}`));
    });
    expect(maxPerConnection).toBe(1);
    expect(maxOverall).toBeGreaterThan(1);
    expect(server.stats()).toMatchObject({ connectionsTotal: 20, framesReceived: 2000, framesAnswered: 2000, discardedBytes: 0 });
  });

  it('tells the handler who is connected', async () => {
    const seen: MllpConnectionInfo[] = [];
    const { port } = await startServer({
      handler: async (frame, connection) => {
        seen.push(connection);
        return echo(frame);
      },
    });
    await client(port).send(Buffer.from('a'));
    await client(port).send(Buffer.from('b'));
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({ remoteAddress: HOST, tls: false });
    expect(seen[0]?.peerCertificate).toBeUndefined();
    expect(seen[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[0]?.id).not.toBe(seen[1]?.id);
  });

  it('answers with onHandlerError when the handler throws, and keeps the connection', async () => {
    const failures: unknown[] = [];
    const { server, port, events } = await startServer({
      handler: async (frame) => {
        if (text(frame.payload) === 'bad') throw new Error('cannot apply');
        return echo(frame);
      },
      onHandlerError: (error, frame) => {
        failures.push(error);
        return Buffer.from(`AR|${text(frame.payload)}`);
      },
    });
    const sender = client(port);
    expect(text(await sender.send(Buffer.from('bad')))).toBe('AR|bad');
    expect(text(await sender.send(Buffer.from('good')))).toBe('ACK|good');
    expect(failures).toEqual([new Error('cannot apply')]);
    expect(server.stats()).toMatchObject({ handlerErrors: 1, framesAnswered: 2, connectionsTotal: 1 });
    const answered = events.flatMap((e) => (e.type === 'frame-answered' ? [e.handlerFailed] : []));
    expect(answered).toEqual([true, false]);
  });

  it('treats a reply holding a block character as a handler error', async () => {
    const { server, port } = await startServer({ handler: () => Promise.resolve(Buffer.from('MSA|AA\x1c')) });
    expect(text(await client(port).send(Buffer.from('x')))).toBe('AR');
    expect(server.stats().handlerErrors).toBe(1);
  });

  it('closes the connection when no reply can be built, and keeps listening', async () => {
    const { server, port, events } = await startServer({
      handler: async (frame) => {
        if (text(frame.payload) === 'bad') throw new Error('cannot apply');
        return echo(frame);
      },
      onHandlerError: () => {
        throw new Error('cannot even refuse');
      },
    });
    await expect(client(port).send(Buffer.from('bad'))).rejects.toBeInstanceOf(MllpConnectionError);
    expect(text(await client(port).send(Buffer.from('good')))).toBe('ACK|good');
    await until(() => server.stats().connectionsOpen === 1);
    expect(server.stats()).toMatchObject({ handlerErrors: 1, responseErrors: 1, framesUnanswered: 1, framesAnswered: 1 });
    expect(events.find((e) => e.type === 'connection-close')).toMatchObject({ reason: 'no-response', framesUnanswered: 1 });
  });

  it('hands an oversize frame to the handler flagged and truncated, then carries on', async () => {
    const frames: MllpFrame[] = [];
    const { server, port } = await startServer({
      maxFrameBytes: 1000,
      handler: (frame) => {
        frames.push(frame);
        return Promise.resolve(Buffer.from(frame.oversize === true ? 'AR|too big' : 'AA'));
      },
    });
    const sender = client(port);
    expect(text(await sender.send(Buffer.alloc(5000, 0x41)))).toBe('AR|too big');
    expect(text(await sender.send(Buffer.from('small')))).toBe('AA');
    expect(frames[0]).toEqual({ payload: Buffer.alloc(1000, 0x41), byteLength: 5000, oversize: true });
    expect(frames[1]).toEqual({ payload: Buffer.from('small'), byteLength: 5 });
    expect(server.stats()).toMatchObject({ oversizeFrames: 1, framesAnswered: 2, connectionsTotal: 1 });
  });

  it('answers only framed messages, and counts the bytes around them', async () => {
    const { server, port, events } = await startServer();
    const raw = await rawConnection(port);
    raw.socket.write(Buffer.concat([Buffer.from('noise'), encodeMllpFrame(Buffer.from('one')), Buffer.from('\n')]));
    raw.socket.write(Buffer.from('headless\x1c\r'));
    raw.socket.write(Buffer.from('\x0bhal'));
    await sleep(20);
    raw.socket.write(Buffer.from('f\x1c'));
    await sleep(20);
    raw.socket.write(Buffer.from('\r'));
    await until(() => raw.replies.length === 2);
    await sleep(50);
    expect(raw.replies).toEqual(['ACK|one', 'ACK|half']);
    raw.socket.write(encodeMllpFrame(Buffer.from('two')));
    await until(() => raw.replies.length === 3);
    expect(raw.replies[2]).toBe('ACK|two');
    expect(server.stats()).toMatchObject({ framesReceived: 3, discardedBytes: 5 + 1 + 10, missingStartBlocks: 1, missingCarriageReturns: 0 });
    expect(events.filter((e) => e.type === 'anomaly')).toEqual([
      { type: 'anomaly', connectionId: expect.any(String), anomaly: 'missing-start-block' },
    ]);
  });

  it('answers what a sender wrote before half-closing', async () => {
    const { port } = await startServer({
      handler: async (frame) => {
        await sleep(20);
        return echo(frame);
      },
    });
    const raw = await rawConnection(port);
    raw.socket.end(Buffer.concat([encodeMllpFrame(Buffer.from('a')), encodeMllpFrame(Buffer.from('b'))]));
    await raw.ended;
    expect(raw.replies).toEqual(['ACK|a', 'ACK|b']);
  });

  it('closes an idle connection, and the client reconnects for its next message', async () => {
    const { server, port, events } = await startServer({ idleTimeoutMs: 100 });
    const sender = client(port);
    expect(text(await sender.send(Buffer.from('first')))).toBe('ACK|first');
    await until(() => server.stats().idleTimeouts === 1);
    await until(() => server.stats().connectionsOpen === 0);
    expect(events.find((e) => e.type === 'connection-close')).toMatchObject({ reason: 'idle', framesAnswered: 1, framesUnanswered: 0 });
    expect(text(await sender.send(Buffer.from('second')))).toBe('ACK|second');
    expect(sender.stats().connections).toBe(2);
  });

  it('does not time out a connection whose frame the handler is still working on', async () => {
    const { server, port } = await startServer({
      idleTimeoutMs: 50,
      handler: async (frame) => {
        await sleep(200);
        return echo(frame);
      },
    });
    expect(text(await client(port).send(Buffer.from('slow')))).toBe('ACK|slow');
    expect(server.stats()).toMatchObject({ framesAnswered: 1, framesUnanswered: 0 });
  });

  it('refuses connections beyond maxConnections and serves the others', async () => {
    const { server, port, events } = await startServer({ maxConnections: 2 });
    const first = client(port);
    const second = client(port);
    await first.connect();
    await second.connect();
    await until(() => server.connectionCount === 2);
    const third = await rawConnection(port);
    await third.ended;
    expect(server.stats()).toMatchObject({ connectionsRejected: 1, connectionsTotal: 2 });
    expect(events.filter((e) => e.type === 'connection-rejected')).toEqual([
      { type: 'connection-rejected', remoteAddress: HOST, reason: 'max-connections' },
    ]);
    expect(text(await first.send(Buffer.from('1')))).toBe('ACK|1');
    expect(text(await second.send(Buffer.from('2')))).toBe('ACK|2');
  });

  it('stops reading a pipelining connection while frames queue up, and answers them all in order', async () => {
    const { server, port } = await startServer({
      maxQueuedFrames: 2,
      handler: async (frame) => {
        await sleep(1);
        return echo(frame);
      },
    });
    const sender = client(port, { pipelining: true });
    const payloads = Array.from({ length: 200 }, (_, i) => `m${i}`);
    const replies = await Promise.all(payloads.map((p) => sender.send(Buffer.from(p))));
    expect(replies.map(text)).toEqual(payloads.map((p) => `ACK|${p}`));
    expect(server.stats().framesAnswered).toBe(200);
  });

  it('closes gracefully: the frame in flight is answered, one not started is not, then no connection is accepted', async () => {
    let started = 0;
    const { server, port, events } = await startServer({
      handler: async (frame) => {
        started += 1;
        await sleep(200);
        return echo(frame);
      },
    });
    const sender = client(port, { pipelining: true });
    const first = sender.send(Buffer.from('in flight'));
    const second = sender.send(Buffer.from('queued')).catch((error: unknown) => error);
    await until(() => started === 1 && server.stats().framesReceived === 2);
    const closing = server.close();
    expect(text(await first)).toBe('ACK|in flight');
    expect(await second).toBeInstanceOf(MllpConnectionError);
    await closing;
    expect(started).toBe(1);
    expect(events.at(-1)).toEqual({ type: 'closed' });
    expect(events.find((e) => e.type === 'connection-close')).toMatchObject({ reason: 'server-close', framesAnswered: 1, framesUnanswered: 1 });
    await expect(client(port, { connectTimeoutMs: 1_000 }).send(Buffer.from('late'))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('bounds the wait in close() when a handler never finishes', async () => {
    const { server, port } = await startServer({ closeTimeoutMs: 200, handler: () => new Promise<Buffer>(() => undefined) });
    const sender = client(port);
    const outcome = sender.send(Buffer.from('stuck')).catch((error: unknown) => error);
    await until(() => server.stats().framesReceived === 1);
    const began = Date.now();
    await server.close();
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(await outcome).toBeInstanceOf(MllpConnectionError);
    expect(server.stats()).toMatchObject({ framesAnswered: 0, framesUnanswered: 1, connectionsOpen: 0 });
  });

  it('never puts a payload byte in an event', async () => {
    const secret = 'PID|1||9990000018^^^NHS||SECRET^PATIENT';
    const { port, server, events } = await startServer({
      handler: (frame) =>
        frame.payload.includes('throw') ? Promise.reject(new Error('handler failed')) : Promise.resolve(Buffer.from('MSA|AA')),
    });
    const raw = await rawConnection(port);
    raw.socket.write(`${secret}\x1c\r\x0b${secret}\x1c\x0b${secret}throw\x1c\r\x0b${secret}`);
    await until(() => raw.replies.length === 2);
    raw.socket.destroy();
    await until(() => server.stats().connectionsOpen === 0);
    const logged = JSON.stringify(events);
    expect(logged).not.toContain('SECRET');
    expect(logged).not.toContain('9990000018');
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(['listening', 'connection-open', 'anomaly', 'discarded', 'frame-answered', 'handler-error', 'connection-close']),
    );
  });

  it('keeps running when the event listener throws', async () => {
    const { server, port } = await startServer({
      onEvent: () => {
        throw new Error('broken metrics');
      },
    });
    expect(text(await client(port).send(Buffer.from('x')))).toBe('ACK|x');
    expect(server.stats().listenerErrors).toBeGreaterThan(0);
  });
});
