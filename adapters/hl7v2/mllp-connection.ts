/**
 * One accepted MLLP connection on the listener side: decodes frames, hands them to the handler
 * one at a time, and writes exactly one framed reply per frame, in order.
 *
 * Frames on one connection are handled sequentially (a sender's messages for a patient must be
 * applied in the order sent); when a sender pipelines faster than the handler keeps up, reading
 * pauses once maxQueuedFrames are waiting, so TCP pushes back instead of memory growing.
 */
import { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type MllpCloseReason, type MllpConnectionInfo, type MllpServerEvent, type MllpServerStats } from './mllp-events';
import { containsMllpBlockCharacter, encodeMllpFrame, MllpDecoder, type MllpDecoded, type MllpFrame } from './mllp-framing';

/** Builds the reply to a frame (an HL7 ACK); a thrown error goes to MllpErrorResponder. */
export type MllpHandler = (frame: MllpFrame, connection: MllpConnectionInfo) => Promise<Buffer>;
/** Builds the reply when the handler threw (an AR or CE); if this throws too, the frame goes unanswered. */
export type MllpErrorResponder = (error: unknown, frame: MllpFrame, connection: MllpConnectionInfo) => Buffer | Promise<Buffer>;

export interface MllpConnectionSettings {
  readonly handler: MllpHandler;
  readonly onHandlerError: MllpErrorResponder;
  readonly maxFrameBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxQueuedFrames: number;
  readonly stats: MllpServerStats;
  readonly emit: (event: MllpServerEvent) => void;
}

interface QueuedFrame {
  readonly frame: MllpFrame;
  readonly receivedAt: number;
}

/** How long a socket we ended may take to close before it is destroyed. */
const END_GRACE_MS = 2_000;

export class MllpConnection {
  readonly info: MllpConnectionInfo;
  /** Settles when the socket has closed and the connection has reported it. */
  readonly closed: Promise<void>;

  private readonly socket: Socket;
  private readonly settings: MllpConnectionSettings;
  private readonly decoder: MllpDecoder;
  private readonly queue: QueuedFrame[] = [];
  private readonly openedAt = performance.now();
  private processing = false;
  /** The frame being handled, until its reply is written; counted unanswered if the socket closes first. */
  private inHand: QueuedFrame | undefined;
  private stopping = false;
  /** The sender half-closed: answer what was read, then close. */
  private peerEnded = false;
  private closeReason: MllpCloseReason = 'peer';
  private framesAnswered = 0;
  private framesUnanswered = 0;
  private bytesReceived = 0;
  private bytesSent = 0;
  private idleListeners: (() => void)[] = [];

