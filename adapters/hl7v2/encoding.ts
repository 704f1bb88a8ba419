/**
 * How a message is encoded: its delimiters (MSH-1, MSH-2) and its character set (MSH-18), read
 * from the raw bytes of the MSH segment before anything is decoded. Everything read here is
 * ASCII: in ASCII, ISO-8859-1 and UTF-8 alike a byte below 0x80 is that ASCII character and
 * never part of a multi-byte sequence, so splitting the MSH bytes on the field separator is safe
 * whatever the charset turns out to be.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { Hl7ErrorCode, hl7Error, type Hl7ParseError } from './errors';

export interface Hl7Delimiters {
  /** MSH-1. */
  readonly field: string;
  /** MSH-2, characters 1 to 4 (v2.5.1 §2.5.4), and the truncation character (5th, v2.7+). */
  readonly component: string;
  readonly repetition: string;
  readonly escape: string;
  readonly subcomponent: string;
  readonly truncation?: string;
}

export const DEFAULT_DELIMITERS: Hl7Delimiters = {
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
};

/** How the bytes were (or will be) turned into text. */
export const Hl7Charset = {
  Ascii: 'ascii',
  Latin1: 'latin1',
  Utf8: 'utf-8',
} as const;
export type Hl7Charset = (typeof Hl7Charset)[keyof typeof Hl7Charset];

export interface Hl7Encoding {
  readonly delimiters: Hl7Delimiters;
  /** The charset the message was decoded with (after any fallback, see chooseCharset). */
  readonly charset: Hl7Charset;
  /** MSH-18 as sent (first repetition, first component), '' when absent. */
  readonly characterSet: string;
}

/** MSH-2 as the delimiters spell it. */
export function encodingCharacters(d: Hl7Delimiters): string {
  return d.component + d.repetition + d.escape + d.subcomponent + (d.truncation ?? '');
}

/**
 * HL7 table 0211 names (and the spellings senders use instead) for the charsets we decode.
 * Keys are upper-cased with (ASCII) spaces, hyphens and underscores removed.
 */
const CHARSET_NAMES: Readonly<Record<string, Hl7Charset>> = {
  ASCII: Hl7Charset.Ascii,
  USASCII: Hl7Charset.Ascii,
  ISOIR6: Hl7Charset.Ascii,
  '8859/1': Hl7Charset.Latin1,
  ISO88591: Hl7Charset.Latin1,
  ISOIR100: Hl7Charset.Latin1,
  LATIN1: Hl7Charset.Latin1,
  UNICODEUTF8: Hl7Charset.Utf8,
  UTF8: Hl7Charset.Utf8,
};

