/**
 * The parsed message of types.ts over medplum's Hl7Segment: medplum splits a segment into fields,
 * repetitions and components; this adds subcomponents, unescaping, HL7_NULL and the standard's
 * numbering (every index 1-based; MSH-1 the field separator, MSH-2 the encoding characters).
 */
import { type Hl7Field, type Hl7Segment as MedplumSegment } from '@medplum/core';
import { encodingCharacters, type Hl7Encoding, charsetFromName, DEFAULT_DELIMITERS, delimitersFrom, Hl7Charset } from './encoding';
import { unescapeHl7 } from './escape';
import { HL7_NULL, type Hl7Header, type Hl7Segment, type ParsedHl7 } from './types';

/** A value sent as `""` (v2.5.1 §2.5.3): present and null. */
const NULL_VALUE = '""';

function fieldIsEmpty(field: Hl7Field | undefined): boolean {
  if (field === undefined) return true;
  const repetitions = field.components;
  if (repetitions.length > 1) return false;
  const first = repetitions[0];
  return first === undefined || (first.length === 1 && first[0] === '');
}

export class ParsedSegment implements Hl7Segment {
  readonly name: string;
  readonly fieldCount: number;
  /** MSH numbers its fields one off from medplum's array and has MSH-1/MSH-2 outside it. */
  private readonly isMsh: boolean;
  private readonly subcomponentSeparator: string;
  private readonly escapeCharacter: string;

  constructor(
    readonly position: number,
    private readonly raw: MedplumSegment,
    private readonly encoding: Hl7Encoding,
  ) {
    this.name = raw.name;
    this.isMsh = this.name === 'MSH';
    this.subcomponentSeparator = encoding.delimiters.subcomponent;
    this.escapeCharacter = encoding.delimiters.escape;
    let count = this.isMsh ? 2 : 0;
    for (let seq = raw.fields.length - (this.isMsh ? 0 : 1); seq > count; seq--) {
      if (!fieldIsEmpty(this.field(seq))) {
        count = seq;
        break;
      }
    }
    this.fieldCount = count;
  }

  /** medplum keeps the segment name at index 0; in MSH, index 1 holds MSH-2 and index k MSH-(k+1). */
  private field(seq: number): Hl7Field | undefined {
    if (!Number.isInteger(seq) || seq < 1) return undefined;
    const index = this.isMsh ? seq - 1 : seq;
    // Bounds checked here: an array read past its end is much slower than a length test.
    return index < this.raw.fields.length ? this.raw.fields[index] : undefined;
  }

  /** The leaf as sent (still escaped), or undefined when absent. */
  private leaf(seq: number, component: number, subcomponent: number, repetition: number): string | undefined {
    if (this.isMsh && (seq === 1 || seq === 2)) {
      if (component !== 1 || subcomponent !== 1 || repetition !== 1) return undefined;
      return seq === 1 ? this.encoding.delimiters.field : encodingCharacters(this.encoding.delimiters);
    }
    const repetitions = this.field(seq)?.components;
    if (repetitions === undefined || repetition < 1 || repetition > repetitions.length) return undefined;
    const components = repetitions[repetition - 1];
    if (components === undefined || component < 1 || component > components.length) return undefined;
    const value = components[component - 1];
    if (value === undefined || value === '') return value;
    const separator = this.subcomponentSeparator;
    // No subcomponent separator: the value is subcomponent 1 and there is no other.
    if (!value.includes(separator)) return subcomponent === 1 ? value : undefined;
    return value.split(separator)[subcomponent - 1];
  }

  get(seq: number, component = 1, subcomponent = 1, repetition = 1): string | typeof HL7_NULL {
    const value = this.leaf(seq, component, subcomponent, repetition);
    if (value === undefined || value === '') return '';
    if (value === NULL_VALUE) return HL7_NULL;
    if (this.isMsh && (seq === 1 || seq === 2)) return value;
    // Most values hold no escape sequence: unescaping only those that do.
    return value.includes(this.escapeCharacter) ? unescapeHl7(value, this.encoding.delimiters, this.encoding.charset) : value;
  }

  text(seq: number, component?: number, subcomponent?: number, repetition?: number): string {
    const value = this.get(seq, component, subcomponent, repetition);
    return value === HL7_NULL ? '' : value;
  }

  repetitions(seq: number): number {
    if (this.isMsh && (seq === 1 || seq === 2)) return 1;
    const field = this.field(seq);
    return fieldIsEmpty(field) ? 0 : (field?.components.length ?? 0);
  }

  /** Field seq exactly as sent (escaped, in this message's delimiters); '' when absent. */
  rawField(seq: number): string {
    if (this.isMsh && (seq === 1 || seq === 2)) return this.leaf(seq, 1, 1, 1) ?? '';
    return this.field(seq)?.toString() ?? '';
  }
}

export class ParsedMessage implements ParsedHl7 {
  constructor(
    readonly header: Hl7Header,
    readonly segments: readonly ParsedSegment[],
    readonly encoding: Hl7Encoding,
  ) {}

  segment(name: string): ParsedSegment | undefined {
    for (const segment of this.segments) if (segment.name === name) return segment;
    return undefined;
  }

  all(name: string): readonly ParsedSegment[] {
    const found: ParsedSegment[] = [];
    for (const segment of this.segments) if (segment.name === name) found.push(segment);
    return found;
  }
}

/**
 * The encoding of any ParsedHl7: exact for messages from parseHl7; for one built elsewhere, read
 * back from MSH-1, MSH-2 and MSH-18 (defaults where those are unusable).
 */
export function encodingOf(message: ParsedHl7): Hl7Encoding {
  if (message instanceof ParsedMessage) return message.encoding;
  const msh = message.segment('MSH');
  const delimiters = msh ? delimitersFrom(msh.text(1), msh.text(2)) : DEFAULT_DELIMITERS;
  return {
    delimiters: 'code' in delimiters ? DEFAULT_DELIMITERS : delimiters,
    charset: charsetFromName(message.header.characterSet) ?? Hl7Charset.Utf8,
    characterSet: message.header.characterSet,
  };
}
