import { ackErrorFrom, type AckInput, buildAck } from './ack';
import { Hl7ErrorCode } from './errors';
import { parseHl7 } from './parse';
import { recoverHeader } from './recover';
import { type Hl7Segment, type ParsedHl7 } from './types';

// Synthetic data only.
const MSH = String.raw`MSH|^~\&|PAS|RXX01|CAREBRIDGE|ICB|20250314093000||ADT^A01^ADT_A01|MSG00001|P|2.5.1|||AL|NE||UNICODE UTF-8`;
const ADT = [MSH, 'EVN|A01|20250314093000', 'PID|1||RXX123456^^^RXX01^MR~9990000018^^^NHS^NH||Müller^Zoë', 'PV1|1|I|WARD1'];
const NOW = new Date('2025-03-14T09:30:01.250Z');
const US = { receivingApplication: 'CAREBRIDGE', receivingFacility: 'ICB', now: NOW, controlId: 'ACK00001' } as const;

function hl7(lines: readonly string[], encoding: BufferEncoding = 'utf8'): Buffer {
  return Buffer.from(lines.map((line) => `${line}\r`).join(''), encoding);
}

function parsed(bytes: Buffer): ParsedHl7 {
  const result = parseHl7(bytes);
  if (!result.ok) throw new Error(result.error.text);
  return result.message;
}

function ack(input: Omit<AckInput, keyof typeof US> & Partial<AckInput>): string {
  return buildAck({ ...US, ...input }).toString('utf8');
}

