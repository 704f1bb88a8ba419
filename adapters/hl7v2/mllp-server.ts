/**
 * The MLLP listener: accepts many concurrent connections (plain TCP or TLS), each an
 * MllpConnection that answers every frame exactly once, in order. Different connections are
 * handled concurrently. close() is graceful and bounded.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { MllpConnection, type MllpErrorResponder, type MllpHandler } from './mllp-connection';
import {
  emptyMllpServerStats,
  type MllpConnectionInfo,
  type MllpServerEvent,
  type MllpServerEventListener,
  type MllpServerStats,
} from './mllp-events';
import { DEFAULT_MAX_FRAME_BYTES } from './mllp-framing';

export interface MllpTlsOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** Trusted CAs for client certificates. */
  readonly ca?: string | Buffer | (string | Buffer)[];
  /** Ask senders for a certificate (mutual TLS). */
  readonly requestCert?: boolean;
  /** With requestCert: refuse senders without a certificate signed by `ca`; default true. */
  readonly rejectUnauthorized?: boolean;
  /** Default 10 s. */
  readonly handshakeTimeoutMs?: number;
}

export interface MllpServerOptions {
  readonly handler: MllpHandler;
  readonly onHandlerError: MllpErrorResponder;
  /** Default 2575 (MLLP_PORT); 0 picks a free port. */
  readonly port?: number;
  /** Default: every interface. */
  readonly host?: string;
  readonly tls?: MllpTlsOptions;
  /** Default 1 MiB; a longer frame reaches the handler flagged oversize. */
  readonly maxFrameBytes?: number;
  /** A connection silent this long is closed; 0 never. Default 10 minutes. */
  readonly idleTimeoutMs?: number;
  /** Connections beyond this are refused on accept. Default 256. */
  readonly maxConnections?: number;
  /** Frames waiting on one connection before it stops reading. Default 64. */
  readonly maxQueuedFrames?: number;
  /** How long close() waits for in-flight frames before destroying sockets. Default 10 s. */
  readonly closeTimeoutMs?: number;
  readonly onEvent?: MllpServerEventListener;
}

export interface MllpAddress {
  readonly host: string;
  readonly port: number;
}

export const MLLP_SERVER_DEFAULTS = {
  port: 2575,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  idleTimeoutMs: 10 * 60_000,
  maxConnections: 256,
  maxQueuedFrames: 64,
  closeTimeoutMs: 10_000,
  handshakeTimeoutMs: 10_000,
} as const;

export class MllpServer {
  private readonly options: MllpServerOptions;
  private readonly server: Server;
  private readonly connections = new Set<MllpConnection>();
  /** Every accepted TCP socket, TLS handshakes in progress included. */
  private readonly sockets = new Set<Socket>();
  private readonly counters: MllpServerStats = emptyMllpServerStats();
  private closing: Promise<void> | undefined;

