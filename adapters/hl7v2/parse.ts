/**
 * Bytes → ParsedHl7 (types.ts). medplum's Hl7Context/Hl7Segment/Hl7Message split segments into
 * fields, repetitions and components; this file does what they leave out: the size limit, the
 * charset (MSH-18, read from the raw bytes before decoding), segment terminators, validated
 * delimiters and the header.
 *
 * Why not Hl7Message.parse(text) itself: it takes the delimiters from fixed offsets without
 * checking them, and splits on every run of CR/LF, which would cut a field holding a bare LF in a
 * CR-terminated message (see splitSegments). We build the same Hl7Context from validated MSH-1/MSH-2
 * and hand medplum one segment at a time.
 */
import { Hl7Context, Hl7Field, Hl7Message, Hl7Segment as MedplumSegment } from '@medplum/core';
import { chooseCharset, charsetFromName, decodeText, encodingCharacters, Hl7Charset, type Hl7Delimiters, type Hl7Encoding, readRawHeader } from './encoding';
import { unescapeHl7 } from './escape';
import { Hl7ErrorCode, hl7Error, type Hl7ParseError } from './errors';
import { ParsedMessage, ParsedSegment } from './message';
import { type Hl7Header, type ParsedHl7 } from './types';

/** 1 MiB: an ADT message is a few kilobytes; an MDM with a PDF summary is the large case. */
export const DEFAULT_MAX_BYTES = 1024 * 1024;

export interface ParseHl7Options {
  /** Larger input is refused (207) before anything is read. Default DEFAULT_MAX_BYTES. */
  readonly maxBytes?: number;
  /**
   * The charset to assume when MSH-18 is empty, as an MSH-18 name ('UNICODE UTF-8', '8859/1',
   * 'ASCII'). Default 'UNICODE UTF-8', falling back to latin1 for bytes that are not valid UTF-8
   * (see chooseCharset in encoding.ts).
   */
  readonly defaultCharset?: string;
}

export type ParseHl7Result = { readonly ok: true; readonly message: ParsedHl7 } | { readonly ok: false; readonly error: Hl7ParseError };

const SEGMENT_ID = /^[A-Z][A-Z0-9]{2}$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** A bare LF followed by a segment ID and the field separator, or by nothing but whitespace; one per separator. */
const bareLfTerminators = new Map<string, RegExp>();
function bareLfTerminator(fieldSeparator: string): RegExp {
  let pattern = bareLfTerminators.get(fieldSeparator);
  if (pattern === undefined) {
    pattern = new RegExp(`\\n(?=[A-Z][A-Z0-9]{2}(?:${escapeRegExp(fieldSeparator)}|$)|\\s*$)`);
    bareLfTerminators.set(fieldSeparator, pattern);
  }
  return pattern;
}

/**
 * Splits decoded text into segment lines. Terminators: CR, CRLF or LF (v2.5.1 §2.5.1 says CR;
 * senders and files use all three).
 * - No CR anywhere: every LF ends a segment.
 * - Otherwise CR (or CRLF) ends a segment, and a bare LF ends one only where a segment ID and the
 *   field separator follow it (or nothing but whitespace does); any other bare LF is data (a line
 *   break typed into a note) and stays in the value.
 * Lines holding only whitespace are dropped (blank lines, trailing newlines).
 */
function splitSegments(text: string, fieldSeparator: string): string[] {
  let lines: string[];
  if (!text.includes('\r')) {
    lines = text.split('\n');
  } else if (!text.includes('\n')) {
    // CR only, as the standard has it: the regular split below would give the same lines.
    lines = text.split('\r');
  } else {
    const bareLf = bareLfTerminator(fieldSeparator);
    lines = text.split(/\r\n?/).flatMap((chunk) => (chunk.includes('\n') ? chunk.split(bareLf) : [chunk]));
  }
  return lines.filter((line) => line.trim() !== '');
}

function startsWithSegmentId(line: string, fieldSeparator: string): boolean {
  return SEGMENT_ID.test(line.slice(0, 3)) && (line.length === 3 || line[3] === fieldSeparator);
}

function headerOf(msh: ParsedSegment, encoding: Hl7Encoding): Hl7Header {
  return {
    sendingApplication: msh.text(3),
    sendingFacility: msh.text(4),
    receivingApplication: msh.text(5),
    receivingFacility: msh.text(6),
    messageDateTime: msh.text(7),
    messageCode: msh.text(9, 1),
    triggerEvent: msh.text(9, 2),
    messageStructure: msh.text(9, 3),
    controlId: msh.text(10),
    processingId: msh.text(11),
    version: msh.text(12),
    acceptAckType: msh.text(15),
    applicationAckType: msh.text(16),
    characterSet: encoding.characterSet,
  };
}

