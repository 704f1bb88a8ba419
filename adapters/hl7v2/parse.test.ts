import { Hl7Message } from '@medplum/core';
import { Hl7ErrorCode, type Hl7ParseError } from './errors';
import { DEFAULT_MAX_BYTES, parseHl7, type ParseHl7Options } from './parse';
import { HL7_NULL, type ParsedHl7 } from './types';

// Synthetic data only: 999-range NHS numbers, invented names, invented organisations.
const MSH = String.raw`MSH|^~\&|PAS|RXX01|CAREBRIDGE|ICB|20250314093000||ADT^A01^ADT_A01|MSG00001|P|2.5.1|||AL|NE||UNICODE UTF-8`;
const EVN = 'EVN|A01|20250314093000';
const PID = String.raw`PID|1||RXX123456^^^RXX01&2.16.840.1.113883.2.1.4.3&ISO^MR~9990000018^^^NHS^NH~X99^^^OTHER||Müller^Zoë^^^Ms||19800101|F|||1 Test Street^^Leeds^^LS1 1AA||""`;
const PV1 = 'PV1|1|I|WARD1^BED2^^RXX01';
const ADT = [MSH, EVN, PID, PV1];

function hl7(lines: readonly string[], terminator = '\r', encoding: BufferEncoding = 'utf8'): Buffer {
  return Buffer.from(lines.map((line) => line + terminator).join(''), encoding);
}

function parsed(bytes: Buffer, options?: ParseHl7Options): ParsedHl7 {
  const result = parseHl7(bytes, options);
  if (!result.ok) throw new Error(`expected a parsed message, got ${result.error.code}: ${result.error.text}`);
  return result.message;
}

function failure(bytes: Buffer, options?: ParseHl7Options): Hl7ParseError {
  const result = parseHl7(bytes, options);
  if (result.ok) throw new Error('expected a parse error');
  return result.error;
}

function msh(message: ParsedHl7): NonNullable<ReturnType<ParsedHl7['segment']>> {
  const segment = message.segment('MSH');
  if (!segment) throw new Error('no MSH');
  return segment;
}

describe('parseHl7: MSH numbering', () => {
  it('counts MSH-1 as the field separator, MSH-2 as the encoding characters and MSH-3 as the sending application', () => {
    const m = msh(parsed(hl7(ADT)));
    expect(m.get(1)).toBe('|');
    expect(m.get(2)).toBe('^~\\&');
    expect(m.get(3)).toBe('PAS');
    expect(m.get(4)).toBe('RXX01');
    expect(m.get(5)).toBe('CAREBRIDGE');
    expect(m.get(6)).toBe('ICB');
    expect(m.get(7)).toBe('20250314093000');
    expect(m.get(8)).toBe('');
    expect(m.get(9, 1)).toBe('ADT');
    expect(m.get(9, 2)).toBe('A01');
    expect(m.get(9, 3)).toBe('ADT_A01');
    expect(m.get(10)).toBe('MSG00001');
    expect(m.get(11)).toBe('P');
    expect(m.get(12)).toBe('2.5.1');
    expect(m.get(15)).toBe('AL');
    expect(m.get(16)).toBe('NE');
    expect(m.get(18)).toBe('UNICODE UTF-8');
    expect(m.fieldCount).toBe(18);
    expect(m.repetitions(1)).toBe(1);
    expect(m.repetitions(2)).toBe(1);
  });

  it('does not split or unescape MSH-2, and has no components in MSH-1 or MSH-2', () => {
    const m = msh(parsed(hl7(ADT)));
    expect(m.get(2, 2)).toBe('');
    expect(m.get(1, 1, 1, 2)).toBe('');
  });

  it('reads the header fields from the right MSH fields', () => {
    expect(parsed(hl7(ADT)).header).toEqual({
      sendingApplication: 'PAS',
      sendingFacility: 'RXX01',
      receivingApplication: 'CAREBRIDGE',
      receivingFacility: 'ICB',
      messageDateTime: '20250314093000',
      messageCode: 'ADT',
      triggerEvent: 'A01',
      messageStructure: 'ADT_A01',
      controlId: 'MSG00001',
      processingId: 'P',
      version: '2.5.1',
      acceptAckType: 'AL',
      applicationAckType: 'NE',
      characterSet: 'UNICODE UTF-8',
    });
  });

  it('takes the first component of HD, PT and VID header fields', () => {
    const header = parsed(
      hl7([String.raw`MSH|^~\&|PAS^1.2.3^ISO|RXX01^4.5.6^ISO|CB|ICB|20250314093000||ADT^A08|MSG2|P^T|2.4^GBR^2.4`, EVN]),
    ).header;
    expect([header.sendingApplication, header.sendingFacility, header.processingId, header.version, header.messageStructure]).toEqual([
      'PAS',
      'RXX01',
      'P',
      '2.4',
      '',
    ]);
  });

  it("numbers MSH like the standard where medplum's deprecated Hl7Segment.get is one off", () => {
    // Guard for an upgrade: we use medplum for splitting only, and address MSH ourselves.
    const medplum = Hl7Message.parse(hl7(ADT).toString('utf8')).header;
    expect(medplum.getField(3).toString()).toBe('PAS');
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    expect(medplum.get(3).toString()).toBe('RXX01');
    expect(msh(parsed(hl7(ADT))).get(3)).toBe('PAS');
  });

  it('accepts a fifth encoding character (v2.7 truncation) and still numbers MSH-3 correctly', () => {
    const message = parsed(hl7([String.raw`MSH|^~\&#|PAS|RXX01|CB|ICB|20250314093000||ADT^A01|MSG3|P|2.7`, String.raw`NTE|1||50\P\ off`]));
    expect(msh(message).get(2)).toBe('^~\\&#');
    expect(message.header.sendingApplication).toBe('PAS');
    expect(message.segment('NTE')?.get(3)).toBe('50# off');
  });
});

