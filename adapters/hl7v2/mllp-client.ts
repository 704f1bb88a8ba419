/**
 * An MLLP sender for tests, benchmarks and the crash test, behaving as hospital interface engines
 * do: one message at a time on a persistent connection, each awaited until its reply or a
 * timeout, and on a timeout the connection is dropped (so a late reply cannot be taken for the
 * next message's) and the message retransmitted on a fresh one, up to `retransmits` times.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { DEFAULT_MAX_FRAME_BYTES, encodeMllpFrame, MllpDecoder } from './mllp-framing';

export interface MllpClientTlsOptions {
  /** Trusted CA(s) for the listener's certificate. */
  readonly ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate and key, for mutual TLS. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Name checked against the listener's certificate; default the host. */
  readonly servername?: string;
  /** Default true. */
  readonly rejectUnauthorized?: boolean;
}

export interface MllpClientOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: MllpClientTlsOptions;
  /** How long to wait for each reply. Default 30 s. */
  readonly timeoutMs?: number;
  /** How long to wait for a connection (and TLS handshake). Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Attempts after the first when a reply times out or the connection fails. Default 0. */
  readonly retransmits?: number;
  /** Pause before each retransmission or reconnection attempt. Default 500 ms. */
  readonly retryDelayMs?: number;
  /** Write messages without waiting for the previous reply (replies still match in order). Default false. */
  readonly pipelining?: boolean;
  /** Largest reply accepted whole. Default 1 MiB. */
  readonly maxFrameBytes?: number;
}

export interface MllpClientStats {
  /** Frames written, retransmissions included. */
  framesSent: number;
  retransmissions: number;
  replies: number;
  timeouts: number;
  /** Connections opened (the first one included). */
  connections: number;
  connectFailures: number;
  /** Replies that arrived with no message waiting for one. */
  unexpectedReplies: number;
}

export class MllpTimeoutError extends Error {
  override readonly name = 'MllpTimeoutError';
}
export class MllpConnectionError extends Error {
  override readonly name = 'MllpConnectionError';
}

interface PendingMessage {
  readonly payload: Buffer;
  attemptsLeft: number;
  timer?: NodeJS.Timeout;
  readonly resolve: (reply: Buffer) => void;
  readonly reject: (error: Error) => void;
}

export const MLLP_CLIENT_DEFAULTS = {
  timeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  retransmits: 0,
  retryDelayMs: 500,
} as const;

