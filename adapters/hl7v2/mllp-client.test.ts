import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { MllpClient, MllpConnectionError, MllpTimeoutError } from './mllp-client';
import { type MllpConnectionInfo } from './mllp-events';
import { type MllpFrame } from './mllp-framing';
import { MllpServer, type MllpServerOptions } from './mllp-server';

const HOST = '127.0.0.1';
const servers: MllpServer[] = [];
const clients: MllpClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startServer(handler: MllpServerOptions['handler'], options: Partial<MllpServerOptions> = {}): Promise<{ server: MllpServer; port: number }> {
  const server = new MllpServer({ handler, onHandlerError: () => Buffer.from('AR'), port: 0, host: HOST, closeTimeoutMs: 500, ...options });
  servers.push(server);
  const { port } = await server.listen();
  return { server, port };
}

function client(port: number, options: Partial<ConstructorParameters<typeof MllpClient>[0]> = {}): MllpClient {
  const created = new MllpClient({ host: HOST, port, timeoutMs: 5_000, retryDelayMs: 10, ...options });
  clients.push(created);
  return created;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const ack = (frame: MllpFrame): Promise<Buffer> => Promise.resolve(Buffer.concat([Buffer.from('ACK|'), frame.payload]));
const text = (buffer: Buffer): string => buffer.toString();

describe('MllpClient', () => {
  it('retransmits on a fresh connection when a reply times out, as interface engines do', async () => {
    const attempts: MllpConnectionInfo[] = [];
    const { server, port } = await startServer(async (frame, connection) => {
      attempts.push(connection);
      // The first attempt is never answered: its connection is dropped by the client.
      if (attempts.length === 1) return new Promise<Buffer>(() => undefined);
      return ack(frame);
    });
    const sender = client(port, { timeoutMs: 150, retransmits: 2 });
    expect(text(await sender.send(Buffer.from('MSG1')))).toBe('ACK|MSG1');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.id).not.toBe(attempts[1]?.id);
    expect(sender.stats()).toMatchObject({ framesSent: 2, retransmissions: 1, timeouts: 1, replies: 1, connections: 2 });
    expect(server.stats().framesReceived).toBe(2);
  });

  it('gives up with a timeout error once its retransmissions are spent', async () => {
    const { server, port } = await startServer(() => new Promise<Buffer>(() => undefined));
    const sender = client(port, { timeoutMs: 100, retransmits: 1 });
    await expect(sender.send(Buffer.from('MSG1'))).rejects.toBeInstanceOf(MllpTimeoutError);
    expect(sender.stats()).toMatchObject({ framesSent: 2, retransmissions: 1, timeouts: 2, replies: 0 });
    expect(server.stats().framesReceived).toBe(2);
  });

  it('does not take a late reply for the next message', async () => {
    let calls = 0;
    const { port } = await startServer(async (frame) => {
      calls += 1;
      if (calls === 1) await sleep(300);
      return ack(frame);
    });
    const sender = client(port, { timeoutMs: 100, retransmits: 0 });
    await expect(sender.send(Buffer.from('slow'))).rejects.toBeInstanceOf(MllpTimeoutError);
    await sleep(300);
    expect(text(await sender.send(Buffer.from('next')))).toBe('ACK|next');
    expect(sender.stats().unexpectedReplies).toBe(0);
  });

  it('retries the connection and gives up with a connection error when nothing listens', async () => {
    const sender = client(await closedPort(), { retransmits: 2 });
    await expect(sender.send(Buffer.from('MSG1'))).rejects.toThrow(MllpConnectionError);
    expect(sender.stats()).toMatchObject({ connectFailures: 3, framesSent: 0 });
  });

  it('delivers once a listener comes back within its retransmissions', async () => {
    const port = await closedPort();
    const sender = client(port, { retransmits: 20, retryDelayMs: 25 });
    const reply = sender.send(Buffer.from('MSG1'));
    await sleep(100);
    await startServer(ack, { port });
    expect(text(await reply)).toBe('ACK|MSG1');
    expect(sender.stats().connectFailures).toBeGreaterThan(0);
  });

  it('waits for each reply before writing the next message unless pipelining', async () => {
    const framesReadWhileFirstWasHandled: number[] = [];
    for (const pipelining of [false, true]) {
      let first = true;
      const listener: { server?: MllpServer } = {};
      const started = await startServer(async (frame) => {
        if (first) {
          first = false;
          await sleep(100);
          framesReadWhileFirstWasHandled.push(listener.server?.stats().framesReceived ?? -1);
        }
        return ack(frame);
      });
      listener.server = started.server;
      const sender = client(started.port, { pipelining });
      const replies = await Promise.all(['a', 'b', 'c'].map((p) => sender.send(Buffer.from(p))));
      expect(replies.map(text)).toEqual(['ACK|a', 'ACK|b', 'ACK|c']);
    }
    expect(framesReadWhileFirstWasHandled).toEqual([1, 3]);
  });

  it('rejects what is still waiting when closed', async () => {
    const { port } = await startServer(() => new Promise<Buffer>(() => undefined));
    const sender = client(port);
    const pending = sender.send(Buffer.from('MSG1')).catch((error: unknown) => error);
    await sleep(50);
    await sender.close();
    expect(await pending).toBeInstanceOf(MllpConnectionError);
    await expect(sender.send(Buffer.from('MSG2'))).rejects.toThrow('MLLP client is closed');
  });
});