describe('parseHl7: segment terminators', () => {
  const names = (message: ParsedHl7): string[] => message.segments.map((s) => s.name);

  it.each([
    ['CR', '\r'],
    ['LF', '\n'],
    ['CR LF', '\r\n'],
  ])('reads %s-terminated messages the same, keeping every segment', (_name, terminator) => {
    const message = parsed(hl7(ADT, terminator));
    expect(names(message)).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
    expect(message.segments.map((s) => s.position)).toEqual([1, 2, 3, 4]);
    expect(message.segment('PID')?.text(5, 2)).toBe('Zoë');
    expect(message.segment('PV1')?.get(3, 2)).toBe('BED2');
  });

  it('keeps every segment of an LF-only message, including the last one without a terminator', () => {
    const bytes = Buffer.from([...ADT, 'ZU1|1|Z-value'].join('\n'));
    expect(names(parsed(bytes))).toEqual(['MSH', 'EVN', 'PID', 'PV1', 'ZU1']);
  });

  it('tolerates mixed terminators', () => {
    const bytes = Buffer.from(`${MSH}\r\n${EVN}\n${PID}\r${PV1}`);
    expect(names(parsed(bytes))).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
  });

  it('keeps a bare LF typed into a field of a CR-terminated message as data', () => {
    const message = parsed(hl7([...ADT, 'NTE|1||Lives alone.\nDaughter visits daily.', 'NTE|2||Second note'], '\r'));
    expect(names(message)).toEqual(['MSH', 'EVN', 'PID', 'PV1', 'NTE', 'NTE']);
    expect(message.all('NTE')[0]?.get(3)).toBe('Lives alone.\nDaughter visits daily.');
    expect(message.all('NTE')[1]?.get(3)).toBe('Second note');
  });

  it('splits on a bare LF in a CR-terminated message where a segment follows it', () => {
    const bytes = Buffer.from(`${MSH}\r${EVN}\n${PID}\r${PV1}\r`);
    expect(names(parsed(bytes))).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
  });

  it('tolerates trailing blank lines and whitespace, and blank lines between segments', () => {
    const bytes = Buffer.from(`${MSH}\r\n\r\n${EVN}\r\n${PID}\r\n${PV1}\r\n\r\n  \r\n\t\n`);
    const message = parsed(bytes);
    expect(names(message)).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
    expect(message.segments.map((s) => s.position)).toEqual([1, 2, 3, 4]);
  });

  it('tolerates whitespace before MSH', () => {
    expect(names(parsed(Buffer.from(`\r\n  ${ADT.join('\r')}`)))).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
  });
});