export class MllpClient {
  private readonly options: MllpClientOptions;
  private readonly counters: MllpClientStats = {
    framesSent: 0,
    retransmissions: 0,
    replies: 0,
    timeouts: 0,
    connections: 0,
    connectFailures: 0,
    unexpectedReplies: 0,
  };
  /** Not yet written, in order. */
  private readonly waiting: PendingMessage[] = [];
  /** Written on the current socket, awaiting replies in order. */
  private inFlight: PendingMessage[] = [];
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private pumping = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: MllpClientOptions) {
    this.options = options;
  }

  /** Read through a method: `closed` changes across an await, which narrowing cannot see. */
  private isClosed(): boolean {
    return this.closed;
  }

  stats(): MllpClientStats {
    return { ...this.counters };
  }

  /** Opens the connection now rather than on the first send. */
  async connect(): Promise<void> {
    await this.ensureSocket();
  }

  /** Sends one payload (framed here) and resolves with the reply's payload. */
  send(payload: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new MllpConnectionError('MLLP client is closed'));
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting.push({ payload, attemptsLeft: this.options.retransmits ?? MLLP_CLIENT_DEFAULTS.retransmits, resolve, reject });
      void this.pump();
    });
  }

  /** Closes the connection; messages still waiting for a reply are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const error = new MllpConnectionError('MLLP client closed');
    for (const message of [...this.inFlight, ...this.waiting.splice(0)]) {
      clearTimeout(message.timer);
      message.reject(error);
    }
    const abandoned = this.inFlight.length > 0;
    this.inFlight = [];
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => {
        resolve();
      });
      // With a message still unanswered the listener may not close its side soon: don't wait for it.
      if (abandoned) {
        socket.destroy();
        return;
      }
      socket.end();
      setTimeout(() => socket.destroy(), 1_000).unref();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      while (this.waiting.length > 0 && (this.options.pipelining === true || this.inFlight.length === 0)) {
        let socket: Socket;
        try {
          socket = await this.ensureSocket();
        } catch (error) {
          this.counters.connectFailures += 1;
          const head = this.waiting[0];
          if (head !== undefined && !this.retryOrGiveUp(head, error as Error)) this.waiting.shift();
          this.scheduleRetry();
          return;
        }
        if (this.isClosed()) return;
        const message = this.waiting.shift();
        if (message === undefined) return;
        this.inFlight.push(message);
        message.timer = setTimeout(() => {
          this.onTimeout(socket);
        }, this.options.timeoutMs ?? MLLP_CLIENT_DEFAULTS.timeoutMs);
        this.counters.framesSent += 1;
        socket.write(encodeMllpFrame(message.payload));
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Spends one attempt: true when the message may go again, false once it has been rejected. */
  private retryOrGiveUp(message: PendingMessage, error: Error): boolean {
    if (message.attemptsLeft > 0) {
      message.attemptsLeft -= 1;
      return true;
    }
    message.reject(error);
    return false;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.pump();
    }, this.options.retryDelayMs ?? MLLP_CLIENT_DEFAULTS.retryDelayMs);
  }

  private onTimeout(socket: Socket): void {
    if (socket !== this.socket) return;
    this.counters.timeouts += 1;
    this.dropConnection(new MllpTimeoutError(`no MLLP reply within ${this.options.timeoutMs ?? MLLP_CLIENT_DEFAULTS.timeoutMs} ms`));
  }

  /**
   * The connection is unusable (a reply timed out, or it closed): everything written on it goes
   * back to the front of the queue, in order, to be retransmitted on a new connection, or is
   * rejected once out of attempts.
   */
  private dropConnection(error: Error): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
    const unanswered = this.inFlight;
    this.inFlight = [];
    const again: PendingMessage[] = [];
    for (const message of unanswered) {
      clearTimeout(message.timer);
      if (this.retryOrGiveUp(message, error)) {
        this.counters.retransmissions += 1;
        again.push(message);
      }
    }
    this.waiting.unshift(...again);
    if (this.waiting.length > 0) this.scheduleRetry();
  }

  private ensureSocket(): Promise<Socket> {
    if (this.socket !== undefined && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.openSocket().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private openSocket(): Promise<Socket> {
    const { host, port, tls } = this.options;
    const connectTimeoutMs = this.options.connectTimeoutMs ?? MLLP_CLIENT_DEFAULTS.connectTimeoutMs;
    return new Promise<Socket>((resolve, reject) => {
      const socket =
        tls === undefined
          ? connectTcp({ host, port })
          : connectTls({
              host,
              port,
              ca: tls.ca,
              cert: tls.cert,
              key: tls.key,
              servername: tls.servername ?? (isIpAddress(host) ? undefined : host),
              rejectUnauthorized: tls.rejectUnauthorized ?? true,
            });
      const timer = setTimeout(() => {
        socket.destroy(new MllpConnectionError(`MLLP connection to ${host}:${port} timed out`));
      }, connectTimeoutMs);
      const onError = (error: Error): void => {
        clearTimeout(timer);
        // A refused certificate leaves the socket open: close it so the listener is not left waiting.
        socket.destroy();
        reject(new MllpConnectionError(`MLLP connection to ${host}:${port} failed: ${error.message}`));
      };
      socket.once('error', onError);
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        if (this.closed) {
          socket.destroy();
          reject(new MllpConnectionError('MLLP client closed'));
          return;
        }
        this.adopt(socket);
        resolve(socket);
      });
    });
  }

  private adopt(socket: Socket): void {
    this.counters.connections += 1;
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new MllpDecoder({ maxFrameBytes: this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES });
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.socket) return;
      for (const item of decoder.push(chunk)) {
        if (item.kind !== 'frame') continue;
        const message = this.inFlight.shift();
        if (message === undefined) {
          this.counters.unexpectedReplies += 1;
          continue;
        }
        clearTimeout(message.timer);
        this.counters.replies += 1;
        message.resolve(item.frame.payload);
      }
      void this.pump();
    });
    // Errors end in 'close', handled there.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (socket !== this.socket) return;
      this.dropConnection(new MllpConnectionError('MLLP connection closed before the reply'));
    });
  }
}

function isIpAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
