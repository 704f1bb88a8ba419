import { HL7_NULL, type Hl7Segment } from '../../../adapters/hl7v2/types';

/**
 * Reading a field the way HL7 v2.5.1 §2.5.3 means it: a field is absent (nothing sent: no change),
 * present (a value), or null (`""`: delete the receiver's value). Components of a composite beyond
 * this bound are not looked at when deciding whether `""` stood for the whole field.
 */
const MAX_COMPONENTS = 25;

export const FieldState = {
  ABSENT: 'absent',
  NULL: 'null',
  PRESENT: 'present',
} as const;
export type FieldState = (typeof FieldState)[keyof typeof FieldState];

/** Whether repetition `rep` of field `seq` is exactly `""` (and nothing else). */
export function isNullRepetition(segment: Hl7Segment, seq: number, rep = 1): boolean {
  if (segment.get(seq, 1, 1, rep) !== HL7_NULL) return false;
  for (let c = 2; c <= MAX_COMPONENTS; c++) if (segment.text(seq, c, 1, rep) !== '') return false;
  return segment.text(seq, 1, 2, rep) === '';
}

export function fieldState(segment: Hl7Segment, seq: number): FieldState {
  const reps = segment.repetitions(seq);
  if (reps === 0) return FieldState.ABSENT;
  if (reps === 1 && isNullRepetition(segment, seq)) return FieldState.NULL;
  return FieldState.PRESENT;
}

/** The repetition numbers (1-based) of a field that carry something other than `""`. */
export function presentRepetitions(segment: Hl7Segment, seq: number): number[] {
  const out: number[] = [];
  const reps = segment.repetitions(seq);
  for (let r = 1; r <= reps; r++) if (isPresentRepetition(segment, seq, r)) out.push(r);
  return out;
}

function isPresentRepetition(segment: Hl7Segment, seq: number, rep: number): boolean {
  return !isNullRepetition(segment, seq, rep) && hasAnyComponent(segment, seq, rep);
}

function hasAnyComponent(segment: Hl7Segment, seq: number, rep: number): boolean {
  for (let c = 1; c <= MAX_COMPONENTS; c++) if (segment.text(seq, c, 1, rep) !== '' || segment.text(seq, c, 2, rep) !== '') return true;
  return false;
}

/** One repetition of one field: the datatype readers take this. */
export interface FieldValue {
  readonly segment: Hl7Segment;
  readonly seq: number;
  readonly rep: number;
}

/** Component text (HL7_NULL read as ''), trimmed. */
export function component(value: FieldValue, c: number, sub = 1): string {
  return value.segment.text(value.seq, c, sub, value.rep).trim();
}

export function repetitionsOf(segment: Hl7Segment, seq: number): FieldValue[] {
  const out: FieldValue[] = [];
  const reps = segment.repetitions(seq);
  for (let rep = 1; rep <= reps; rep++) if (isPresentRepetition(segment, seq, rep)) out.push({ segment, seq, rep });
  return out;
}

export function firstOf(segment: Hl7Segment, seq: number): FieldValue | undefined {
  const reps = segment.repetitions(seq);
  for (let rep = 1; rep <= reps; rep++) if (isPresentRepetition(segment, seq, rep)) return { segment, seq, rep };
  return undefined;
}

/** The first component of the first repetition, trimmed ('' when absent or null). */
export function simpleText(segment: Hl7Segment, seq: number): string {
  return segment.text(seq, 1, 1, 1).trim();
}

/**
 * Whether fields that together make one FHIR element ask for it to be deleted: at least one sent
 * as `""` and none carrying a value (a field not sent at all leaves its part alone).
 */
export function clearedBy(segment: Hl7Segment, ...seqs: number[]): boolean {
  let sawNull = false;
  for (const seq of seqs) {
    const state = fieldState(segment, seq);
    if (state === FieldState.PRESENT) return false;
    if (state === FieldState.NULL) sawNull = true;
  }
  return sawNull;
}