/** The charset an MSH-18 value names, or undefined when we do not support it. */
export function charsetFromName(name: string): Hl7Charset | undefined {
  const key = name.toUpperCase().replace(/[ _-]/g, '');
  return Object.prototype.hasOwnProperty.call(CHARSET_NAMES, key) ? CHARSET_NAMES[key] : undefined;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;
const CR = 0x0d;
const LF = 0x0a;

function isDelimiterChar(ch: string): boolean {
  // Printable ASCII, not a letter, digit or space: anything else could be data.
  return /^[\x21-\x7e]$/.test(ch) && !/^[A-Za-z0-9]$/.test(ch);
}

/** Valid delimiter sets by MSH-1 + MSH-2: a sender uses one set for every message (bounded: only a cache). */
const knownDelimiters = new Map<string, Hl7Delimiters>();

/** Validates MSH-1 and MSH-2 (v2.5.1 §2.5.4: four distinct encoding characters; v2.7 adds a fifth). */
export function delimitersFrom(msh1: string, msh2: string): Hl7Delimiters | Hl7ParseError {
  // A valid MSH-1 is one character, so one character + MSH-2 names one pair.
  if (msh1.length !== 1) return readDelimiters(msh1, msh2);
  const key = msh1 + msh2;
  const known = knownDelimiters.get(key);
  if (known !== undefined) return known;
  const read = readDelimiters(msh1, msh2);
  if (!('code' in read)) {
    if (knownDelimiters.size >= 64) knownDelimiters.clear();
    knownDelimiters.set(key, read);
  }
  return read;
}

function readDelimiters(msh1: string, msh2: string): Hl7Delimiters | Hl7ParseError {
  if (!isDelimiterChar(msh1)) {
    return hl7Error(Hl7ErrorCode.DataTypeError, 'MSH-1 (field separator) must be a printable, non-alphanumeric ASCII character', {
      segment: 'MSH',
      position: 1,
      field: 1,
    });
  }
  if (msh2 === '') {
    return hl7Error(Hl7ErrorCode.RequiredFieldMissing, 'MSH-2 (encoding characters) is missing', { segment: 'MSH', position: 1, field: 2 });
  }
  const chars = msh2.split(''); // ASCII or rejected below: one code unit per character
  const distinct = new Set([msh1, ...chars]);
  if (chars.length < 4 || chars.length > 5 || distinct.size !== chars.length + 1 || !chars.every(isDelimiterChar)) {
    return hl7Error(
      Hl7ErrorCode.DataTypeError,
      'MSH-2 (encoding characters) must be four (or, from v2.7, five) distinct printable, non-alphanumeric characters, none of them the field separator',
      { segment: 'MSH', position: 1, field: 2 },
    );
  }
  const [component, repetition, escape, subcomponent, truncation] = chars as [string, string, string, string, string | undefined];
  return truncation === undefined
    ? { field: msh1, component, repetition, escape, subcomponent }
    : { field: msh1, component, repetition, escape, subcomponent, truncation };
}

/** What the raw bytes say about the message before it is decoded. */
export interface RawHeader {
  /** Offset of 'MSH' in the buffer (after a UTF-8 BOM and leading whitespace). */
  readonly start: number;
  readonly utf8Bom: boolean;
  readonly delimiters: Hl7Delimiters;
  /** MSH-18, first repetition and component, trimmed, still escaped; '' when absent. */
  readonly characterSet: string;
}

/**
 * Reads MSH-1, MSH-2 and MSH-18 from the bytes. Tolerates a UTF-8 BOM and leading whitespace
 * (CR, LF, space, tab); anything else before MSH is an error, as is a batch (FHS/BHS).
 */
export function readRawHeader(bytes: Buffer): RawHeader | Hl7ParseError {
  const atMsh = { segment: 'MSH', position: 1 } as const;
  let start = 0;
  const utf8Bom = bytes.length >= 3 && UTF8_BOM.every((b, i) => bytes[i] === b);
  if (utf8Bom) start = 3;
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return hl7Error(Hl7ErrorCode.SegmentSequenceError, 'UTF-16 messages are not supported: send UTF-8 or ISO-8859-1', atMsh);
  }
  while (start < bytes.length && (bytes[start] === 0x20 || bytes[start] === 0x09 || bytes[start] === CR || bytes[start] === LF)) start++;
  if (start >= bytes.length) {
    return hl7Error(Hl7ErrorCode.SegmentSequenceError, 'The message is empty', atMsh);
  }
  if (bytes.toString('latin1', start, start + 3) !== 'MSH') {
    return hl7Error(Hl7ErrorCode.SegmentSequenceError, 'The message must begin with an MSH segment', atMsh);
  }
  const fieldByte = bytes[start + 3];
  if (fieldByte === undefined || fieldByte === CR || fieldByte === LF) {
    return hl7Error(Hl7ErrorCode.RequiredFieldMissing, 'MSH-1 (field separator) is missing', { ...atMsh, field: 1 });
  }
  const mshFields = splitMshBytes(bytes, start);
  const delimiters = delimitersFrom(String.fromCharCode(fieldByte), mshFields[1] ?? '');
  if ('code' in delimiters) return delimiters;
  return { start, utf8Bom, delimiters, characterSet: firstComponent(mshFields[17] ?? '', delimiters) };
}

/**
 * The MSH segment's bytes split on the field separator, each decoded as latin1 (byte for byte):
 * index 0 is 'MSH', index k is MSH-(k+1). Only ASCII content of these strings is meaningful.
 */
