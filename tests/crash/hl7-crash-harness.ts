/**
 * The HL7v2 crash test's run: a gateway child on one store, a sender streaming synthetic
 * admissions over MLLP with retransmit-on-timeout, and kill -9 of the gateway at random moments
 * mid-stream, each followed by a restart on the same store and a new port the sender is told of.
 * Ends when every message is acknowledged and the inbox holds nothing left to apply, with the
 * gateway stopped, so the caller can open the store and check exactly-once.
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_AUDIENCE } from '../../gateway/auth';
import { devAuthDir, loadOrCreateDevKeyPair, mintToken } from '../../gateway/auth/dev-keys';
import { GatewayProcess } from './hl7-gateway-process';
import { CRASH_SENDER, crashAdmission, crashControlId } from './hl7-messages';
import { ackSummary, GatewayAddress, streamMessages, type SenderOptions, type SenderStats } from './hl7-sender';

export interface Hl7CrashOptions {
  /** DATA_DIR or DATABASE_URL for the gateway child. */
  readonly env: NodeJS.ProcessEnv;
  readonly messages: number;
  readonly connections: number;
  /** Each kill lands at a random point of its own slice of the stream; "freeze" hangs the gateway past the sender's timeout first. */
  readonly kills: readonly ('kill' | 'freeze')[];
  readonly sender: SenderOptions;
  /** How long to wait for the inbox to drain after the last ACK. */
  readonly applyDeadlineMs: number;
}

export interface KillRecord {
  readonly kind: 'kill' | 'freeze';
  /** Messages acknowledged when the kill was decided. */
  readonly ackedBefore: number;
  /** Until the restarted gateway listened again. */
  readonly downMs: number;
}

export interface Hl7CrashRun {
  readonly controlIds: readonly string[];
  /** The ACK each message was answered with (MSA-1, MSA-2), by message index. */
  readonly acks: readonly { code: string; controlId: string }[];
  readonly kills: readonly KillRecord[];
  readonly sender: SenderStats;
  readonly streamMs: number;
  readonly drainMs: number;
}

interface InterfaceStatus {
  senders: { sender: string; received: number; applied: number; pending: number; failed: number; dead: number; rejected: number }[];
}

