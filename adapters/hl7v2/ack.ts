/**
 * ACK messages (v2.5.1 §2.9, §2.14.1): MSH, MSA and one ERR per error, in the original's
 * delimiters and charset. Pure: the ACK's own control ID and the time are passed in.
 *
 * Layout:
 *   MSH|^~\&|<ours>|<ours>|<their MSH-3>|<their MSH-4>|<now>||ACK^<trigger>^ACK|<id>|<MSH-11>|<MSH-12>[|||||<MSH-18>]
 *   MSA|<code>|<their MSH-10>
 *   ERR||<seg>^<seq>^<field>^<rep>^<comp>^<sub>|<code>^<table 0357 text>^HL70357|<severity>||||<text>
 * MSH-18 repeats the original's character set when the ACK is written in it.
 * For a v2.1–v2.4 original (no ERR-2..8 there) ERR-1 (ELD) and MSA-3 carry the same error as well.
 */
import { type AckCode } from '@medplum/core';
import { charsetFromName, encodeText, encodingCharacters, type Hl7Encoding } from './encoding';
import { HL7_ERROR_CODE_TEXT, type Hl7ErrorCode, type Hl7ErrorLocation, type Hl7ErrorSeverity, type Hl7ParseError } from './errors';
import { escapeHl7 } from './escape';
import { encodingOf, ParsedSegment } from './message';
import { type RecoveredHeader } from './recover';
import { type Hl7Header, type ParsedHl7 } from './types';

export interface AckError {
  readonly code: Hl7ErrorCode;
  readonly severity: Hl7ErrorSeverity;
  /**
   * Where: position is the segment's position in the message (Hl7Segment.position). ERR-2.2 wants
   * the occurrence of that segment type instead (the 2nd OBX is 2 whatever precedes it); buildAck
   * converts when it has the parsed original.
   */
  readonly location?: Hl7ErrorLocation;
  /** Readable, sent as ERR-8; no patient data. */
  readonly text: string;
}

export interface AckInput {
  /** The message acknowledged: parsed, or as much of its header as recoverHeader could read. */
  readonly original: ParsedHl7 | RecoveredHeader;
  readonly code: AckCode;
  readonly errors?: readonly AckError[];
  /** The ACK's own MSH-10. */
  readonly controlId: string;
  /** The ACK's MSH-7. */
  readonly now: Date;
  /**
   * Ours: the application and facility that received the original, sent as the ACK's MSH-3 and
   * MSH-4. A string is the HD's first component; an array gives its components (namespace ID,
   * universal ID, universal ID type).
   */
  readonly receivingApplication: string | readonly string[];
  readonly receivingFacility: string | readonly string[];
}

/** A parse error as an ACK error (severity E). */
export function ackErrorFrom(error: Hl7ParseError): AckError {
  return { ...error, severity: 'E' };
}

/** What an ACK needs of the original, whichever way it was read. */
interface AckSource {
  readonly header: Hl7Header;
  readonly encoding: Hl7Encoding;
  /** MSH field as sent (escaped in the original's delimiters). */
  rawMsh(seq: number): string;
  /** ERR-2.2 for a location: the occurrence of that segment type. */
  sequenceOf(location: Hl7ErrorLocation): number;
}

function isRecovered(original: ParsedHl7 | RecoveredHeader): original is RecoveredHeader {
  return 'rawMsh' in original;
}

function sourceOf(original: ParsedHl7 | RecoveredHeader): AckSource {
  if (isRecovered(original)) {
    return {
      header: original.header,
      encoding: original.encoding,
      rawMsh: (seq) => original.rawMsh[seq] ?? '',
      sequenceOf: (location) => location.position ?? 1,
    };
  }
  const encoding = encodingOf(original);
  const msh = original.segment('MSH');
  return {
    header: original.header,
    encoding,
    rawMsh: (seq) => (msh instanceof ParsedSegment ? msh.rawField(seq) : escapeHl7(msh?.text(seq) ?? '', encoding.delimiters)),
    sequenceOf: (location) => {
      const position = location.position ?? 1;
      if (original.segments[position - 1]?.name !== location.segment) return position;
      return original.segments.slice(0, position).filter((s) => s.name === location.segment).length;
    },
  };
}

