import { randomBytes } from 'node:crypto';
import { buildAck, type AckError } from '../../adapters/hl7v2/ack';
import { Hl7ErrorCode } from '../../adapters/hl7v2/errors';
import { MllpClient } from '../../adapters/hl7v2/mllp-client';
import { parseHl7 } from '../../adapters/hl7v2/parse';
import type { Logger } from '../logger';
import type { SqlEngine } from '../store/engine';
import { OUR_APPLICATION } from './intake';
import type { Hl7SenderDirectory } from './senders';

/**
 * Enhanced-mode application acknowledgements (HL7 v2.5.1 §2.9.3): the accept ACK (CA/CE/CR) goes
 * back on the connection once the message is in the inbox; the application ACK (AA/AE/AR) is a new
 * message to the sender's own MLLP receiver (its `applicationAckAddress`), once the message has
 * been applied or has finally failed, as MSH-16 asks (AL always, ER on error, SU on success).
 *
 * Durable in two steps, both in the store, so a restart loses none:
 *   1. collect: inbox rows that wanted one (`outcome.applicationAck`, set by the intake) and are
 *      now done, failed or dead become rows of hl7_app_ack (the ACK built once, as bytes), and the
 *      wish is cleared from the inbox row, in one transaction;
 *   2. send: due hl7_app_ack rows are claimed (their next attempt pushed past the send's timeout,
 *      so two processes do not both send), sent over MLLP, and marked sent; a failed send is
 *      retried with exponential backoff, and after maxAttempts the row is dead (kept, listed).
 * Delivery is at least once: a crash between the receiver's reply and marking the row sent sends
 * it again, with the same MSH-10 so the receiver can tell.
 */
export interface ApplicationAckOptions {
  pollMs?: number;
  /** Backoff base: attempt n waits base × 2^(n-1), at most maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  maxAttempts?: number;
  /** How long to wait for the receiver's reply. */
  timeoutMs?: number;
  now?: () => Date;
}

export const ApplicationAckStatus = { PENDING: 'pending', SENT: 'sent', DEAD: 'dead' } as const;
export type ApplicationAckStatus = (typeof ApplicationAckStatus)[keyof typeof ApplicationAckStatus];

type AppAckCode = 'AA' | 'AE' | 'AR';

interface WantedRow {
  id: string;
  status: 'done' | 'failed' | 'dead';
  wanted: 'AL' | 'ER' | 'SU';
  last_error: string | null;
  errors: AckError[] | null;
  content: Uint8Array;
}

/** What the application ACK says about a row in its final state, and whether MSH-16 wants it sent. */
export function applicationAckFor(status: WantedRow['status'], wanted: WantedRow['wanted']): { code: AppAckCode; send: boolean } {
  const code: AppAckCode = status === 'done' ? 'AA' : 'AE';
  const send = wanted === 'AL' || (wanted === 'ER' && code !== 'AA') || (wanted === 'SU' && code === 'AA');
  return { code, send };
}