/** The gateway's own interface status for our sender (GET /hl7v2/status), as the integration team sees it. */
async function senderStatus(httpPort: number, dataDir: string): Promise<InterfaceStatus['senders'][number] | undefined> {
  // The status is for the integration team: an admin's development token, from the key the gateway made in DATA_DIR.
  const keys = await loadOrCreateDevKeyPair(devAuthDir(dataDir));
  const token = await mintToken(keys, { sub: 'crash-test-admin', role: 'admin', org: 'X9Z' }, { audience: DEFAULT_AUDIENCE, expiresInSeconds: 600 });
  const response = await fetch(`http://127.0.0.1:${String(httpPort)}/hl7v2/status`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as InterfaceStatus;
  return body.senders.find((s) => s.sender === `${CRASH_SENDER.facility}|${CRASH_SENDER.application}`);
}

/** A kill point for each kill, spread so each lands in its own slice of the stream (never the first or last 10%). */
function killPoints(messages: number, kills: number): number[] {
  const slice = (0.8 * messages) / kills;
  return Array.from({ length: kills }, (_, i) => Math.floor(0.1 * messages + slice * i + Math.random() * slice * 0.8));
}

export async function runHl7Crash(options: Hl7CrashOptions): Promise<Hl7CrashRun> {
  const controlIds = Array.from({ length: options.messages }, (_, n) => crashControlId(n));
  const payloads = Array.from({ length: options.messages }, (_, n) => crashAdmission(n));
  const acks: { code: string; controlId: string }[] = new Array<{ code: string; controlId: string }>(options.messages);
  const address = new GatewayAddress();
  let failure: string | undefined;
  const onUnexpectedExit = (detail: string): void => {
    failure ??= detail;
    address.abandon(new Error(detail));
  };
  // Set from the child's exit handler, so read through a function: narrowing cannot see it change.
  const throwIfFailed = (): void => {
    if (failure !== undefined) throw new Error(failure);
  };

  let gateway = await GatewayProcess.start(options.env, onUnexpectedExit);
  address.set(gateway.mllpPort);

  const points = killPoints(options.messages, options.kills.length);
  const kills: KillRecord[] = [];
  let acked = 0;
  let killing: Promise<void> | undefined;
  const killAndRestart = async (kind: 'kill' | 'freeze'): Promise<void> => {
    const ackedBefore = acked;
    // A random moment: a few milliseconds after the ACK that reached the kill point.
    await sleep(Math.floor(Math.random() * 30));
    const started = Date.now();
    await gateway.kill(kind === 'freeze' ? { freezeMs: options.sender.timeoutMs * 1.5 } : {});
    address.clear();
    gateway = await GatewayProcess.start(options.env, onUnexpectedExit);
    address.set(gateway.mllpPort);
    kills.push({ kind, ackedBefore, downMs: Date.now() - started });
  };

  const streamStarted = Date.now();
  let sender: SenderStats;
  try {
    sender = await streamMessages(payloads, address, {
      ...options.sender,
      connections: options.connections,
      onAck: (index, ack) => {
        acks[index] = ackSummary(ack);
        acked += 1;
        const next = kills.length;
        const kind = options.kills[next];
        if (killing === undefined && kind !== undefined && acked >= (points[next] ?? Infinity)) {
          killing = killAndRestart(kind)
            .catch((err: unknown) => {
              // The gateway did not come back: the senders would wait for it for ever.
              onUnexpectedExit(`restart after a kill failed: ${err instanceof Error ? err.message : String(err)}`);
            })
            .finally(() => {
              killing = undefined;
            });
        }
      },
    });
    await killing;
    if (kills.length < options.kills.length) throw new Error(`the stream ended after ${String(kills.length)} of ${String(options.kills.length)} kills`);
  } catch (err) {
    await gateway.stop();
    throw err;
  }
  const streamMs = Date.now() - streamStarted;

  // Every message is acknowledged: now wait until the gateway has applied everything it holds.
  const drainStarted = Date.now();
  try {
    for (;;) {
      throwIfFailed();
      const status = await senderStatus(gateway.httpPort, options.env['DATA_DIR'] ?? resolve('data'));
      if (status && status.pending === 0 && status.received >= options.messages) break;
      if (Date.now() - drainStarted > options.applyDeadlineMs) throw new Error(`inbox not drained within ${String(options.applyDeadlineMs)} ms: ${JSON.stringify(status)}`);
      await sleep(200);
    }
  } finally {
    await gateway.stop();
  }
  throwIfFailed();
  return { controlIds, acks, kills, sender, streamMs, drainMs: Date.now() - drainStarted };
}

/**
 * The plan both engines run: 5,000 admissions on 4 connections (no pipelining), three kills of
 * which the second first hangs the gateway past the sender's 2 s reply timeout. The sender's
 * MllpClient retransmits 3 times 100 ms apart, then the message goes again to wherever the
 * gateway listens by then.
 */
export const HL7_CRASH_PLAN = {
  messages: 5_000,
  connections: 4,
  kills: ['kill', 'freeze', 'kill'],
  sender: { timeoutMs: 2_000, retransmits: 3, retryDelayMs: 100 },
  applyDeadlineMs: 240_000,
} as const satisfies Omit<Hl7CrashOptions, 'env'>;

/** Messages whose ACK was not a CA answering their own MSH-10 (should be none). */
export function ackProblems(run: Hl7CrashRun): string[] {
  return run.controlIds.flatMap((controlId, i) => {
    const ack = run.acks[i];
    return ack?.code === 'CA' && ack.controlId === controlId ? [] : [`${controlId}: ${ack ? `${ack.code} for ${ack.controlId}` : 'no ACK'}`];
  });
}
