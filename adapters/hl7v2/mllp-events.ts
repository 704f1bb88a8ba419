/**
 * What an MLLP listener reports: events for the log and counters for /metrics. Neither ever
 * carries a payload byte (CONVENTIONS.md: logs carry ids, never patient data); connections are
 * named by an id and the peer's address, frames by their size.
 */
import { type MllpAnomaly, type MllpDiscardReason } from './mllp-framing';

export interface MllpConnectionInfo {
  /** Random id for this connection, for correlating log lines. */
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly tls: boolean;
  /** The client certificate, when the listener asked for one and it was verified. */
  readonly peerCertificate?: { readonly commonName?: string; readonly fingerprint256: string };
}

/** Why a connection closed. */
export const MllpCloseReason = {
  /** The sender closed it (or it was reset). */
  Peer: 'peer',
  /** Nothing arrived or left for idleTimeoutMs. */
  Idle: 'idle',
  /** The listener is shutting down. */
  ServerClose: 'server-close',
  /** No reply could be built for a frame (onHandlerError failed): closing lets the sender retransmit. */
  NoResponse: 'no-response',
} as const;
export type MllpCloseReason = (typeof MllpCloseReason)[keyof typeof MllpCloseReason];

export type MllpServerEvent =
  | { readonly type: 'listening'; readonly host: string; readonly port: number; readonly tls: boolean }
  | { readonly type: 'connection-open'; readonly connection: MllpConnectionInfo }
  | {
      readonly type: 'connection-close';
      readonly connectionId: string;
      readonly reason: MllpCloseReason;
      readonly framesAnswered: number;
      /** Frames read but not answered: the sender went away, or the listener closed first. */
      readonly framesUnanswered: number;
      readonly bytesReceived: number;
      readonly bytesSent: number;
      readonly durationMs: number;
    }
  | { readonly type: 'connection-rejected'; readonly remoteAddress: string; readonly reason: 'max-connections' | 'closing' }
  | {
      readonly type: 'frame-answered';
      readonly connectionId: string;
      readonly byteLength: number;
      readonly oversize: boolean;
      readonly handlerFailed: boolean;
      /** From the frame's end block to its reply handed to the socket. */
      readonly durationMs: number;
    }
  | { readonly type: 'discarded'; readonly connectionId: string; readonly reason: MllpDiscardReason; readonly byteCount: number }
  | { readonly type: 'anomaly'; readonly connectionId: string; readonly anomaly: MllpAnomaly }
  /** The handler threw: `error` is what it threw, for the caller's logger to reduce to what is safe to log. */
  | { readonly type: 'handler-error'; readonly connectionId: string; readonly error: unknown }
  /**
   * onHandlerError threw as well (or its reply held a block character): the frame goes unanswered
   * and the connection is closed. A handler reply holding a block character is a handler error.
   */
  | { readonly type: 'response-error'; readonly connectionId: string; readonly error: unknown }
  | { readonly type: 'socket-error'; readonly connectionId: string; readonly code: string }
  | { readonly type: 'tls-error'; readonly remoteAddress: string; readonly code: string }
  | { readonly type: 'server-error'; readonly code: string }
  | { readonly type: 'closed' };

export type MllpServerEventListener = (event: MllpServerEvent) => void;

/** Counters since the listener was created; read with MllpServer.stats(). */
export interface MllpServerStats {
  connectionsOpen: number;
  connectionsTotal: number;
  connectionsRejected: number;
  idleTimeouts: number;
  framesReceived: number;
  framesAnswered: number;
  framesUnanswered: number;
  oversizeFrames: number;
  bytesReceived: number;
  bytesSent: number;
  discardedBytes: number;
  missingStartBlocks: number;
  missingCarriageReturns: number;
  handlerErrors: number;
  responseErrors: number;
  socketErrors: number;
  tlsErrors: number;
  /** The onEvent listener threw; the listener carries on. */
  listenerErrors: number;
}

export function emptyMllpServerStats(): MllpServerStats {
  return {
    connectionsOpen: 0,
    connectionsTotal: 0,
    connectionsRejected: 0,
    idleTimeouts: 0,
    framesReceived: 0,
    framesAnswered: 0,
    framesUnanswered: 0,
    oversizeFrames: 0,
    bytesReceived: 0,
    bytesSent: 0,
    discardedBytes: 0,
    missingStartBlocks: 0,
    missingCarriageReturns: 0,
    handlerErrors: 0,
    responseErrors: 0,
    socketErrors: 0,
    tlsErrors: 0,
    listenerErrors: 0,
  };
}
