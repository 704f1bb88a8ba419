/**
 * MLLP framing: the three block characters and a streaming decoder.
 *
 * Plain MLLP as NHS trusts use it (HL7 v2.5.1 Appendix C, MLLP release 2 without its commit
 * acknowledgement): a frame is <VT> payload <FS><CR>. The payload stays bytes: which character
 * set it is in (MSH-18) is the parser's business, not the transport's.
 *
 * The decoder is lenient where senders are known to be sloppy and accounts for every byte it
 * does not deliver, so a misbehaving sender shows up in the metrics instead of disappearing:
 * - bytes outside a frame (a LF after the end block, line noise) are discarded and reported;
 * - an end block outside a frame (a sender that forgot the start block) is reported; the bytes
 *   before it are discarded, because they may be the tail of a frame whose start was lost;
 * - an end block not followed by a carriage return still ends the frame (a frame is delivered
 *   as soon as its end block arrives, so a sender that never sends the CR is not left waiting);
 * - a start block inside a frame abandons the partial frame before it (the payload may not hold
 *   VT or FS, so the sender must have lost the end of that frame) and starts a new one;
 * - a frame longer than the maximum is read to its end, delivered flagged as oversize with only
 *   its first maxFrameBytes bytes kept, and the connection stays usable.
 */

/** <VT>, start block. */
export const MLLP_START_BLOCK = 0x0b;
/** <FS>, end block. */
export const MLLP_END_BLOCK = 0x1c;
/** <CR>, which follows the end block. */
export const MLLP_CARRIAGE_RETURN = 0x0d;

/** 1 MiB: far above any ADT message; an MDM with an embedded PDF discharge summary fits. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

export interface MllpFrame {
  /** The payload between the block characters; for an oversize frame, its first maxFrameBytes bytes. */
  readonly payload: Buffer;
  /** The whole payload's length on the wire (more than payload.length when oversize). */
  readonly byteLength: number;
  /** True when the payload was longer than maxFrameBytes and was truncated. */
  readonly oversize?: boolean;
}

/** Why bytes were read and not delivered in a frame. */
export const MllpDiscardReason = {
  /** Between frames: noise, a LF after the end block, a frame whose start block was missing. */
  OutsideFrame: 'outside-frame',
  /** A start block arrived inside a frame: the partial frame before it (with its start block). */
  AbandonedFrame: 'abandoned-frame',
  /** The stream ended inside a frame (with its start block). */
  UnterminatedFrame: 'unterminated-frame',
  /** Read while the listener was closing the connection (reported by the connection, not the decoder). */
  Closing: 'closing',
} as const;
export type MllpDiscardReason = (typeof MllpDiscardReason)[keyof typeof MllpDiscardReason];

/** Framing mistakes worth counting that lose no bytes of their own. */
export const MllpAnomaly = {
  /** An end block outside a frame: the sender did not send a start block. */
  MissingStartBlock: 'missing-start-block',
  /** An end block followed by something other than a carriage return. */
  MissingCarriageReturn: 'missing-carriage-return',
} as const;
export type MllpAnomaly = (typeof MllpAnomaly)[keyof typeof MllpAnomaly];

export type MllpDecoded =
  | { readonly kind: 'frame'; readonly frame: MllpFrame }
  | { readonly kind: 'discarded'; readonly reason: MllpDiscardReason; readonly byteCount: number }
  | { readonly kind: 'anomaly'; readonly anomaly: MllpAnomaly };

export interface MllpDecoderOptions {
  /** Largest payload delivered whole; default DEFAULT_MAX_FRAME_BYTES. */
  readonly maxFrameBytes?: number;
}

/** Frames a payload: <VT> payload <FS><CR>, as one buffer so it leaves in one write. */
export function encodeMllpFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(payload.length + 3);
  frame[0] = MLLP_START_BLOCK;
  payload.copy(frame, 1);
  frame[payload.length + 1] = MLLP_END_BLOCK;
  frame[payload.length + 2] = MLLP_CARRIAGE_RETURN;
  return frame;
}

/** True when a payload holds a block character, so it cannot be framed unambiguously. */
export function containsMllpBlockCharacter(payload: Buffer): boolean {
  return payload.includes(MLLP_START_BLOCK) || payload.includes(MLLP_END_BLOCK);
}

/**
 * Streaming MLLP decoder: feed it chunks as TCP delivers them (a frame split across chunks,
 * several frames in one chunk); it returns what each chunk completed. Every byte pushed is
 * either part of a delivered frame (start block, payload, end block, the CR after it) or counted
 * in a 'discarded' item.
 */