describe('parseHl7: custom encoding characters', () => {
  it('splits and unescapes with the delimiters of MSH-1 and MSH-2', () => {
    const bytes = hl7([
      'MSH#$*!@#PAS#RXX01#CB#ICB#20250314093000##ADT$A01$ADT_A01#MSG4#P#2.5.1',
      'PID#1##RXX9$$$RXX01@1.2.3@ISO$MR*9990000018$$$NHS$NH##O!S!Brien$Siân##19800101',
      'NTE#1##a | b ^ c ~ d & e \\ f!F!g!.br!h',
    ]);
    const message = parsed(bytes);
    const m = msh(message);
    expect([m.get(1), m.get(2), m.get(3), m.get(9, 2), m.get(10)]).toEqual(['#', '$*!@', 'PAS', 'A01', 'MSG4']);
    const pid = message.segment('PID');
    expect(pid?.repetitions(3)).toBe(2);
    expect(pid?.get(3, 1, 1, 2)).toBe('9990000018');
    expect(pid?.get(3, 4, 2, 1)).toBe('1.2.3');
    expect(pid?.get(5, 1)).toBe('O$Brien');
    expect(pid?.get(5, 2)).toBe('Siân');
    // The default delimiters are plain data here; the custom escapes are not.
    expect(message.segment('NTE')?.get(3)).toBe('a | b ^ c ~ d & e \\ f#g\nh');
  });
});

describe('parseHl7: values', () => {
  const pid = (): NonNullable<ReturnType<ParsedHl7['segment']>> => {
    const segment = parsed(hl7(ADT)).segment('PID');
    if (!segment) throw new Error('no PID');
    return segment;
  };

  it('reads a repeating PID-3 with the NHS number not first', () => {
    const segment = pid();
    expect(segment.repetitions(3)).toBe(3);
    const nhs = [1, 2, 3].find((rep) => segment.get(3, 5, 1, rep) === 'NH');
    expect(nhs).toBe(2);
    expect(segment.get(3, 1, 1, 2)).toBe('9990000018');
    expect(segment.get(3, 4, 1, 2)).toBe('NHS');
    expect(segment.get(3, 1)).toBe('RXX123456');
    expect(segment.get(3, 1, 1, 4)).toBe('');
  });

  it('reads subcomponents (PID-3.4 is an HD)', () => {
    const segment = pid();
    expect(segment.get(3, 4)).toBe('RXX01');
    expect(segment.get(3, 4, 1)).toBe('RXX01');
    expect(segment.get(3, 4, 2)).toBe('2.16.840.1.113883.2.1.4.3');
    expect(segment.get(3, 4, 3)).toBe('ISO');
    expect(segment.get(3, 4, 4)).toBe('');
  });

  it('returns HL7_NULL for a value sent as "" and "" as text', () => {
    const segment = pid();
    expect(segment.get(13)).toBe(HL7_NULL);
    expect(segment.text(13)).toBe('');
    expect(segment.repetitions(13)).toBe(1);
    // Only at the addressed level: component 2 of a "" field is simply absent.
    expect(segment.get(13, 2)).toBe('');
  });

  it('returns HL7_NULL for a component or repetition sent as ""', () => {
    const message = parsed(hl7([MSH, String.raw`PID|1||9990000026^^^NHS^NH~""||""^Zoë|||F|||""^^Leeds`]));
    const segment = message.segment('PID');
    expect(segment?.get(5, 1)).toBe(HL7_NULL);
    expect(segment?.get(5, 2)).toBe('Zoë');
    expect(segment?.get(3, 1, 1, 2)).toBe(HL7_NULL);
    expect(segment?.get(11, 1)).toBe(HL7_NULL);
    expect(segment?.get(11, 3)).toBe('Leeds');
  });

  it("returns '' for absent fields, components and out-of-range indices", () => {
    const segment = pid();
    expect(segment.get(2)).toBe('');
    expect(segment.get(40)).toBe('');
    expect(segment.get(0)).toBe('');
    expect(segment.get(-1)).toBe('');
    expect(segment.get(5, 9)).toBe('');
    expect(segment.repetitions(2)).toBe(0);
    expect(segment.repetitions(40)).toBe(0);
  });

  it('counts fields up to the last one sent with a value', () => {
    const message = parsed(hl7([MSH, 'PID|1||9990000018^^^NHS^NH||Müller^Zoë||||||', 'PV1']));
    expect(message.segment('PID')?.fieldCount).toBe(5);
    expect(message.segment('PV1')?.fieldCount).toBe(0);
    expect(pid().fieldCount).toBe(13);
  });

  it('unescapes leaf values after splitting, so escaped delimiters are data', () => {
    const message = parsed(hl7([MSH, String.raw`PID|1||9990000018^^^NHS^NH||M\S\ller\T\Co^Zo\XC3AB\|||F`, String.raw`NTE|1||Line one\.br\Line \H\two\N\ \F\ done`]));
    expect(message.segment('PID')?.get(5, 1)).toBe('M^ller&Co');
    expect(message.segment('PID')?.get(5, 2)).toBe('Zoë');
    expect(message.segment('PID')?.get(5, 3)).toBe('');
    expect(message.segment('NTE')?.get(3)).toBe('Line one\nLine two | done');
  });

  it('keeps Z-segments, and finds segments by name in order', () => {
    const message = parsed(hl7([...ADT, 'ZU1|1|Resident^Care Home', 'OBX|1|TX|||first', 'OBX|2|TX|||second', 'ZU2|x']));
    expect(message.segments.map((s) => s.name)).toEqual(['MSH', 'EVN', 'PID', 'PV1', 'ZU1', 'OBX', 'OBX', 'ZU2']);
    expect(message.segment('ZU1')?.get(2, 2)).toBe('Care Home');
    expect(message.segment('ZU1')?.position).toBe(5);
    expect(message.all('OBX').map((s) => [s.position, s.get(5)])).toEqual([
      [6, 'first'],
      [7, 'second'],
    ]);
    expect(message.segment('OBX')?.get(5)).toBe('first');
    expect(message.segment('AL1')).toBeUndefined();
    expect(message.all('AL1')).toEqual([]);
  });
});

