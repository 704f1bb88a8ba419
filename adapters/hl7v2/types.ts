/**
 * The contract between the HL7v2 adapter (parsing, ACKs, MLLP) and the HL7v2 mappings: a parsed
 * message with every value already unescaped and decoded, addressed the way the HL7 v2.5.1
 * standard numbers things (segment name, field sequence from 1, repetition, component and
 * subcomponent from 1). Mappings see only this; they never touch bytes, charsets or escapes.
 */

/** HL7 explicit null: a field sent as `""` means "clear this value" (v2.5.1 §2.5.3). */
export const HL7_NULL = Symbol('HL7 explicit null');

export interface Hl7Header {
  /** MSH-3, MSH-4, MSH-5, MSH-6 (first component of each). */
  readonly sendingApplication: string;
  readonly sendingFacility: string;
  readonly receivingApplication: string;
  readonly receivingFacility: string;
  /** MSH-7, as sent. */
  readonly messageDateTime: string;
  /** MSH-9.1, MSH-9.2, MSH-9.3 (e.g. ADT, A01, ADT_A01). */
  readonly messageCode: string;
  readonly triggerEvent: string;
  readonly messageStructure: string;
  /** MSH-10. */
  readonly controlId: string;
  /** MSH-11.1: P production, T training, D debugging. */
  readonly processingId: string;
  /** MSH-12.1, e.g. 2.4, 2.5.1. */
  readonly version: string;
  /** MSH-15 accept ACK type and MSH-16 application ACK type (AL, NE, ER, SU); empty = original mode. */
  readonly acceptAckType: string;
  readonly applicationAckType: string;
  /** MSH-18 as sent (e.g. 'UNICODE UTF-8', '8859/1', 'ASCII'); empty when absent. */
  readonly characterSet: string;
}

export interface Hl7Segment {
  /** e.g. 'PID'. */
  readonly name: string;
  /** 1-based index of this segment in the message (MSH is 1), for ERR locations. */
  readonly position: number;
  /**
   * Field value. seq counts as in the standard (PID-3 is 3; for MSH, MSH-1 is the field separator
   * and MSH-2 the encoding characters). Defaults: repetition 1, component 1, subcomponent 1.
   * Returns '' when absent, HL7_NULL when sent as "" (only at the addressed level).
   */
  get(seq: number, component?: number, subcomponent?: number, repetition?: number): string | typeof HL7_NULL;
  /** The same, with HL7_NULL read as ''. */
  text(seq: number, component?: number, subcomponent?: number, repetition?: number): string;
  /** How many repetitions field seq has (0 when empty). */
  repetitions(seq: number): number;
  /** How many fields the segment carries (highest seq present). */
  readonly fieldCount: number;
}

export interface ParsedHl7 {
  readonly header: Hl7Header;
  readonly segments: readonly Hl7Segment[];
  /** First segment with this name. */
  segment(name: string): Hl7Segment | undefined;
  /** Every segment with this name, in order. */
  all(name: string): readonly Hl7Segment[];
}