export class MllpDecoder {
  private readonly maxFrameBytes: number;
  private inFrame = false;
  /** The last byte seen was a frame's end block: a CR next belongs to that frame. */
  private expectCarriageReturn = false;
  private parts: Buffer[] = [];
  private keptBytes = 0;
  private frameBytes = 0;

  constructor(options: MllpDecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(this.maxFrameBytes) || this.maxFrameBytes < 0) {
      throw new RangeError('maxFrameBytes must be a non-negative integer');
    }
  }

  /** True while a frame has started and not ended. */
  get insideFrame(): boolean {
    return this.inFrame;
  }

  push(chunk: Buffer): MllpDecoded[] {
    const out: MllpDecoded[] = [];
    let pos = 0;
    let outsideRun = 0;
    const flushOutside = (): void => {
      if (outsideRun > 0) {
        out.push({ kind: 'discarded', reason: MllpDiscardReason.OutsideFrame, byteCount: outsideRun });
        outsideRun = 0;
      }
    };

    if (this.expectCarriageReturn && chunk.length > 0) {
      this.expectCarriageReturn = false;
      if (chunk[0] === MLLP_CARRIAGE_RETURN) pos = 1;
      else out.push({ kind: 'anomaly', anomaly: MllpAnomaly.MissingCarriageReturn });
    }

    // Next start and end block at or after pos; -1 once there is none left in this chunk. Cached
    // so that a chunk of many block characters is still scanned in linear time.
    let nextStart = -2;
    let nextEnd = -2;
    while (pos < chunk.length) {
      if (nextStart !== -1 && nextStart < pos) nextStart = chunk.indexOf(MLLP_START_BLOCK, pos);
      if (nextEnd !== -1 && nextEnd < pos) nextEnd = chunk.indexOf(MLLP_END_BLOCK, pos);
      const next = nextStart === -1 ? nextEnd : nextEnd === -1 ? nextStart : Math.min(nextStart, nextEnd);

      if (!this.inFrame) {
        if (next === -1) {
          outsideRun += chunk.length - pos;
          pos = chunk.length;
          break;
        }
        outsideRun += next - pos;
        pos = next + 1;
        if (next === nextStart) {
          flushOutside();
          this.startFrame();
        } else {
          outsideRun += 1;
          flushOutside();
          out.push({ kind: 'anomaly', anomaly: MllpAnomaly.MissingStartBlock });
        }
        continue;
      }

      if (next === -1) {
        this.append(chunk.subarray(pos));
        pos = chunk.length;
        break;
      }
      this.append(chunk.subarray(pos, next));
      pos = next + 1;
      if (next === nextStart) {
        out.push({ kind: 'discarded', reason: MllpDiscardReason.AbandonedFrame, byteCount: this.frameBytes + 1 });
        this.startFrame();
        continue;
      }
      out.push({ kind: 'frame', frame: this.endFrame() });
      if (pos === chunk.length) {
        this.expectCarriageReturn = true;
      } else if (chunk[pos] === MLLP_CARRIAGE_RETURN) {
        pos += 1;
      } else {
        out.push({ kind: 'anomaly', anomaly: MllpAnomaly.MissingCarriageReturn });
      }
    }
    flushOutside();
    return out;
  }

  /** The stream has ended: a frame still open is reported as unterminated. */
  finish(): MllpDecoded[] {
    this.expectCarriageReturn = false;
    if (!this.inFrame) return [];
    const byteCount = this.frameBytes + 1;
    this.inFrame = false;
    this.resetFrame();
    return [{ kind: 'discarded', reason: MllpDiscardReason.UnterminatedFrame, byteCount }];
  }

  private startFrame(): void {
    this.inFrame = true;
    this.resetFrame();
  }

  private resetFrame(): void {
    this.parts = [];
    this.keptBytes = 0;
    this.frameBytes = 0;
  }

  private append(part: Buffer): void {
    this.frameBytes += part.length;
    const room = this.maxFrameBytes - this.keptBytes;
    if (room <= 0 || part.length === 0) return;
    const kept = part.length <= room ? part : part.subarray(0, room);
    this.parts.push(kept);
    this.keptBytes += kept.length;
  }

  private endFrame(): MllpFrame {
    // Buffer.concat copies, so the payload never pins the socket's chunk in memory.
    const payload = Buffer.concat(this.parts, this.keptBytes);
    const byteLength = this.frameBytes;
    this.inFrame = false;
    this.resetFrame();
    return byteLength > this.maxFrameBytes ? { payload, byteLength, oversize: true } : { payload, byteLength };
  }
}
