import { HL7_NULL, type Hl7Header, type Hl7Segment, type ParsedHl7 } from '../../adapters/hl7v2/types';

/**
 * A deliberately small ParsedHl7 for the mapping tests, used only until (or where) the real
 * adapter parser is not available: segments split on CR or LF, fields on '|', repetitions on '~',
 * components on '^', subcomponents on '&'; `""` is HL7_NULL; the usual escapes are undone.
 * Text is read as UTF-8 (no MSH-18 character sets). MSH-1 is '|', MSH-2 the encoding characters.
 */
function unescape(value: string): string {
  return value
    .replace(/\\\.br\\/g, '\n')
    .replace(/\\F\\/g, '|')
    .replace(/\\S\\/g, '^')
    .replace(/\\T\\/g, '&')
    .replace(/\\R\\/g, '~')
    .replace(/\\X([0-9A-Fa-f]+)\\/g, (_, hex: string) => Buffer.from(hex, 'hex').toString('latin1'))
    .replace(/\\E\\/g, '\\');
}

class SimpleSegment implements Hl7Segment {
  constructor(
    readonly name: string,
    readonly position: number,
    /** fields[seq] is the raw text of field seq. */
    private readonly fields: readonly string[],
  ) {}

  get fieldCount(): number {
    return this.fields.length - 1;
  }

  private raw(seq: number): string {
    return this.fields[seq] ?? '';
  }

  /** fields split into repetitions, components and subcomponents, on first use. */
  private readonly split = new Map<number, string[][][]>();

  private parts(seq: number): string[][][] {
    let parts = this.split.get(seq);
    if (!parts) {
      parts = this.raw(seq)
        .split('~')
        .map((rep) => rep.split('^').map((comp) => comp.split('&')));
      this.split.set(seq, parts);
    }
    return parts;
  }

  get(seq: number, component = 1, subcomponent = 1, repetition = 1): string | typeof HL7_NULL {
    if (this.name === 'MSH' && (seq === 1 || seq === 2)) return component === 1 && subcomponent === 1 && repetition === 1 ? this.raw(seq) : '';
    const sub = this.parts(seq)[repetition - 1]?.[component - 1]?.[subcomponent - 1] ?? '';
    if (sub === '""') return HL7_NULL;
    return sub.includes('\\') ? unescape(sub) : sub;
  }

  text(seq: number, component?: number, subcomponent?: number, repetition?: number): string {
    const value = this.get(seq, component, subcomponent, repetition);
    return value === HL7_NULL ? '' : value;
  }

  repetitions(seq: number): number {
    const field = this.raw(seq);
    if (field === '') return 0;
    if (this.name === 'MSH' && (seq === 1 || seq === 2)) return 1;
    return field.split('~').length;
  }
}

export function simpleParseHl7(text: string): ParsedHl7 {
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
  const segments = lines.map((line, i) => {
    const parts = line.split('|');
    const name = parts[0] ?? '';
    // MSH-1 is the field separator itself, so MSH fields are shifted by one.
    const fields = name === 'MSH' ? ['', '|', ...parts.slice(1)] : ['', ...parts.slice(1)];
    return new SimpleSegment(name, i + 1, fields);
  });
  const msh = segments.find((s) => s.name === 'MSH');
  const t = (seq: number, c = 1): string => msh?.text(seq, c) ?? '';
  const header: Hl7Header = {
    sendingApplication: t(3),
    sendingFacility: t(4),
    receivingApplication: t(5),
    receivingFacility: t(6),
    messageDateTime: t(7),
    messageCode: t(9, 1),
    triggerEvent: t(9, 2),
    messageStructure: t(9, 3),
    controlId: t(10),
    processingId: t(11),
    version: t(12),
    acceptAckType: t(15),
    applicationAckType: t(16),
    characterSet: t(18),
  };
  return {
    header,
    segments,
    segment: (name) => segments.find((s) => s.name === name),
    all: (name) => segments.filter((s) => s.name === name),
  };
}