describe('parseHl7: character sets', () => {
  const latin1Msh = MSH.replace('UNICODE UTF-8', '8859/1');

  it('decodes an 8859/1 message as latin1', () => {
    const message = parsed(hl7([latin1Msh, EVN, PID, PV1], '\r', 'latin1'));
    expect(message.header.characterSet).toBe('8859/1');
    expect(message.segment('PID')?.get(5, 1)).toBe('Müller');
    expect(message.segment('PID')?.get(5, 2)).toBe('Zoë');
  });

  it('decodes \\X..\\ in an 8859/1 message byte for byte', () => {
    const message = parsed(hl7([latin1Msh, String.raw`PID|1||9990000018^^^NHS^NH||M\XFC\ller^Zo\XEB\|||F`], '\r', 'latin1'));
    expect(message.segment('PID')?.get(5, 1)).toBe('Müller');
    expect(message.segment('PID')?.get(5, 2)).toBe('Zoë');
  });

  it('decodes UNICODE UTF-8 with a byte order mark', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), hl7([...ADT, 'NTE|1||O\u2019Brien visits'], '\r\n')]);
    const message = parsed(bytes);
    expect(message.segment('MSH')?.get(3)).toBe('PAS');
    expect(message.segment('PID')?.get(5, 2)).toBe('Zoë');
    expect(message.segment('NTE')?.get(3)).toBe('O\u2019Brien visits');
  });

  it('decodes a byte-order-marked message without MSH-18 as UTF-8', () => {
    const noCharset = MSH.replace('||UNICODE UTF-8', '');
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), hl7([noCharset, PID])]);
    expect(parsed(bytes).segment('PID')?.get(5, 2)).toBe('Zoë');
  });

  it('reads a message without MSH-18 as UTF-8 by default', () => {
    const noCharset = MSH.replace('||UNICODE UTF-8', '');
    const message = parsed(hl7([noCharset, PID]));
    expect(message.header.characterSet).toBe('');
    expect(message.segment('PID')?.get(5, 2)).toBe('Zoë');
  });

  it('falls back to latin1 for a message without MSH-18 whose bytes are not valid UTF-8', () => {
    const noCharset = MSH.replace('||UNICODE UTF-8', '');
    const message = parsed(hl7([noCharset, PID], '\r', 'latin1'));
    expect(message.segment('PID')?.get(5, 1)).toBe('Müller');
    expect(message.segment('PID')?.get(5, 2)).toBe('Zoë');
  });

  it('assumes the configured default charset when MSH-18 is absent', () => {
    const noCharset = MSH.replace('||UNICODE UTF-8', '');
    const message = parsed(hl7([noCharset, PID], '\r', 'utf8'), { defaultCharset: '8859/1' });
    // UTF-8 bytes read as latin1: the sender is configured as latin1, so that is what it gets.
    expect(message.segment('PID')?.get(5, 2)).toBe('ZoÃ«');
  });

  it('refuses an unknown defaultCharset as a configuration error', () => {
    expect(() => parseHl7(hl7(ADT), { defaultCharset: 'EBCDIC' })).toThrow(RangeError);
  });

  it('reads a message declared ASCII that carries UTF-8 bytes as UTF-8 rather than failing', () => {
    const message = parsed(hl7([MSH.replace('UNICODE UTF-8', 'ASCII'), PID]));
    expect(message.header.characterSet).toBe('ASCII');
    expect(message.segment('PID')?.get(5, 2)).toBe('Zoë');
  });

  it('reads a message declared ASCII that carries latin1 bytes as latin1', () => {
    expect(parsed(hl7([MSH.replace('UNICODE UTF-8', 'ASCII'), PID], '\r', 'latin1')).segment('PID')?.get(5, 2)).toBe('Zoë');
  });

  it.each(['UTF-8', 'utf8', 'ISO-8859-1', 'ISO IR100', 'US-ASCII'])('accepts the MSH-18 spelling %s', (name) => {
    const message = parsed(hl7([MSH.replace('UNICODE UTF-8', name), 'PID|1||9990000018^^^NHS^NH||Smith^Ann']));
    expect(message.header.characterSet).toBe(name);
    expect(message.segment('PID')?.get(5, 2)).toBe('Ann');
  });

  it('uses the first repetition of MSH-18 (the default character set)', () => {
    const message = parsed(hl7([MSH.replace('UNICODE UTF-8', '8859/1~ISO IR87'), PID], '\r', 'latin1'));
    expect(message.header.characterSet).toBe('8859/1');
    expect(message.segment('PID')?.get(5, 2)).toBe('Zoë');
  });

  it('rejects a message declared UTF-8 whose bytes are not UTF-8 (102 at MSH-18)', () => {
    const error = failure(hl7(ADT, '\r', 'latin1'));
    expect(error.code).toBe(Hl7ErrorCode.DataTypeError);
    expect(error.location).toEqual({ segment: 'MSH', position: 1, field: 18 });
  });

  it('rejects a character set it does not support (103 at MSH-18)', () => {
    const error = failure(hl7([MSH.replace('UNICODE UTF-8', 'UNICODE UTF-16'), PID]));
    expect(error.code).toBe(Hl7ErrorCode.TableValueNotFound);
    expect(error.location).toEqual({ segment: 'MSH', position: 1, field: 18 });
    expect(error.text).toContain('UNICODE UTF-16');
  });
});

