import { createHash, randomBytes } from 'node:crypto';
import { buildAck, type AckError, type AckInput } from '../../adapters/hl7v2/ack';
import { Hl7ErrorCode } from '../../adapters/hl7v2/errors';
import { parseHl7 } from '../../adapters/hl7v2/parse';
import { recoverHeader } from '../../adapters/hl7v2/recover';
import type { Hl7Header, ParsedHl7 } from '../../adapters/hl7v2/types';
import type { Logger } from '../logger';
import { InboxGroupCommit } from '../ingest/inbox-group-commit';
import type { InboxQueue } from '../queue/inbox-queue';
import { acceptIntoInbox, InboxStatus } from '../store/inbox';
import type { Store } from '../store/store';
import type { Hl7Sender, Hl7SenderDirectory } from './senders';

/**
 * Receiving one HL7v2 message, from MLLP or HTTP, and deciding its acknowledgement. The raw message
 * is committed to the inbox before any ACK leaves: an AA (or CA) means it is safe. AR (CR) for
 * what can never be processed (unparseable, unsupported type, event, version or processing id),
 * AE for what parsed but cannot be applied (no patient identifier, impossible dates: the mapping's
 * errors). The same sender + MSH-10 + content again is re-acknowledged with the original outcome
 * and not processed twice; the same MSH-10 with other content is an AE.
 */

export const HL7_INBOX_KIND = 'hl7v2';
export const OUR_APPLICATION = 'CAREBRIDGE';

/** What we accept: ADT events and MDM documents (discharge summaries). */
export const SUPPORTED_EVENTS: Readonly<Record<string, readonly string[]>> = {
  ADT: ['A01', 'A02', 'A03', 'A04', 'A05', 'A06', 'A07', 'A08', 'A11', 'A12', 'A13', 'A14', 'A16', 'A25', 'A27', 'A28', 'A31', 'A40'],
  MDM: ['T02', 'T04'],
};
export const SUPPORTED_VERSIONS = ['2.3', '2.3.1', '2.4', '2.5', '2.5.1', '2.6', '2.7', '2.7.1', '2.8'];

export interface IntakeOutcome {
  ack: Buffer;
  code: AckCode;
  /** The inbox row, when the message was stored. */
  inboxId?: string;
  duplicate?: boolean;
  sender?: string;
}

export interface Hl7IntakeOptions {
  store: Store;
  queue: InboxQueue;
  senders: Hl7SenderDirectory;
  logger: Logger;
  /** The mapping's verdict: errors mean the message cannot be applied (AE). */
  check: (message: ParsedHl7, sender: Hl7Sender, receivedAt: Date) => AckError[];
  /**
   * Called once a message that passed the check is committed as a new pending row, before it is
   * enqueued: an in-process worker may reuse what the check computed (see intake-mappings.ts).
   */
  onStored?: (inboxId: string, message: ParsedHl7, content: Buffer) => void;
  now?: () => Date;
  maxBytes?: number;
  onOutcome?: (outcome: { sender: string; code: AckCode; duplicate: boolean }) => void;
}

type AckCode = AckInput['code'];

function headerOf(original: AckInput['original']): Hl7Header {
  return 'header' in original ? original.header : original;
}

function ackControlId(): string {
  return `CB${randomBytes(9).toString('hex')}`;
}

function enhancedMode(original: AckInput['original']): boolean {
  const header = headerOf(original);
  return header.acceptAckType !== '' || header.applicationAckType !== '';
}

/**
 * MSH-16 (HL7 table 0155): AL always, ER only after an error, SU only after success, NE never. An
 * empty MSH-16 in enhanced mode (MSH-15 set) asks for none: we do not guess a return channel.
 */
export function applicationAckWanted(msh16: string): 'AL' | 'ER' | 'SU' | undefined {
  const value = msh16.trim().toUpperCase();
  return value === 'AL' || value === 'ER' || value === 'SU' ? value : undefined;
}

/** Original mode answers AA/AE/AR; enhanced mode's accept ACK answers CA/CE/CR. */
function codeFor(kind: 'accept' | 'error' | 'reject', enhanced: boolean): AckCode {
  if (enhanced) return kind === 'accept' ? 'CA' : kind === 'error' ? 'CE' : 'CR';
  return kind === 'accept' ? 'AA' : kind === 'error' ? 'AE' : 'AR';
}