export function splitMshBytes(bytes: Buffer, start: number): string[] {
  let end = start;
  while (end < bytes.length && bytes[end] !== CR && bytes[end] !== LF) end++;
  const separator = String.fromCharCode(bytes[start + 3] ?? 0x7c);
  return bytes.toString('latin1', start, end).split(separator);
}

/** First repetition, first component, trimmed (MSH-18 may repeat: the first is the default charset). */
export function firstComponent(raw: string, d: Pick<Hl7Delimiters, 'component' | 'repetition'>): string {
  return (raw.split(d.repetition)[0] ?? '').split(d.component)[0]?.trim() ?? '';
}

/**
 * Which charset to decode with.
 * - A UTF-8 BOM means UTF-8, whatever MSH-18 says (the BOM is the stronger evidence).
 * - MSH-18 'UNICODE UTF-8': UTF-8, and bytes that are not valid UTF-8 are an error (102): we do not
 *   guess at names in a message that says one thing and sends another.
 * - MSH-18 '8859/1': latin1, byte for byte (not windows-1252).
 * - MSH-18 'ASCII', or MSH-18 absent: the configured default (absent) or ASCII; where the bytes are
 *   all below 0x80 that is the end of it. Otherwise the sender has sent more than it declared: bytes
 *   that are valid UTF-8 are read as UTF-8, anything else as latin1 (UK PAS systems that leave MSH-18
 *   empty mostly send latin1/windows-1252, and latin1 text with accents is almost never valid UTF-8).
 *   A default of latin1 reads latin1 without sniffing.
 * - Any other MSH-18 value: 103 (table 0211 value we do not support).
 */
export function chooseCharset(
  body: Buffer,
  raw: Pick<RawHeader, 'utf8Bom' | 'characterSet'>,
  defaultCharset: Hl7Charset,
): Hl7Charset | Hl7ParseError {
  const at18 = { segment: 'MSH', position: 1, field: 18 } as const;
  const declared = raw.characterSet === '' ? undefined : charsetFromName(raw.characterSet);
  if (raw.characterSet !== '' && declared === undefined) {
    return hl7Error(
      Hl7ErrorCode.TableValueNotFound,
      `MSH-18 (character set) '${printable(raw.characterSet)}' is not supported: use ASCII, 8859/1 or UNICODE UTF-8`,
      at18,
    );
  }
  if (raw.utf8Bom || declared === Hl7Charset.Utf8) {
    if (!isUtf8(body)) {
      return hl7Error(Hl7ErrorCode.DataTypeError, 'The message declares UTF-8 (MSH-18 or a byte order mark) but is not valid UTF-8', at18);
    }
    return Hl7Charset.Utf8;
  }
  const charset = declared ?? defaultCharset;
  if (charset === Hl7Charset.Latin1) return Hl7Charset.Latin1;
  if (isAscii(body)) return charset === Hl7Charset.Utf8 ? Hl7Charset.Utf8 : Hl7Charset.Ascii;
  return isUtf8(body) ? Hl7Charset.Utf8 : Hl7Charset.Latin1;
}

export function decodeText(bytes: Uint8Array, charset: Hl7Charset): string {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (charset) {
    case Hl7Charset.Utf8:
      return buffer.toString('utf8');
    case Hl7Charset.Latin1:
    case Hl7Charset.Ascii:
      // 'ascii' bytes are all below 0x80 (chooseCharset saw to that); latin1 maps them identically.
      return buffer.toString('latin1');
  }
}

/** Text to bytes; a character the charset cannot carry becomes '?'. */
export function encodeText(text: string, charset: Hl7Charset): Buffer {
  switch (charset) {
    case Hl7Charset.Utf8:
      return Buffer.from(text, 'utf8');
    case Hl7Charset.Latin1:
      return Buffer.from(text.replace(/[\u{100}-\u{10ffff}]/gu, '?'), 'latin1');
    case Hl7Charset.Ascii:
      return Buffer.from(text.replace(/[\u{80}-\u{10ffff}]/gu, '?'), 'latin1');
  }
}

/** A sender's header value made safe to quote in an error text: printable ASCII, at most 32 characters. */
export function printable(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 32);
}
