import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MllpClient, MllpConnectionError } from './mllp-client';
import { type MllpConnectionInfo } from './mllp-events';
import { encodeMllpFrame } from './mllp-framing';
import { MllpServer, type MllpTlsOptions } from './mllp-server';

/** A throwaway self-signed certificate made with the openssl command line (node:crypto cannot issue X.509). */
interface Identity {
  key: Buffer;
  cert: Buffer;
}

const HOST = '127.0.0.1';
let dir: string;
let listener: Identity;
let sender: Identity;
let stranger: Identity;

function makeIdentity(name: string, subjectAltName?: string): Identity {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`,
    ...(subjectAltName === undefined ? [] : ['-addext', `subjectAltName=${subjectAltName}`]),
  ], { stdio: 'pipe' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'carebridge-mllp-tls-'));
  listener = makeIdentity('localhost', 'DNS:localhost,IP:127.0.0.1');
  sender = makeIdentity('pas.rxx.nhs.uk');
  stranger = makeIdentity('stranger');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const servers: MllpServer[] = [];
const clients: MllpClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startServer(tls: Partial<MllpTlsOptions>): Promise<{ server: MllpServer; port: number; seen: MllpConnectionInfo[] }> {
  const seen: MllpConnectionInfo[] = [];
  const server = new MllpServer({
    handler: (frame, connection) => {
      seen.push(connection);
      return Promise.resolve(Buffer.concat([Buffer.from('ACK|'), frame.payload]));
    },
    onHandlerError: () => Buffer.from('AR'),
    port: 0,
    host: HOST,
    tls: { key: listener.key, cert: listener.cert, ...tls },
  });
  servers.push(server);
  const { port } = await server.listen();
  return { server, port, seen };
}

function client(port: number, tls: ConstructorParameters<typeof MllpClient>[0]['tls']): MllpClient {
  const created = new MllpClient({ host: HOST, port, timeoutMs: 5_000, tls });
  clients.push(created);
  return created;
}

describe('MllpServer over TLS', () => {
  it('answers over TLS and names the sender by its verified certificate', async () => {
    const { server, port, seen } = await startServer({ ca: sender.cert, requestCert: true });
    const tlsClient = client(port, { ca: listener.cert, cert: sender.cert, key: sender.key });
    const replies = await Promise.all(['MSG1', 'MSG2', 'MSG3'].map((p) => tlsClient.send(Buffer.from(p))));
    expect(replies.map((reply) => reply.toString())).toEqual(['ACK|MSG1', 'ACK|MSG2', 'ACK|MSG3']);
    expect(seen[0]).toMatchObject({
      remoteAddress: HOST,
      tls: true,
      peerCertificate: { commonName: 'pas.rxx.nhs.uk', fingerprint256: new X509Certificate(sender.cert).fingerprint256 },
    });
    expect(server.stats()).toMatchObject({ connectionsTotal: 1, framesAnswered: 3, tlsErrors: 0 });
  });

  it('verifies the listener by name as well as by address', async () => {
    const { port } = await startServer({});
    const byName = new MllpClient({ host: 'localhost', port, tls: { ca: listener.cert }, timeoutMs: 5_000 });
    clients.push(byName);
    expect((await byName.send(Buffer.from('by name'))).toString()).toBe('ACK|by name');
    expect((await client(port, { ca: listener.cert }).send(Buffer.from('by address'))).toString()).toBe('ACK|by address');
    const wrongName = new MllpClient({ host: HOST, port, tls: { ca: listener.cert, servername: 'pas.rxx.nhs.uk' }, timeoutMs: 5_000 });
    clients.push(wrongName);
    await expect(wrongName.send(Buffer.from('x'))).rejects.toThrow(/altnames/);
  });

  it('refuses a sender whose certificate it does not trust, and keeps serving the others', async () => {
    const { server, port, seen } = await startServer({ ca: sender.cert, requestCert: true });
    const untrusted = client(port, { ca: listener.cert, cert: stranger.cert, key: stranger.key });
    await expect(untrusted.send(Buffer.from('MSG1'))).rejects.toBeInstanceOf(MllpConnectionError);
    const anonymous = client(port, { ca: listener.cert });
    await expect(anonymous.send(Buffer.from('MSG2'))).rejects.toBeInstanceOf(MllpConnectionError);
    expect(seen).toEqual([]);
    expect(server.stats().tlsErrors).toBe(2);
    expect((await client(port, { ca: listener.cert, cert: sender.cert, key: sender.key }).send(Buffer.from('MSG3'))).toString()).toBe('ACK|MSG3');
  });

  it('answers nothing to plain MLLP on a TLS port, and stays up', async () => {
    const { server, port, seen } = await startServer({});
    const socket = connect({ host: HOST, port });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(encodeMllpFrame(Buffer.from('MSH|^~\\&|PAS')));
    await Promise.race([closed, sleep(2_000, undefined, { ref: false })]);
    socket.destroy();
    expect(Buffer.concat(received).includes(0x1c)).toBe(false);
    expect(seen).toEqual([]);
    expect(server.stats().tlsErrors).toBe(1);
    expect((await client(port, { ca: listener.cert }).send(Buffer.from('after'))).toString()).toBe('ACK|after');
  });
});