export class Hl7Intake {
  /** Messages arriving on many connections at once are committed together, each ACK still after its own commit. */
  private readonly inbox: InboxGroupCommit;

  constructor(private readonly options: Hl7IntakeOptions) {
    this.inbox = new InboxGroupCommit(options.store.engine);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private ack(original: Parameters<typeof buildAck>[0]['original'], code: AckCode, errors: AckError[] = []): Buffer {
    const facility = headerOf(original).receivingFacility;
    return buildAck({ original, code, errors, controlId: ackControlId(), now: this.now(), receivingApplication: OUR_APPLICATION, receivingFacility: facility });
  }

  private headerProblems(message: ParsedHl7, sender: Hl7Sender): AckError[] {
    const h = message.header;
    const events = SUPPORTED_EVENTS[h.messageCode];
    if (!events) return [{ code: Hl7ErrorCode.UnsupportedMessageType, severity: 'E', location: { segment: 'MSH', position: 1, field: 9, component: 1 }, text: `Message type ${h.messageCode || '(none)'} is not accepted` }];
    if (!events.includes(h.triggerEvent)) return [{ code: Hl7ErrorCode.UnsupportedEventCode, severity: 'E', location: { segment: 'MSH', position: 1, field: 9, component: 2 }, text: `Event ${h.messageCode}^${h.triggerEvent || '(none)'} is not accepted` }];
    if (!SUPPORTED_VERSIONS.includes(h.version)) return [{ code: Hl7ErrorCode.UnsupportedVersionId, severity: 'E', location: { segment: 'MSH', position: 1, field: 12 }, text: `Version ${h.version || '(none)'} is not accepted` }];
    if (h.processingId !== sender.processingId) return [{ code: Hl7ErrorCode.UnsupportedProcessingId, severity: 'E', location: { segment: 'MSH', position: 1, field: 11 }, text: `Processing id ${h.processingId || '(none)'} does not match this interface (${sender.processingId})` }];
    if (!h.controlId) return [{ code: Hl7ErrorCode.RequiredFieldMissing, severity: 'E', location: { segment: 'MSH', position: 1, field: 10 }, text: 'MSH-10 message control id is required' }];
    return [];
  }

  /**
   * `allowedSenders`: the MSH-4|MSH-3 keys the authenticated sender may send as (POST /hl7v2: the
   * system's `hl7Senders` in the directory); any other sender is rejected and kept as rejected.
   */
  async receive(payload: Buffer, options: { allowedSenders?: readonly string[] } = {}): Promise<IntakeOutcome> {
    const { logger } = this.options;
    const receivedAt = this.now();
    const parsed = parseHl7(payload, { maxBytes: this.options.maxBytes });
    if (!parsed.ok) {
      const header = recoverHeader(payload);
      const code = codeFor('reject', enhancedMode(header));
      // Kept for the integration team, as failed: never applied, never lost.
      await this.keepRejected(payload, header.found ? `${header.sendingFacility}|${header.sendingApplication}` : 'unknown', code, parsed.error.text).catch((err: unknown) => logger.warn({ err }, 'could not keep a rejected message'));
      logger.info({ code, reason: parsed.error.code }, 'HL7 message rejected');
      this.options.onOutcome?.({ sender: header.found ? `${header.sendingFacility}|${header.sendingApplication}` : 'unknown', code, duplicate: false });
      return { ack: this.ack(header, code, [{ ...parsed.error, severity: 'E' }]), code };
    }
    const message = parsed.message;
    const sender = this.options.senders.senderOf(message.header);
    const enhanced = enhancedMode(message);
    const rejection = this.headerProblems(message, sender);
    if (rejection.length === 0 && options.allowedSenders !== undefined && !options.allowedSenders.includes(sender.key)) {
      rejection.push({ code: Hl7ErrorCode.TableValueNotFound, severity: 'E', location: { segment: 'MSH', position: 1, field: 4 }, text: `This system may not send as facility ${message.header.sendingFacility} application ${message.header.sendingApplication} (MSH-4, MSH-3)` });
    }
    if (rejection.length > 0) {
      const code = codeFor('reject', enhanced);
      await this.keepRejected(payload, sender.key, code, rejection[0]?.text ?? '').catch((err: unknown) => logger.warn({ err }, 'could not keep a rejected message'));
      this.options.onOutcome?.({ sender: sender.key, code, duplicate: false });
      return { ack: this.ack(message, code, rejection), code, sender: sender.key };
    }
    const problems = this.options.check(message, sender, receivedAt);
    const applicable = problems.length === 0;
    const code = codeFor(applicable ? 'accept' : 'error', enhanced);
    // Enhanced mode: the application ACK follows once the row is applied (or has failed), sent by
    // the ApplicationAckDispatcher to the sender's receiver. The wish is kept on the row.
    const applicationAck = enhanced ? applicationAckWanted(message.header.applicationAckType) : undefined;
    if (applicationAck && !sender.applicationAckAddress) logger.warn({ sender: sender.key }, 'MSH-16 asks for application ACKs but the sender has no applicationAckAddress; none will be sent');
    try {
      const accepted = await this.inbox.accept({
        source: sender.key,
        kind: HL7_INBOX_KIND,
        dedupKey: message.header.controlId,
        content: payload,
        status: applicable ? InboxStatus.PENDING : InboxStatus.FAILED,
        outcome: { ack: code, errors: problems, receivedAt: receivedAt.toISOString(), ...(applicationAck && sender.applicationAckAddress ? { applicationAck } : {}) },
        error: applicable ? undefined : problems.map((p) => `${p.code} ${p.text}`).join('; '),
        // The time the check mapped the message with: whoever maps the row again gets the same result.
        receivedAt,
      });
      if (accepted.accepted === 'conflict') {
        const conflictCode = codeFor('error', enhanced);
        this.options.onOutcome?.({ sender: sender.key, code: conflictCode, duplicate: false });
        return {
          ack: this.ack(message, conflictCode, [{ code: Hl7ErrorCode.DuplicateKeyIdentifier, severity: 'E', location: { segment: 'MSH', position: 1, field: 10 }, text: 'MSH-10 was already used for a different message from this sender' }]),
          code: conflictCode,
          sender: sender.key,
        };
      }
      if (accepted.accepted === 'duplicate') {
        const first = (accepted.item.outcome ?? {}) as { ack?: AckCode; errors?: AckError[] };
        const again = first.ack ?? code;
        this.options.onOutcome?.({ sender: sender.key, code: again, duplicate: true });
        return { ack: this.ack(message, again, first.errors ?? []), code: again, inboxId: accepted.item.id, duplicate: true, sender: sender.key };
      }
      if (applicable) {
        this.options.onStored?.(accepted.item.id, message, payload);
        await this.options.queue.enqueue(accepted.item.id);
      }
      this.options.onOutcome?.({ sender: sender.key, code, duplicate: false });
      return { ack: this.ack(message, code, problems), code, inboxId: accepted.item.id, sender: sender.key };
    } catch (err) {
      // Nothing was committed: the sender must send it again.
      logger.error({ err, sender: sender.key }, 'HL7 message could not be stored');
      const failed = codeFor('error', enhanced);
      this.options.onOutcome?.({ sender: sender.key, code: failed, duplicate: false });
      return { ack: this.ack(message, failed, [{ code: Hl7ErrorCode.ApplicationInternalError, severity: 'E', text: 'The message could not be stored; send it again' }]), code: failed, sender: sender.key };
    }
  }

  /** A frame over the size limit: refused whole (AR/CR), from what its header says. */
  rejectOversize(truncated: Buffer, byteLength: number): IntakeOutcome {
    const header = recoverHeader(truncated);
    const code = codeFor('reject', enhancedMode(header));
    const sender = header.found ? `${header.sendingFacility}|${header.sendingApplication}` : 'unknown';
    this.options.logger.warn({ sender, bytes: byteLength }, 'HL7 message over the size limit rejected');
    this.options.onOutcome?.({ sender, code, duplicate: false });
    return { ack: this.ack(header, code, [{ code: Hl7ErrorCode.ApplicationInternalError, severity: 'E', text: `The message is ${String(byteLength)} bytes, over this interface's limit` }]), code, sender };
  }

  private async keepRejected(payload: Buffer, sender: string, code: AckCode, reason: string): Promise<void> {
    await acceptIntoInbox(this.options.store.engine, {
      source: sender,
      kind: `${HL7_INBOX_KIND}-rejected`,
      dedupKey: createHash('sha256').update(payload).digest('hex'),
      content: payload,
      status: InboxStatus.FAILED,
      outcome: { ack: code },
      error: reason,
    });
  }
}