describe('parseHl7: errors', () => {
  it('refuses a message over the default size limit of 1 MiB (207)', () => {
    const note = `NTE|1||${'x'.repeat(DEFAULT_MAX_BYTES)}`;
    const error = failure(hl7([...ADT, note]));
    expect(error.code).toBe(Hl7ErrorCode.ApplicationInternalError);
    expect(error.text).toMatch(/over the limit of 1048576 bytes/);
  });

  it('accepts a message exactly at a configured size limit and refuses one byte more', () => {
    const bytes = hl7(ADT);
    expect(parseHl7(bytes, { maxBytes: bytes.length }).ok).toBe(true);
    expect(failure(bytes, { maxBytes: bytes.length - 1 }).code).toBe(Hl7ErrorCode.ApplicationInternalError);
  });

  it('refuses garbage before MSH (100), without quoting it', () => {
    const error = failure(Buffer.from(`Müller Zoë 9990000018\r${ADT.join('\r')}`));
    expect(error).toEqual({
      code: Hl7ErrorCode.SegmentSequenceError,
      location: { segment: 'MSH', position: 1 },
      text: 'The message must begin with an MSH segment',
    });
  });

  it.each([
    ['an empty buffer', Buffer.alloc(0)],
    ['only whitespace', Buffer.from('\r\n \r\n')],
    ['a batch header', hl7([String.raw`FHS|^~\&|PAS`, String.raw`BHS|^~\&|PAS`, ...ADT])],
    ['a UTF-16 byte order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ADT.join('\r'), 'utf16le')])],
  ])('refuses %s (100)', (_name, bytes) => {
    expect(failure(bytes).code).toBe(Hl7ErrorCode.SegmentSequenceError);
  });

  it('refuses a line that is not a segment (100), naming its number, not its content', () => {
    const error = failure(hl7([MSH, EVN, 'Müller Zoë 9990000018', PV1], '\n'));
    expect(error.code).toBe(Hl7ErrorCode.SegmentSequenceError);
    expect(error.text).toBe('Segment 3 does not begin with a valid segment ID');
    expect(error.text).not.toMatch(/Müller|Zoë|9990000018/);
  });

  it('refuses a lower-case segment ID', () => {
    expect(failure(hl7([MSH, 'pid|1||9990000018^^^NHS^NH'])).code).toBe(Hl7ErrorCode.SegmentSequenceError);
  });

  it('refuses two messages in one (a second MSH) with 100', () => {
    const error = failure(hl7([...ADT, ...ADT]));
    expect(error.code).toBe(Hl7ErrorCode.SegmentSequenceError);
    expect(error.text).toMatch(/^Segment 5 is a second MSH/);
  });

  it.each([
    ['MSH alone', 'MSH', Hl7ErrorCode.RequiredFieldMissing, 1],
    ['an alphanumeric field separator', 'MSHX^~\\&XPAS', Hl7ErrorCode.DataTypeError, 1],
    ['an empty MSH-2', 'MSH||PAS|RXX01', Hl7ErrorCode.RequiredFieldMissing, 2],
    ['three encoding characters', 'MSH|^~\\|PAS|RXX01', Hl7ErrorCode.DataTypeError, 2],
    ['repeated encoding characters', 'MSH|^^\\&|PAS|RXX01', Hl7ErrorCode.DataTypeError, 2],
    ['the field separator among the encoding characters', 'MSH|^~|&|PAS', Hl7ErrorCode.DataTypeError, 2],
    ['a letter among the encoding characters', 'MSH|^~\\A|PAS', Hl7ErrorCode.DataTypeError, 2],
  ])('refuses %s', (_name, line, code, field) => {
    const error = failure(hl7([line, PID]));
    expect(error.code).toBe(code);
    expect(error.location).toEqual({ segment: 'MSH', position: 1, field });
  });

  it.each([
    ['MSH-9.1', MSH.replace('ADT^A01^ADT_A01', '^A01'), 9, 1],
    ['MSH-9.2', MSH.replace('ADT^A01^ADT_A01', 'ADT'), 9, 2],
    ['MSH-10', MSH.replace('MSG00001', ''), 10, undefined],
    ['MSH-10 sent as ""', MSH.replace('MSG00001', '""'), 10, undefined],
    ['MSH-11', MSH.replace('|P|', '||'), 11, undefined],
    ['MSH-12', MSH.replace('2.5.1', ''), 12, undefined],
  ])('refuses a message without %s (101 at that field)', (name, line, field, component) => {
    const error = failure(hl7([line, PID]));
    expect(error.code).toBe(Hl7ErrorCode.RequiredFieldMissing);
    expect(error.location).toEqual(component === undefined ? { segment: 'MSH', position: 1, field } : { segment: 'MSH', position: 1, field, component });
    expect(error.text).toMatch(new RegExp(`^${name.split(' ')[0]?.replace('.', '\\.') ?? ''} \\(.+\\) is required$`));
  });
});

describe('parseHl7: MSH-18 spelled with escapes', () => {
  it('unescapes MSH-18 before naming the charset (an escape character of - makes UTF-8 UTF-E-8)', () => {
    const message = parsed(hl7(['MSH|^~-&|PAS|RXX01|CB|ICB|20250314093000||ADT^A01|MSG1|P|2.5.1||||||UNICODE UTF-E-8', 'PID|1||9990000018^^^NHS^NH||Smith-E-Jones^Zoë']));
    expect(message.header.characterSet).toBe('UNICODE UTF-8');
    expect(message.segment('PID')?.get(5, 1)).toBe('Smith-Jones');
    expect(message.segment('PID')?.get(5, 2)).toBe('Zoë');
  });

  it('does not read a non-ASCII space in MSH-18 as a space', () => {
    const error = failure(hl7([MSH.replace('UNICODE UTF-8', 'UNICODE\u00a0UTF-8'), PID], '\r', 'latin1'));
    expect(error.code).toBe(Hl7ErrorCode.TableValueNotFound);
  });
});