/** MSH-7: YYYYMMDDHHMMSS+0000 (UTC). */
function timestamp(now: Date): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return (
    pad(now.getUTCFullYear(), 4) +
    pad(now.getUTCMonth() + 1) +
    pad(now.getUTCDate()) +
    pad(now.getUTCHours()) +
    pad(now.getUTCMinutes()) +
    pad(now.getUTCSeconds()) +
    '+0000'
  );
}

/** v2.1 to v2.4 know ERR-1 (ELD) only, and read the text from MSA-3. */
function isBefore25(version: string): boolean {
  const match = /^2\.(\d+)/.exec(version);
  return match !== null && Number(match[1]) < 5;
}

function trimTrailing(values: string[]): string[] {
  let end = values.length;
  while (end > 0 && values[end - 1] === '') end--;
  return values.slice(0, end);
}

/** Builds the ACK as bytes in the original's charset, each segment ended by CR (v2.5.1 §2.5.1). */
export function buildAck(input: AckInput): Buffer {
  const source = sourceOf(input.original);
  const { delimiters: d, charset } = source.encoding;
  const esc = (text: string): string => escapeHl7(text, d);
  const components = (...values: string[]): string => trimTrailing(values).join(d.component);
  const hd = (value: string | readonly string[]): string => (typeof value === 'string' ? esc(value) : components(...value.map(esc)));
  const segment = (name: string, fields: string[]): string => [name, ...trimTrailing(fields)].join(d.field);
  const errors = input.errors ?? [];
  const legacy = isBefore25(source.header.version);

  // MSH-11 and MSH-12 are required: echoed as sent, or ours where the original had no first component.
  const echo = (seq: number, firstComponent: string, fallback: string): string => (firstComponent === '' ? fallback : source.rawMsh(seq));
  // MSH-18 names the charset the ACK is written in, in the original's spelling; nothing when the
  // original named none (or one we could not honour). Alternate charsets (repetitions) are not echoed.
  const characterSet = charsetFromName(source.header.characterSet) === charset ? esc(source.header.characterSet) : '';
  const msh = segment('MSH', [
    encodingCharacters(d),
    hd(input.receivingApplication),
    hd(input.receivingFacility),
    source.rawMsh(3),
    source.rawMsh(4),
    esc(timestamp(input.now)), // '+' may be a delimiter
    '',
    components('ACK', esc(source.header.triggerEvent), 'ACK'),
    esc(input.controlId),
    echo(11, source.header.processingId, esc('P')),
    echo(12, source.header.version, esc('2.5.1')), // '.' may be a delimiter
    '',
    '',
    '',
    '',
    '',
    characterSet,
  ]);
  const firstText = errors[0]?.text;
  const msa = segment('MSA', [input.code, esc(source.header.controlId), legacy && firstText !== undefined ? esc(firstText) : '']);

  const err = errors.map((error) => {
    const location = error.location;
    const codeText = HL7_ERROR_CODE_TEXT[error.code];
    const sequence = location ? String(source.sequenceOf(location)) : '';
    const erl = location
      ? components(
          esc(location.segment),
          sequence,
          location.field === undefined ? '' : String(location.field),
          location.field === undefined || (location.repetition ?? location.component ?? location.subcomponent) === undefined
            ? ''
            : String(location.repetition ?? 1),
          location.field === undefined || location.component === undefined ? '' : String(location.component),
          location.field === undefined || location.component === undefined || location.subcomponent === undefined
            ? ''
            : String(location.subcomponent),
        )
      : '';
    // ERR-1 (ELD, v2.4 and before): segment^sequence^field^code&text&HL70357.
    const eld = legacy
      ? components(
          location ? esc(location.segment) : '',
          sequence,
          location?.field === undefined ? '' : String(location.field),
          [error.code, esc(codeText), 'HL70357'].join(d.subcomponent),
        )
      : '';
    return segment('ERR', [eld, erl, components(error.code, esc(codeText), 'HL70357'), error.severity, '', '', '', esc(error.text)]);
  });

  return encodeText([msh, msa, ...err].map((s) => s + '\r').join(''), charset);
}
