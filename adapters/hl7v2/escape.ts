/**
 * HL7 escape sequences (v2.5.1 §2.7): turning a leaf value as sent into the text it stands for,
 * and text back into a value that is safe inside a field. Unescaping happens after the value has
 * been split into fields, repetitions, components and subcomponents: an escaped delimiter is data.
 *
 * Decisions (the standard leaves display to the receiver; mappings want plain text):
 * - \F\ \S\ \T\ \R\ \E\ (and \P\, the v2.7 truncation character) become the delimiter they name.
 * - \Xhh..\ is hexadecimal data, decoded in the message's charset; adjacent \X\ sequences are joined
 *   first, so a UTF-8 character split across two of them still decodes.
 * - \.br\ is a line break ('\n'); \.sp\ and \.sp n\ end the line and skip n lines (n newlines,
 *   at least one, at most 20); \.ce\ ends the line. The other formatting commands (\.fi\ \.nf\ \.in n\
 *   \.ti n\ \.sk n\) and highlighting (\H\ \N\) are dropped: they style text we keep plain.
 * - \Zxx..\ (locally defined) and \Cxxyy\ \Mxxyyzz\ (ISO 2022 charset switches, unsupported) are
 *   dropped.
 * - Anything else (an unknown or unterminated sequence) is kept exactly as sent: better a stray
 *   backslash in a name than a silently lost character.
 */
import { type Hl7Charset, decodeText, type Hl7Delimiters } from './encoding';

type Unescaped = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'hex'; readonly bytes: number[] } | undefined;

function interpret(body: string, d: Hl7Delimiters): Unescaped {
  switch (body) {
    case 'F':
      return { kind: 'text', text: d.field };
    case 'S':
      return { kind: 'text', text: d.component };
    case 'T':
      return { kind: 'text', text: d.subcomponent };
    case 'R':
      return { kind: 'text', text: d.repetition };
    case 'E':
      return { kind: 'text', text: d.escape };
    case 'P':
      return d.truncation === undefined ? undefined : { kind: 'text', text: d.truncation };
    case 'H':
    case 'N':
    case '.fi':
    case '.nf':
      return { kind: 'text', text: '' };
    case '.br':
    case '.ce':
      return { kind: 'text', text: '\n' };
    default:
      break;
  }
  const hex = /^X((?:[0-9A-Fa-f]{2})*)$/.exec(body);
  if (hex) {
    const digits = hex[1] ?? '';
    const bytes: number[] = [];
    for (let i = 0; i < digits.length; i += 2) bytes.push(parseInt(digits.slice(i, i + 2), 16));
    return { kind: 'hex', bytes };
  }
  const space = /^\.sp\s*(\d*)$/.exec(body);
  // At most 20 lines: a sender's \.sp 99999999\ must not become a 100 MB string.
  if (space) return { kind: 'text', text: '\n'.repeat(Math.min(20, Number(space[1] ?? '') || 1)) };
  if (/^\.(in|ti)\s*[+-]?\d*$/.test(body) || /^\.sk\s*\d*$/.test(body)) return { kind: 'text', text: '' };
  if (/^Z[^\s]*$/.test(body) || /^C[0-9A-Fa-f]{4}$/.test(body) || /^M[0-9A-Fa-f]{6}$/.test(body)) return { kind: 'text', text: '' };
  return undefined;
}

/** The text a leaf value stands for. */
export function unescapeHl7(value: string, d: Hl7Delimiters, charset: Hl7Charset): string {
  const esc = d.escape;
  if (!value.includes(esc)) return value;
  let out = '';
  let pendingHex: number[] = [];
  const flushHex = (): void => {
    if (pendingHex.length > 0) {
      out += decodeText(Uint8Array.from(pendingHex), charset);
      pendingHex = [];
    }
  };
  let i = 0;
  while (i < value.length) {
    const at = value.indexOf(esc, i);
    if (at === -1) {
      flushHex();
      out += value.slice(i);
      break;
    }
    if (at > i) {
      flushHex();
      out += value.slice(i, at);
    }
    const end = value.indexOf(esc, at + esc.length);
    const meaning = end === -1 ? undefined : interpret(value.slice(at + esc.length, end), d);
    if (meaning === undefined || end === -1) {
      // Unknown or unterminated: keep the escape character and go on after it.
      flushHex();
      out += esc;
      i = at + esc.length;
      continue;
    }
    if (meaning.kind === 'hex') {
      pendingHex.push(...meaning.bytes);
    } else {
      flushHex();
      out += meaning.text;
    }
    i = end + esc.length;
  }
  flushHex();
  return out;
}

/**
 * Text made safe for a leaf value: delimiters and the escape character as \F\ \S\ \R\ \T\ \E\
 * (and \P\ when there is a truncation character), CR and LF as \X0D\ and \X0A\ (a raw CR would
 * end the segment).
 */
export function escapeHl7(text: string, d: Hl7Delimiters): string {
  let out = '';
  const e = d.escape;
  for (const ch of text) {
    switch (ch) {
      case d.field:
        out += `${e}F${e}`;
        break;
      case d.component:
        out += `${e}S${e}`;
        break;
      case d.repetition:
        out += `${e}R${e}`;
        break;
      case d.subcomponent:
        out += `${e}T${e}`;
        break;
      case e:
        out += `${e}E${e}`;
        break;
      case d.truncation:
        out += `${e}P${e}`;
        break;
      case '\r':
        out += `${e}X0D${e}`;
        break;
      case '\n':
        out += `${e}X0A${e}`;
        break;
      default:
        out += ch;
    }
  }
  return out;
}
