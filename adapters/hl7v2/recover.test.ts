import { Hl7Charset } from './encoding';
import { recoverHeader } from './recover';

// Synthetic data only.
describe('recoverHeader', () => {
  it('reads the header of a message with garbage before MSH', () => {
    const header = recoverHeader(
      Buffer.from(`\x0bjunk 9990000018\r${String.raw`MSH|^~\&|PAS^1.2.3^ISO|RXX01|CB|ICB|20250314093000||ADT^A01^ADT_A01|MSG\T\42|P|2.4|||AL|NE`}\rPID|1\r`),
    );
    expect(header.found).toBe(true);
    expect(header.header).toMatchObject({
      sendingApplication: 'PAS',
      sendingFacility: 'RXX01',
      receivingApplication: 'CB',
      messageCode: 'ADT',
      triggerEvent: 'A01',
      messageStructure: 'ADT_A01',
      controlId: 'MSG&42',
      processingId: 'P',
      version: '2.4',
      acceptAckType: 'AL',
      applicationAckType: 'NE',
      characterSet: '',
    });
    expect(header.rawMsh[3]).toBe('PAS^1.2.3^ISO');
    // The same fields flat, as on an Hl7Header.
    expect(header).toMatchObject(header.header);
    expect(header.controlId).toBe('MSG&42');
    expect(header.rawMsh[10]).toBe(String.raw`MSG\T\42`);
  });

  it('reads custom delimiters', () => {
    const header = recoverHeader(Buffer.from('MSH#$*!@#PAS#RXX01#CB#ICB#20250314093000##ADT$A08#MSG!F!1#P#2.5.1\rPID#1'));
    expect(header.encoding.delimiters).toEqual({ field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '@' });
    expect([header.header.triggerEvent, header.header.controlId]).toEqual(['A08', 'MSG#1']);
  });

  it('falls back to the default encoding characters when MSH-2 is unusable, keeping the field separator', () => {
    const header = recoverHeader(Buffer.from('MSH#AB#PAS#RXX01#CB#ICB#20250314093000##ADT^A08#MSG1#P#2.5.1'));
    expect(header.encoding.delimiters).toEqual({ field: '#', component: '^', repetition: '~', escape: '\\', subcomponent: '&' });
    expect([header.header.messageCode, header.header.triggerEvent, header.header.controlId]).toEqual(['ADT', 'A08', 'MSG1']);
  });

  it('decodes with the charset MSH-18 names, or sniffs UTF-8 against latin1 when it names none', () => {
    const line = String.raw`MSH|^~\&|PAS|Hôpital Zoë|CB|ICB|20250314093000||ADT^A01|MSG1|P|2.5.1`;
    const latin1 = recoverHeader(Buffer.from(`${line}||||||8859/1\r`, 'latin1'));
    expect([latin1.header.sendingFacility, latin1.encoding.charset, latin1.header.characterSet]).toEqual(['Hôpital Zoë', Hl7Charset.Latin1, '8859/1']);
    expect(recoverHeader(Buffer.from(`${line}\r`, 'latin1')).header.sendingFacility).toBe('Hôpital Zoë');
    const utf8 = recoverHeader(Buffer.from(`${line}\r`, 'utf8'));
    expect([utf8.header.sendingFacility, utf8.encoding.charset]).toEqual(['Hôpital Zoë', Hl7Charset.Utf8]);
  });

  it('skips an MSH that is part of a word', () => {
    const header = recoverHeader(Buffer.from(String.raw`MSHX MSHA|MSH|^~\&|PAS|RXX01|CB|ICB|20250314093000||ADT^A01|MSG7|P|2.5.1`));
    expect(header.header.controlId).toBe('MSG7');
  });

  it('reports found: false, and empty fields, when there is no MSH', () => {
    const header = recoverHeader(Buffer.from('no header here'));
    expect(header.found).toBe(false);
    expect([header.header.controlId, header.header.sendingApplication, header.header.version]).toEqual(['', '', '']);
  });

  it('reads "" as empty', () => {
    expect(recoverHeader(Buffer.from(String.raw`MSH|^~\&|""|RXX01|CB|ICB|20250314093000||ADT^A01|MSG7|P|2.5.1`)).header.sendingApplication).toBe('');
  });
});

describe('recoverHeader with a field separator that is a default encoding character', () => {
  it('escapes each field whole, so an ACK cannot gain fields from it', () => {
    const header = recoverHeader(Buffer.from('MSH^X\\&|bad^PAS|x^RXX01^CB^ICB^20250314093000^^ADT|A01^MSG1^P^2.5.1'));
    expect(header.encoding.delimiters.field).toBe('|');
    expect(header.rawMsh[9]).toBe(String.raw`ADT\F\A01`);
    expect(header.header.messageCode).toBe('ADT|A01');
    expect(header.header.controlId).toBe('MSG1');
    expect(header.header.sendingApplication).toBe('PAS|x');
  });
});