describe('buildAck', () => {
  it('acknowledges a parsed message: sender and receiver swapped, MSA-2 = MSH-10, MSH-11/12/18 echoed', () => {
    expect(ack({ original: parsed(hl7(ADT)), code: 'AA' })).toBe(
      String.raw`MSH|^~\&|CAREBRIDGE|ICB|PAS|RXX01|20250314093001+0000||ACK^A01^ACK|ACK00001|P|2.5.1||||||UNICODE UTF-8` +
        '\r' +
        'MSA|AA|MSG00001\r',
    );
  });

  it('writes ERR in the v2.5 layout, with the segment occurrence in ERR-2.2 and the text escaped', () => {
    const original = parsed(hl7([...ADT, 'OBX|1|TX|||a', 'NTE|1||b', 'OBX|2|TX|||c']));
    const text = ACK_TEXT_WITH_DELIMITERS;
    const bytes = buildAck({
      ...US,
      original,
      code: 'AE',
      errors: [
        { code: Hl7ErrorCode.RequiredFieldMissing, severity: 'E', location: { segment: 'PID', position: 3, field: 3 }, text },
        { code: Hl7ErrorCode.DataTypeError, severity: 'W', location: { segment: 'OBX', position: 7, field: 5, component: 2 }, text: 'Unreadable value' },
        { code: Hl7ErrorCode.ApplicationInternalError, severity: 'I', text: 'Stored for review' },
      ],
    });
    expect(bytes.toString('utf8')).toBe(
      String.raw`MSH|^~\&|CAREBRIDGE|ICB|PAS|RXX01|20250314093001+0000||ACK^A01^ACK|ACK00001|P|2.5.1||||||UNICODE UTF-8` +
        '\r' +
        'MSA|AE|MSG00001\r' +
        String.raw`ERR||PID^1^3|101^Required field missing^HL70357|E||||No NHS number \F\ expected \S\NH\S\ in PID-3 \R\ \T\ \E\ done\X0A\next` +
        '\r' +
        'ERR||OBX^2^5^1^2|102^Data type error^HL70357|W||||Unreadable value\r' +
        'ERR|||207^Application internal error^HL70357|I||||Stored for review\r',
    );
  });

  it('writes an ERR text that reads back unchanged', () => {
    const text = ACK_TEXT_WITH_DELIMITERS;
    const bytes = buildAck({ ...US, original: parsed(hl7(ADT)), code: 'AE', errors: [{ code: '101', severity: 'E', text }] });
    const back = parsed(bytes);
    expect(back.segment('ERR')?.get(8)).toBe(text);
    expect(back.segment('MSA')?.get(2)).toBe('MSG00001');
    expect(back.header.messageCode).toBe('ACK');
    expect(back.header.controlId).toBe('ACK00001');
  });

  it("answers in the original's encoding characters and charset", () => {
    const original = parsed(
      hl7(['MSH#$*!@#PAS$1.2.3$ISO#Hôpital Test#CB#ICB#20250314093000##ADT$A03$ADT_A03#MSG!S!5#T#2.5.1######8859/1', 'PID#1##9990000018$$$NHS$NH##Müller$Zoë'], 'latin1'),
    );
    const bytes = buildAck({ ...US, original, code: 'CE', errors: [{ code: '207', severity: 'E', text: 'Retry # later $ ok' }] });
    expect(bytes.toString('latin1')).toBe(
      'MSH#$*!@#CAREBRIDGE#ICB#PAS$1.2.3$ISO#Hôpital Test#20250314093001+0000##ACK$A03$ACK#ACK00001#T#2.5.1######8859/1\r' +
        'MSA#CE#MSG!S!5\r' +
        'ERR###207$Application internal error$HL70357#E####Retry !F! later !S! ok\r',
    );
    // latin1 on the wire: ô is one byte.
    expect(bytes.includes(Buffer.from([0xf4]))).toBe(true);
    expect(bytes.includes(Buffer.from('ô', 'utf8'))).toBe(false);
  });

  it('echoes a VID MSH-12 as sent and the first MSH-18, and gives our identity as an HD', () => {
    const original = parsed(hl7([String.raw`MSH|^~\&|PAS|RXX01|CB|ICB|20250314093000||ADT^A08^ADT_A01|MSG6|P|2.5.1^GBR|||||GBR|UNICODE UTF-8~ISO IR87`]));
    const text = buildAck({
      ...US,
      original,
      code: 'AA',
      receivingApplication: ['CAREBRIDGE', '2.16.840.1.113883.2.1.3.2.4.18.48', 'ISO'],
      receivingFacility: ['ICB', '', ''],
    }).toString('utf8');
    expect(text).toBe(
      String.raw`MSH|^~\&|CAREBRIDGE^2.16.840.1.113883.2.1.3.2.4.18.48^ISO|ICB|PAS|RXX01|20250314093001+0000||ACK^A08^ACK|ACK00001|P|2.5.1^GBR||||||UNICODE UTF-8` +
        '\rMSA|AA|MSG6\r',
    );
  });

  it('escapes the original control ID again in MSA-2', () => {
    const original = parsed(hl7([MSH.replace('MSG00001', String.raw`MSG\S\7\T\x`)]));
    expect(original.header.controlId).toBe('MSG^7&x');
    expect(ack({ original, code: 'AA' }).split('\r')[1]).toBe(String.raw`MSA|AA|MSG\S\7\T\x`);
  });

  it('acknowledges a v2.4 message with ERR-1 (ELD) and MSA-3 as well, for receivers that read only those', () => {
    const original = parsed(hl7([MSH.replace('2.5.1', '2.4'), 'PID|1||9990000018^^^NHS^NH']));
    expect(
      ack({
        original,
        code: 'AR',
        errors: [{ code: '203', severity: 'E', location: { segment: 'MSH', position: 1, field: 12 }, text: 'Version 2.4 is not accepted' }],
      }),
    ).toBe(
      String.raw`MSH|^~\&|CAREBRIDGE|ICB|PAS|RXX01|20250314093001+0000||ACK^A01^ACK|ACK00001|P|2.4||||||UNICODE UTF-8` +
        '\r' +
        'MSA|AR|MSG00001|Version 2.4 is not accepted\r' +
        'ERR|MSH^1^12^203&Unsupported version id&HL70357|MSH^1^12|203^Unsupported version id^HL70357|E||||Version 2.4 is not accepted\r',
    );
  });

  it('acknowledges bytes that did not parse with an AR naming their MSH-10, from the recovered header', () => {
    const bytes = Buffer.from(`garbage line\r${String.raw`MSH|^~\&|PAS|RXX01|CB|ICB|20250314093000||ADT^A02^ADT_A02|MSG9|P|2.5.1`}\rPID|1\r`);
    const result = parseHl7(bytes);
    if (result.ok) throw new Error('expected a parse error');
    expect(ack({ original: recoverHeader(bytes), code: 'AR', errors: [ackErrorFrom(result.error)] })).toBe(
      String.raw`MSH|^~\&|CAREBRIDGE|ICB|PAS|RXX01|20250314093001+0000||ACK^A02^ACK|ACK00001|P|2.5.1` +
        '\r' +
        'MSA|AR|MSG9\r' +
        'ERR||MSH^1|100^Segment sequence error^HL70357|E||||The message must begin with an MSH segment\r',
    );
  });

  it('acknowledges bytes with no MSH at all with an AR and an empty MSA-2', () => {
    const bytes = Buffer.from('not hl7 at all');
    const result = parseHl7(bytes);
    if (result.ok) throw new Error('expected a parse error');
    expect(ack({ original: recoverHeader(bytes), code: 'CR', errors: [ackErrorFrom(result.error)] })).toBe(
      String.raw`MSH|^~\&|CAREBRIDGE|ICB|||20250314093001+0000||ACK^^ACK|ACK00001|P|2.5.1` +
        '\r' +
        'MSA|CR\r' +
        'ERR||MSH^1|100^Segment sequence error^HL70357|E||||The message must begin with an MSH segment\r',
    );
  });

  it('does not echo an MSH-18 it could not honour, and writes UTF-8 then', () => {
    const bytes = hl7([MSH.replace('UNICODE UTF-8', 'UNICODE UTF-16')]);
    const result = parseHl7(bytes);
    if (result.ok) throw new Error('expected a parse error');
    const text = ack({ original: recoverHeader(bytes), code: 'AR', errors: [ackErrorFrom(result.error)] });
    expect(text.split('\r')[0]).toBe(String.raw`MSH|^~\&|CAREBRIDGE|ICB|PAS|RXX01|20250314093001+0000||ACK^A01^ACK|ACK00001|P|2.5.1`);
    expect(text.split('\r')[2]).toBe(
      "ERR||MSH^1^18|103^Table value not found^HL70357|E||||MSH-18 (character set) 'UNICODE UTF-16' is not supported: use ASCII, 8859/1 or UNICODE UTF-8",
    );
  });

  it('replaces what an ASCII message cannot carry with ?', () => {
    const original = parsed(hl7([MSH.replace('UNICODE UTF-8', 'ASCII')]));
    const bytes = buildAck({ ...US, original, code: 'AE', errors: [{ code: '207', severity: 'E', text: 'Zoë – retry' }] });
    expect(bytes.toString('latin1').split('\r')[2]).toBe('ERR|||207^Application internal error^HL70357|E||||Zo? ? retry');
  });

  it('acknowledges a ParsedHl7 built elsewhere, reading its delimiters from MSH-1 and MSH-2', () => {
    const message = parsed(hl7(ADT));
    const plain = (s: Hl7Segment): Hl7Segment => ({
      name: s.name,
      position: s.position,
      fieldCount: s.fieldCount,
      get: (...args) => s.get(...args),
      text: (...args) => s.text(...args),
      repetitions: (seq) => s.repetitions(seq),
    });
    const segments = message.segments.map(plain);
    const foreign: ParsedHl7 = {
      header: message.header,
      segments,
      segment: (name) => segments.find((s) => s.name === name),
      all: (name) => segments.filter((s) => s.name === name),
    };
    expect(ack({ original: foreign, code: 'AA' })).toBe(ack({ original: message, code: 'AA' }));
  });
});

