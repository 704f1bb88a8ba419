/**
 * The header of a message that did not parse, read as far as it can be, so that even unparseable
 * framed input gets an AR/CR that names it (MSA-2 = its MSH-10) and goes back to its sender.
 * Lenient where parseHl7 is strict: the MSH may come after garbage, the delimiters fall back to
 * the defaults, undecodable bytes become U+FFFD. Nothing read here is trusted beyond the ACK.
 */
import { isUtf8 } from 'node:buffer';
import {
  charsetFromName,
  DEFAULT_DELIMITERS,
  decodeText,
  delimitersFrom,
  encodingCharacters,
  firstComponent,
  Hl7Charset,
  type Hl7Delimiters,
  type Hl7Encoding,
} from './encoding';
import { escapeHl7, unescapeHl7 } from './escape';
import { type Hl7Header } from './types';

/**
 * The header fields as far as they could be read ('' where not), flat, and again as `header`, so
 * that `(parsed.ok ? parsed.message : recoverHeader(bytes)).header` reads the same either way.
 */
export interface RecoveredHeader extends Hl7Header {
  /** False when no MSH segment was found at all (every header field is then ''). */
  readonly found: boolean;
  readonly header: Hl7Header;
  readonly encoding: Hl7Encoding;
  /**
   * MSH fields as sent (still escaped, in encoding.delimiters), by sequence: rawMsh[3] is MSH-3.
   * Index 0 is unused. An ACK echoes MSH-3, -4, -11, -12 and -18 from here.
   */
  readonly rawMsh: readonly string[];
}

const EMPTY_HEADER: Hl7Header = {
  sendingApplication: '',
  sendingFacility: '',
  receivingApplication: '',
  receivingFacility: '',
  messageDateTime: '',
  messageCode: '',
  triggerEvent: '',
  messageStructure: '',
  controlId: '',
  processingId: '',
  version: '',
  acceptAckType: '',
  applicationAckType: '',
  characterSet: '',
};

const NOT_FOUND: RecoveredHeader = {
  ...EMPTY_HEADER,
  header: EMPTY_HEADER,
  found: false,
  encoding: { delimiters: DEFAULT_DELIMITERS, charset: Hl7Charset.Utf8, characterSet: '' },
  rawMsh: [],
};

function isPlausibleSeparator(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x21 && byte <= 0x7e && !/[A-Za-z0-9]/.test(String.fromCharCode(byte));
}

/** Offset of the first 'MSH' followed by something that can be a field separator, or -1. */
function findMsh(bytes: Buffer): number {
  for (let at = bytes.indexOf('MSH', 0, 'latin1'); at !== -1; at = bytes.indexOf('MSH', at + 1, 'latin1')) {
    if (isPlausibleSeparator(bytes[at + 3])) return at;
  }
  return -1;
}

/** Component c of the first repetition of a raw field, unescaped; '' for `""`. */
function component(raw: string | undefined, c: number, d: Hl7Delimiters, encoding: Hl7Encoding): string {
  const value = ((raw ?? '').split(d.repetition)[0] ?? '').split(d.component)[c - 1]?.split(d.subcomponent)[0] ?? '';
  return value === '""' ? '' : unescapeHl7(value, d, encoding.charset);
}

/** Reads what it can of the MSH segment in bytes that parseHl7 refused. */
export function recoverHeader(bytes: Buffer): RecoveredHeader {
  const start = findMsh(bytes);
  if (start === -1) return NOT_FOUND;
  // An MSH segment is a few hundred bytes; 64 KiB bounds the work on a frame with no terminator.
  const limit = Math.min(bytes.length, start + 64 * 1024);
  let end = start;
  while (end < limit && bytes[end] !== 0x0d && bytes[end] !== 0x0a) end++;
  const line = bytes.subarray(start, end);
  const separator = String.fromCharCode(line[3] ?? 0x7c);

  // The charset from MSH-18 where it is one we know; otherwise UTF-8 if the line is valid UTF-8.
  const asLatin1 = line.toString('latin1').split(separator);
  const delimiters = ((): Hl7Delimiters => {
    const read = delimitersFrom(separator, asLatin1[1] ?? '');
    if (!('code' in read)) return read;
    const defaults = encodingCharacters(DEFAULT_DELIMITERS);
    return defaults.includes(separator) ? DEFAULT_DELIMITERS : { ...DEFAULT_DELIMITERS, field: separator };
  })();
  const characterSet = unescapeHl7(firstComponent(asLatin1[17] ?? '', delimiters), delimiters, Hl7Charset.Latin1);
  const charset = charsetFromName(characterSet) ?? (isUtf8(line) ? Hl7Charset.Utf8 : Hl7Charset.Latin1);
  const encoding: Hl7Encoding = { delimiters, charset, characterSet };

  // Split on the separator actually sent. Where the delimiters fell back to '|' (the sender's
  // separator is one of the default encoding characters), a field may hold a raw '|': escape each
  // field whole, so that what the ACK echoes is a value in its delimiters, never extra fields.
  const fields = decodeText(line, charset).split(separator).slice(2);
  const consistent = delimiters.field === separator;
  const rawMsh = ['', delimiters.field, encodingCharacters(delimiters), ...(consistent ? fields : fields.map((f) => escapeHl7(f, delimiters)))];
  const get = (seq: number, c = 1): string => component(rawMsh[seq], c, delimiters, encoding);
  const header: Hl7Header = {
    sendingApplication: get(3),
    sendingFacility: get(4),
    receivingApplication: get(5),
    receivingFacility: get(6),
    messageDateTime: get(7),
    messageCode: get(9, 1),
    triggerEvent: get(9, 2),
    messageStructure: get(9, 3),
    controlId: get(10),
    processingId: get(11),
    version: get(12),
    acceptAckType: get(15),
    applicationAckType: get(16),
    characterSet,
  };
  return { ...header, header, found: true, encoding, rawMsh };
}