/** MSH fields without which a message cannot be routed or acknowledged (all R in v2.5.1 §2.14.9). */
const REQUIRED_HEADER: readonly { readonly field: number; readonly component?: number; readonly name: string; readonly read: (h: Hl7Header) => string }[] = [
  { field: 9, component: 1, name: 'MSH-9.1 (message code)', read: (h) => h.messageCode },
  { field: 9, component: 2, name: 'MSH-9.2 (trigger event)', read: (h) => h.triggerEvent },
  { field: 10, name: 'MSH-10 (message control ID)', read: (h) => h.controlId },
  { field: 11, name: 'MSH-11 (processing ID)', read: (h) => h.processingId },
  { field: 12, name: 'MSH-12 (version ID)', read: (h) => h.version },
];

function medplumContext(d: Hl7Delimiters): Hl7Context {
  return new Hl7Context('\r', d.field, d.component, d.repetition, d.escape, d.subcomponent);
}

/**
 * One segment as medplum's Hl7Segment.parse builds it (fields split on the field separator, each
 * field by Hl7Field.parse into repetitions and components), except that every empty field is one
 * shared Hl7Field: most of a PID or PV1 is empty fields, and each would otherwise cost three arrays
 * and an object. Nothing writes to a parsed segment (ParsedSegment keeps it private and reads it).
 */
function medplumSegment(line: string, context: Hl7Context, emptyField: Hl7Field): MedplumSegment {
  const texts = line.split(context.fieldSeparator);
  const fields: Hl7Field[] = new Array<Hl7Field>(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i] ?? '';
    // Hl7Field.parse's result (repetitions, each split into components), without its second pass when nothing repeats.
    fields[i] = text === '' ? emptyField : text.includes(context.repetitionSeparator) ? Hl7Field.parse(text, context) : new Hl7Field([text.split(context.componentSeparator)], context);
  }
  return new MedplumSegment(fields, context);
}

/**
 * Parses one HL7 v2 message (ER7, "pipe and hat"). Never throws for bad input: the error carries a
 * table 0357 code, a location and a text without patient data, ready for an ACK's ERR segment.
 * Only configuration mistakes (an unknown defaultCharset) throw.
 */
export function parseHl7(bytes: Buffer, options: ParseHl7Options = {}): ParseHl7Result {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const defaultCharset = options.defaultCharset === undefined ? Hl7Charset.Utf8 : charsetFromName(options.defaultCharset);
  if (defaultCharset === undefined) {
    throw new RangeError(`parseHl7: defaultCharset must be ASCII, 8859/1 or UNICODE UTF-8`);
  }
  const fail = (error: Hl7ParseError): ParseHl7Result => ({ ok: false, error });

  if (bytes.length > maxBytes) {
    return fail(hl7Error(Hl7ErrorCode.ApplicationInternalError, `The message is ${bytes.length} bytes, over the limit of ${maxBytes} bytes`));
  }
  const rawHeader = readRawHeader(bytes);
  if ('code' in rawHeader) return fail(rawHeader);
  // MSH-18 is ASCII; unescaping it (a sender whose escape character is '-' writes UTF-E-8) needs no charset.
  const raw = { ...rawHeader, characterSet: unescapeHl7(rawHeader.characterSet, rawHeader.delimiters, Hl7Charset.Latin1) };
  const body = bytes.subarray(raw.start);
  const charset = chooseCharset(body, raw, defaultCharset);
  if (typeof charset !== 'string') return fail(charset);
  const encoding: Hl7Encoding = { delimiters: raw.delimiters, charset, characterSet: raw.characterSet };
  const d = raw.delimiters;

  const lines = splitSegments(decodeText(body, charset), d.field);
  for (const [index, line] of lines.entries()) {
    if (!startsWithSegmentId(line, d.field)) {
      return fail(hl7Error(Hl7ErrorCode.SegmentSequenceError, `Segment ${index + 1} does not begin with a valid segment ID`));
    }
    if (index > 0 && line.startsWith('MSH')) {
      return fail(
        hl7Error(
          Hl7ErrorCode.SegmentSequenceError,
          `Segment ${index + 1} is a second MSH: send one message at a time (batches are not accepted)`,
        ),
      );
    }
  }
  // MSH-2 as read from the bytes must be what medplum will see (it is, unless decoding moved it).
  if (!lines[0]?.startsWith(`MSH${d.field}${encodingCharacters(d)}`)) {
    return fail(hl7Error(Hl7ErrorCode.ApplicationInternalError, 'MSH-2 (encoding characters) could not be read'));
  }

  const context = medplumContext(d);
  const emptyField = new Hl7Field([['']], context);
  const medplum = new Hl7Message(
    lines.map((line) => medplumSegment(line, context, emptyField)),
    context,
  );
  const segments = medplum.segments.map((segment, index) => new ParsedSegment(index + 1, segment, encoding));
  const msh = segments[0];
  if (msh === undefined) return fail(hl7Error(Hl7ErrorCode.SegmentSequenceError, 'The message is empty'));
  const header = headerOf(msh, encoding);
  for (const required of REQUIRED_HEADER) {
    if (required.read(header) === '') {
      return fail(
        hl7Error(Hl7ErrorCode.RequiredFieldMissing, `${required.name} is required`, {
          segment: 'MSH',
          position: 1,
          field: required.field,
          ...(required.component === undefined ? {} : { component: required.component }),
        }),
      );
    }
  }
  return { ok: true, message: new ParsedMessage(header, segments, encoding) };
}