const ACK_TEXT_WITH_DELIMITERS = 'No NHS number | expected ^NH^ in PID-3 ~ & \\ done\nnext';

describe('buildAck with unusual delimiters', () => {
  it("escapes the timestamp's + and the default version's dots when they are delimiters", () => {
    const original = parsed(hl7(['MSH+.~\\&+PAS+RXX01+CB+ICB+20250314093000++ADT.A01+MSG1+P+2\\S\\5', 'PID+1']));
    expect(original.header.version).toBe('2.5');
    const text = buildAck({ ...US, original, code: 'AA' }).toString('utf8');
    expect(text).toBe('MSH+.~\\&+CAREBRIDGE+ICB+PAS+RXX01+20250314093001\\F\\0000++ACK.A01.ACK+ACK00001+P+2\\S\\5\rMSA+AA+MSG1\r');
    expect(parsed(Buffer.from(text)).header.messageDateTime).toBe('20250314093001+0000');

    const noVersion = hl7(['MSH+.~\\&+PAS+RXX01+CB+ICB+20250314093000++ADT.A01+MSG2']);
    const fallback = buildAck({ ...US, original: recoverHeader(noVersion), code: 'AR' }).toString('utf8');
    expect(fallback.split('\r')[0]).toBe('MSH+.~\\&+CAREBRIDGE+ICB+PAS+RXX01+20250314093001\\F\\0000++ACK.A01.ACK+ACK00001+P+2\\S\\5\\S\\1');
    expect(parsed(Buffer.from(fallback)).header.version).toBe('2.5.1');
  });
});