  constructor(options: MllpServerOptions) {
    this.options = options;
    const tls = options.tls;
    if (tls === undefined) {
      this.server = createTcpServer({ allowHalfOpen: true }, (socket) => {
        this.accept(socket, undefined);
      });
    } else {
      const requestCert = tls.requestCert ?? false;
      this.server = createTlsServer(
        {
          key: tls.key,
          cert: tls.cert,
          ca: tls.ca,
          requestCert,
          rejectUnauthorized: requestCert ? (tls.rejectUnauthorized ?? true) : false,
          handshakeTimeout: tls.handshakeTimeoutMs ?? MLLP_SERVER_DEFAULTS.handshakeTimeoutMs,
          allowHalfOpen: true,
        },
        (socket) => {
          this.accept(socket, socket);
        },
      );
      this.server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
        this.counters.tlsErrors += 1;
        this.emit({ type: 'tls-error', remoteAddress: socket.remoteAddress ?? '', code: error.code ?? 'UNKNOWN' });
      });
    }
    // Counted before any TLS handshake, so a flood of connections costs no handshakes.
    this.server.maxConnections = options.maxConnections ?? MLLP_SERVER_DEFAULTS.maxConnections;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // After listen(): accept failures (EMFILE…) are reported, not thrown at the process.
    this.server.on('error', (error: NodeJS.ErrnoException) => {
      if (this.server.listening) this.emit({ type: 'server-error', code: error.code ?? 'UNKNOWN' });
    });
    this.server.on('drop', (data) => {
      this.counters.connectionsRejected += 1;
      this.emit({ type: 'connection-rejected', remoteAddress: data?.remoteAddress ?? '', reason: 'max-connections' });
    });
  }

  /** Starts listening; resolves with the bound address (the real port when port is 0). */
  async listen(): Promise<MllpAddress> {
    const port = this.options.port ?? MLLP_SERVER_DEFAULTS.port;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(error);
      };
      this.server.once('error', onError);
      this.server.listen({ port, host: this.options.host }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.address();
    this.emit({ type: 'listening', host: address.host, port: address.port, tls: this.options.tls !== undefined });
    return address;
  }

  address(): MllpAddress {
    const address = this.server.address() as AddressInfo | null;
    if (address === null) throw new Error('MLLP server is not listening');
    return { host: address.address, port: address.port };
  }

  /** Counters since creation (a copy). */
  stats(): MllpServerStats {
    return { ...this.counters };
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Stops accepting, lets each connection's in-flight frame finish and answer, then closes the
   * sockets; after closeTimeoutMs whatever is left is destroyed. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
    const timeoutMs = this.options.closeTimeoutMs ?? MLLP_SERVER_DEFAULTS.closeTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    const connections = [...this.connections];
    await Promise.race([Promise.all(connections.map((connection) => connection.shutdown())), deadline]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.destroy();
    await Promise.all(connections.map((connection) => connection.closed));
    // Sockets that never became connections: TLS handshakes still in progress.
    for (const socket of this.sockets) socket.destroy();
    await stopped;
    this.emit({ type: 'closed' });
  }

  private accept(socket: Socket, tlsSocket: TLSSocket | undefined): void {
    if (this.closing !== undefined) {
      // A TLS handshake that completes after close() began.
      this.counters.connectionsRejected += 1;
      this.emit({ type: 'connection-rejected', remoteAddress: socket.remoteAddress ?? '', reason: 'closing' });
      socket.destroy();
      return;
    }
    const info: MllpConnectionInfo = {
      id: randomUUID(),
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      tls: tlsSocket !== undefined,
      ...peerCertificateOf(tlsSocket),
    };
    const connection = new MllpConnection(socket, info, {
      handler: this.options.handler,
      onHandlerError: this.options.onHandlerError,
      maxFrameBytes: this.options.maxFrameBytes ?? MLLP_SERVER_DEFAULTS.maxFrameBytes,
      idleTimeoutMs: this.options.idleTimeoutMs ?? MLLP_SERVER_DEFAULTS.idleTimeoutMs,
      maxQueuedFrames: this.options.maxQueuedFrames ?? MLLP_SERVER_DEFAULTS.maxQueuedFrames,
      stats: this.counters,
      emit: (event) => {
        this.emit(event);
      },
    });
    this.connections.add(connection);
    this.counters.connectionsOpen += 1;
    this.counters.connectionsTotal += 1;
    this.emit({ type: 'connection-open', connection: info });
    void connection.closed.then(() => this.connections.delete(connection));
  }

  private emit(event: MllpServerEvent): void {
    const listener = this.options.onEvent;
    if (listener === undefined) return;
    try {
      listener(event);
    } catch {
      // A metrics or logging bug must not take the listener down; it is counted instead.
      this.counters.listenerErrors += 1;
    }
  }
}

function peerCertificateOf(socket: TLSSocket | undefined): Pick<MllpConnectionInfo, 'peerCertificate'> {
  if (socket?.authorized !== true) return {};
  const certificate = socket.getPeerCertificate();
  if (Object.keys(certificate).length === 0) return {};
  const commonName = certificate.subject.CN;
  return {
    peerCertificate: {
      fingerprint256: certificate.fingerprint256,
      ...(typeof commonName === 'string' ? { commonName } : {}),
    },
  };
}