export class ApplicationAckDispatcher {
  private readonly clients = new Map<string, MllpClient>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly engine: SqlEngine,
    private readonly senders: Hl7SenderDirectory,
    private readonly logger: Logger,
    private readonly options: ApplicationAckOptions = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.pollMs ?? 250);
    this.timer.unref();
    void this.tick();
  }

  /** One collect-and-send pass (also for tests); passes never overlap. */
  tick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.running ??= (async () => {
      try {
        await this.collect();
        await this.sendDue();
      } catch (err) {
        this.logger.warn({ err }, 'application ACK pass failed');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** Step 1: finished inbox rows that want an application ACK become hl7_app_ack rows. */
  async collect(limit = 200): Promise<number> {
    return this.engine.transaction(async (tx) => {
      const rows = await tx.query<WantedRow>(
        `SELECT id::text AS id, status, outcome->>'applicationAck' AS wanted, last_error, outcome->'errors' AS errors, content
           FROM inbox WHERE (outcome ? 'applicationAck') AND status IN ('done', 'failed', 'dead') ORDER BY inbox.id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      const acks: { id: string; sender: string; address: string; code: string; payload: Buffer }[] = [];
      for (const row of rows.rows) {
        const { code, send } = applicationAckFor(row.status, row.wanted);
        const parsed = parseHl7(Buffer.from(row.content));
        if (!send || !parsed.ok) continue;
        const sender = this.senders.senderOf(parsed.message.header);
        const address = sender.applicationAckAddress;
        if (!address) continue;
        const errors: AckError[] =
          code === 'AA'
            ? []
            : row.errors && row.errors.length > 0
              ? row.errors
              : [{ code: Hl7ErrorCode.ApplicationInternalError, severity: 'E', text: row.status === 'dead' ? 'The message could not be applied after repeated attempts' : (row.last_error ?? 'The message could not be applied').slice(0, 200) }];
        const payload = buildAck({
          original: parsed.message,
          code,
          errors,
          controlId: `CBA${randomBytes(8).toString('hex')}`,
          now: this.now(),
          receivingApplication: OUR_APPLICATION,
          receivingFacility: parsed.message.header.receivingFacility,
        });
        acks.push({ id: row.id, sender: sender.key, address: `${address.host}:${String(address.port)}`, code, payload });
      }
      if (acks.length > 0) {
        await tx.query(
          `INSERT INTO hl7_app_ack (inbox_id, sender, address, code, payload)
           SELECT i::bigint, s, a, c, p FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[]) AS x(i, s, a, c, p)
           ON CONFLICT (inbox_id) DO NOTHING`,
          [acks.map((a) => a.id), acks.map((a) => a.sender), acks.map((a) => a.address), acks.map((a) => a.code), acks.map((a) => a.payload)],
        );
      }
      if (rows.rows.length > 0) {
        await tx.query(`UPDATE inbox SET outcome = (outcome - 'applicationAck') || jsonb_build_object('applicationAckQueued', inbox.id = ANY($2::bigint[])) WHERE id = ANY($1::bigint[])`, [
          rows.rows.map((r) => r.id),
          acks.map((a) => a.id),
        ]);
      }
      return acks.length;
    });
  }

  /** Step 2: sends what is due, oldest first; resolves with how many were sent. */
  async sendDue(limit = 100): Promise<number> {
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const claimed = await this.engine.query<{ inbox_id: string; address: string; payload: Uint8Array; attempts: number }>(
      `UPDATE hl7_app_ack SET next_attempt_at = $2::timestamptz
        WHERE inbox_id IN (SELECT inbox_id FROM hl7_app_ack WHERE status = 'pending' AND next_attempt_at <= $1::timestamptz ORDER BY next_attempt_at, inbox_id LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING inbox_id::text AS inbox_id, address, payload, attempts`,
      [this.now().toISOString(), new Date(this.now().getTime() + timeoutMs * 3).toISOString(), limit],
    );
    let sent = 0;
    const rows = [...claimed.rows].sort((a, b) => Number(a.inbox_id) - Number(b.inbox_id));
    for (const row of rows) {
      if (this.closed) break;
      try {
        await this.client(row.address, timeoutMs).send(Buffer.from(row.payload));
        await this.engine.query(`UPDATE hl7_app_ack SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE inbox_id = $1::bigint`, [row.inbox_id]);
        sent++;
      } catch (err) {
        const attempts = row.attempts + 1;
        const message = err instanceof Error ? err.message : String(err);
        const dead = attempts >= (this.options.maxAttempts ?? 20);
        const delay = Math.min((this.options.backoffMs ?? 1000) * 2 ** (attempts - 1), this.options.maxBackoffMs ?? 300_000);
        await this.engine.query(`UPDATE hl7_app_ack SET status = $2, attempts = $3, last_error = $4, next_attempt_at = $5::timestamptz WHERE inbox_id = $1::bigint`, [
          row.inbox_id,
          dead ? ApplicationAckStatus.DEAD : ApplicationAckStatus.PENDING,
          attempts,
          message,
          new Date(this.now().getTime() + delay).toISOString(),
        ]);
        this.logger.warn({ inboxId: row.inbox_id, attempts, dead }, dead ? 'application ACK dead after its last attempt' : 'application ACK send failed; will retry');
        // The receiver is unreachable: leave the rest for it to the next pass.
        this.dropClient(row.address);
      }
    }
    return sent;
  }

  private client(address: string, timeoutMs: number): MllpClient {
    let client = this.clients.get(address);
    if (!client) {
      const at = address.lastIndexOf(':');
      client = new MllpClient({ host: address.slice(0, at), port: Number(address.slice(at + 1)), timeoutMs, connectTimeoutMs: Math.min(timeoutMs, 5_000) });
      this.clients.set(address, client);
    }
    return client;
  }

  private dropClient(address: string): void {
    const client = this.clients.get(address);
    this.clients.delete(address);
    void client?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await Promise.all([...this.clients.values()].map((c) => c.close().catch(() => undefined)));
    this.clients.clear();
  }
}
