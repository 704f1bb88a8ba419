/**
 * The sending side of the HL7v2 crash test: interface-engine behaviour on top of MllpClient. Each
 * connection sends one message at a time; MllpClient retransmits on a reply timeout or a lost
 * connection; when it gives up (the gateway is down), the message is sent again, to wherever the
 * gateway listens now, until it is acknowledged. Nothing is dropped: every message ends with one
 * ACK taken as its answer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MllpClient, MllpConnectionError, MllpTimeoutError, type MllpClientStats } from '../../adapters/hl7v2/mllp-client';

const HOST = '127.0.0.1';

/** Where the gateway's MLLP listener is now: unknown while it is down, a new port after each restart. */
export class GatewayAddress {
  private port: number | undefined;
  private waiters: { resolve: (port: number) => void; reject: (error: Error) => void }[] = [];
  private failure: Error | undefined;

  set(port: number): void {
    this.port = port;
    for (const waiter of this.waiters.splice(0)) waiter.resolve(port);
  }

  clear(): void {
    this.port = undefined;
  }

  /** The gateway will not come back: senders stop. */
  abandon(error: Error): void {
    this.failure = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  current(): Promise<number> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.port !== undefined) return Promise.resolve(this.port);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
}

export interface SenderOptions {
  /** Reply timeout before MllpClient drops the connection and retransmits. */
  readonly timeoutMs: number;
  /** MllpClient's own retransmissions (timeouts and connection failures) before it gives up. */
  readonly retransmits: number;
  readonly retryDelayMs: number;
}

export interface SenderStats extends MllpClientStats {
  /** Times MllpClient gave up on a message and it was sent again from the top (gateway down). */
  resends: number;
}

export const emptySenderStats = (): SenderStats => ({
  framesSent: 0,
  retransmissions: 0,
  replies: 0,
  timeouts: 0,
  connections: 0,
  connectFailures: 0,
  unexpectedReplies: 0,
  resends: 0,
});

function addStats(into: SenderStats, from: MllpClientStats): void {
  for (const key of Object.keys(from) as (keyof MllpClientStats)[]) into[key] += from[key];
}

/** One sender connection that follows the gateway from port to port. */
class FollowingSender {
  private client: MllpClient | undefined;
  private clientPort: number | undefined;

  constructor(
    private readonly address: GatewayAddress,
    private readonly options: SenderOptions,
    private readonly stats: SenderStats,
  ) {}

  async send(payload: Buffer): Promise<Buffer> {
    for (;;) {
      const port = await this.address.current();
      if (this.client === undefined || this.clientPort !== port) await this.reconnectTo(port);
      const client = this.client as MllpClient;
      try {
        return await client.send(payload);
      } catch (err) {
        if (!(err instanceof MllpTimeoutError || err instanceof MllpConnectionError)) throw err;
        this.stats.resends += 1;
        await sleep(this.options.retryDelayMs);
      }
    }
  }

  private async reconnectTo(port: number): Promise<void> {
    await this.close();
    this.client = new MllpClient({ host: HOST, port, timeoutMs: this.options.timeoutMs, connectTimeoutMs: 2_000, retransmits: this.options.retransmits, retryDelayMs: this.options.retryDelayMs, pipelining: false });
    this.clientPort = port;
  }

  async close(): Promise<void> {
    if (this.client === undefined) return;
    addStats(this.stats, this.client.stats());
    await this.client.close();
    this.client = undefined;
  }
}

/**
 * Streams every message over `connections` connections (each takes the next unsent message when
 * its previous one is acknowledged) and calls onAck with each message's index and its ACK.
 */
export async function streamMessages(
  messages: readonly Buffer[],
  address: GatewayAddress,
  options: SenderOptions & { connections: number; onAck: (index: number, ack: Buffer) => void },
): Promise<SenderStats> {
  const stats = emptySenderStats();
  let next = 0;
  const lane = async (): Promise<void> => {
    const sender = new FollowingSender(address, options, stats);
    try {
      for (let index = next++; index < messages.length; index = next++) {
        options.onAck(index, await sender.send(messages[index] as Buffer));
      }
    } finally {
      await sender.close();
    }
  };
  await Promise.all(Array.from({ length: options.connections }, lane));
  return stats;
}

/** MSA-1 and MSA-2 of an ACK, read leniently as a sender would. */
export function ackSummary(ack: Buffer): { code: string; controlId: string } {
  const msa = ack.toString('latin1').split('\r').map((s) => s.split('|')).find((s) => s[0] === 'MSA') ?? [];
  return { code: msa[1] ?? '', controlId: msa[2] ?? '' };
}