  constructor(socket: Socket, info: MllpConnectionInfo, settings: MllpConnectionSettings) {
    this.socket = socket;
    this.info = info;
    this.settings = settings;
    this.decoder = new MllpDecoder({ maxFrameBytes: settings.maxFrameBytes });

    // ACK latency matters more than packet count: never let Nagle hold a reply back.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    if (settings.idleTimeoutMs > 0) socket.setTimeout(settings.idleTimeoutMs);

    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.onClose();
        resolve();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      this.onData(chunk);
    });
    socket.on('end', () => {
      this.onPeerEnd();
    });
    socket.on('timeout', () => {
      this.onIdle();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      settings.stats.socketErrors += 1;
      settings.emit({ type: 'socket-error', connectionId: info.id, code: error.code ?? 'UNKNOWN' });
    });
  }

  /** Read through a method: `stopping` changes across an await, which narrowing cannot see. */
  private isStopping(): boolean {
    return this.stopping;
  }

  /** True while a frame is being handled or waits to be. */
  get busy(): boolean {
    return this.processing || this.queue.length > 0;
  }

  /**
   * Graceful close: starts no new frame (what arrives from now on is read and ignored), lets the
   * frame being handled finish and answer, then ends the socket. Frames read but not yet started
   * are dropped unanswered (their sender retransmits). The caller bounds the wait and calls
   * destroy() after it.
   */
  async shutdown(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.closeReason = 'server-close';
      this.dropQueued();
    }
    await this.whenIdle();
    this.endSocket();
    await this.closed;
  }

  /** Closes at once, whatever is in flight. */
  destroy(): void {
    this.stopping = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const { stats } = this.settings;
    this.bytesReceived += chunk.length;
    stats.bytesReceived += chunk.length;
    if (this.stopping) {
      stats.discardedBytes += chunk.length;
      this.settings.emit({ type: 'discarded', connectionId: this.info.id, reason: 'closing', byteCount: chunk.length });
      return;
    }
    this.reportDecoded(this.decoder.push(chunk));
    if (this.queue.length >= this.settings.maxQueuedFrames) this.socket.pause();
    void this.processQueue();
  }

  private reportDecoded(items: readonly MllpDecoded[]): void {
    const { stats, emit } = this.settings;
    const receivedAt = performance.now();
    for (const item of items) {
      switch (item.kind) {
        case 'frame':
          stats.framesReceived += 1;
          if (item.frame.oversize === true) stats.oversizeFrames += 1;
          this.queue.push({ frame: item.frame, receivedAt });
          break;
        case 'discarded':
          stats.discardedBytes += item.byteCount;
          emit({ type: 'discarded', connectionId: this.info.id, reason: item.reason, byteCount: item.byteCount });
          break;
        case 'anomaly':
          if (item.anomaly === 'missing-start-block') stats.missingStartBlocks += 1;
          else stats.missingCarriageReturns += 1;
          emit({ type: 'anomaly', connectionId: this.info.id, anomaly: item.anomaly });
          break;
      }
    }
  }

  private async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      let queued: QueuedFrame | undefined;
      while (!this.stopping && (queued = this.queue.shift()) !== undefined) {
        this.inHand = queued;
        const { reply, handlerFailed } = await this.respond(queued.frame);
        if (reply === undefined) {
          // Closing tells the sender to retransmit, which beats leaving it waiting for a timeout.
          this.closeReason = 'no-response';
          this.stopping = true;
          this.dropQueued();
          this.endSocket();
          break;
        }
        if (!this.write(reply)) break;
        this.inHand = undefined;
        this.settings.emit({
          type: 'frame-answered',
          connectionId: this.info.id,
          byteLength: queued.frame.byteLength,
          oversize: queued.frame.oversize === true,
          handlerFailed,
          durationMs: performance.now() - queued.receivedAt,
        });
        if (this.socket.writableNeedDrain) await this.drained();
        if (this.socket.isPaused() && !this.isStopping() && this.queue.length < this.settings.maxQueuedFrames) {
          this.socket.resume();
        }
      }
    } finally {
      this.processing = false;
      if (this.peerEnded && this.queue.length === 0) this.endSocket();
      const listeners = this.idleListeners;
      this.idleListeners = [];
      for (const listener of listeners) listener();
    }
  }

  /** The handler's reply, onHandlerError's when it threw, or undefined when neither gave one. */
  private async respond(frame: MllpFrame): Promise<{ reply: Buffer | undefined; handlerFailed: boolean }> {
    const { handler, onHandlerError, stats, emit } = this.settings;
    let handlerError: unknown;
    try {
      return { reply: checkedReply(await handler(frame, this.info)), handlerFailed: false };
    } catch (error) {
      handlerError = error;
      stats.handlerErrors += 1;
      emit({ type: 'handler-error', connectionId: this.info.id, error });
    }
    try {
      return { reply: checkedReply(await onHandlerError(handlerError, frame, this.info)), handlerFailed: true };
    } catch (error) {
      stats.responseErrors += 1;
      emit({ type: 'response-error', connectionId: this.info.id, error });
      return { reply: undefined, handlerFailed: true };
    }
  }

  /** Writes one framed reply; false when the socket is gone and the reply is lost. */
  private write(reply: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    const framed = encodeMllpFrame(reply);
    this.socket.write(framed);
    this.framesAnswered += 1;
    this.bytesSent += framed.length;
    this.settings.stats.framesAnswered += 1;
    this.settings.stats.bytesSent += framed.length;
    return true;
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private whenIdle(): Promise<void> {
    if (!this.processing) return Promise.resolve();
    return new Promise((resolve) => this.idleListeners.push(resolve));
  }

  private onIdle(): void {
    // A slow handler leaves the socket quiet without the sender being idle; the reply it writes
    // re-arms the timer.
    if (this.busy || this.stopping) return;
    this.settings.stats.idleTimeouts += 1;
    this.closeReason = 'idle';
    this.stopping = true;
    this.endSocket();
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    this.reportDecoded(this.decoder.finish());
    if (!this.busy) this.endSocket();
  }

  private dropQueued(): void {
    this.framesUnanswered += this.queue.length;
    this.settings.stats.framesUnanswered += this.queue.length;
    this.queue.length = 0;
  }

  private endSocket(): void {
    if (this.socket.destroyed) return;
    // Keep reading (onData ignores it once stopping) so the sender's FIN is seen and the socket closes.
    this.socket.resume();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
  }

  private onClose(): void {
    const { stats, emit } = this.settings;
    this.stopping = true;
    this.reportDecoded(this.decoder.finish());
    this.dropQueued();
    if (this.inHand !== undefined) {
      this.inHand = undefined;
      this.framesUnanswered += 1;
      stats.framesUnanswered += 1;
    }
    stats.connectionsOpen -= 1;
    emit({
      type: 'connection-close',
      connectionId: this.info.id,
      reason: this.closeReason,
      framesAnswered: this.framesAnswered,
      framesUnanswered: this.framesUnanswered,
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      durationMs: performance.now() - this.openedAt,
    });
  }
}

/** A reply holding VT or FS would corrupt the sender's framing: treat it as a failure to reply. */
function checkedReply(reply: Buffer): Buffer {
  if (containsMllpBlockCharacter(reply)) throw new Error('MLLP reply holds a start or end block character');
  return reply;
}
