import { ConfigError } from '../../gateway/config';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSenderDirectory, parseAddress, senderDirectory } from '../../gateway/hl7v2/senders';

describe('the sender directory: application ACK addresses', () => {
  const header = { sendingFacility: 'RZZ', sendingApplication: 'PAS' };

  test('host:port is read into the sender; unlisted senders have none', () => {
    const directory = senderDirectory({ 'RZZ|PAS': { applicationAckAddress: 'pas-engine.example.nhs.uk:6661' } });
    expect(directory.senderOf(header).applicationAckAddress).toEqual({ host: 'pas-engine.example.nhs.uk', port: 6661 });
    expect(directory.senderOf({ sendingFacility: 'RXX', sendingApplication: 'PAS' }).applicationAckAddress).toBeUndefined();
    expect(parseAddress('[::1]:2575')).toEqual({ host: '::1', port: 2575 });
  });

  test.each(['pas-engine', 'pas-engine:', ':6661', 'pas-engine:0', 'pas-engine:70000', 'pas engine:6661'])('%p is refused at start with a clear error', (address) => {
    expect(() => senderDirectory({ 'RZZ|PAS': { applicationAckAddress: address } })).toThrow(ConfigError);
    expect(() => senderDirectory({ 'RZZ|PAS': { applicationAckAddress: address } })).toThrow(/RZZ\|PAS.*applicationAckAddress must be "host:port"/);
  });
});

describe("the sender directory: a sender the directory's system declares is kept under that system's source", () => {
  const pas = { name: 'northfield-pas', sourceUri: 'https://pas.northfield-trust.invalid/hl7v2', hl7Senders: ['RZZ|PAS'] };
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-senders-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (content: unknown): string => {
    const path = join(dir, `senders-${String(Math.random()).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(content));
    return path;
  };

  test("the system's source, with the file's other settings; undeclared senders keep theirs", () => {
    const senders = loadSenderDirectory({ HL7_SENDERS_FILE: file({ 'RZZ|PAS': { timeZone: 'Europe/London', nhsNumberVerified: true }, 'RXX|LAB': { source: 'urn:lab:rxx' } }) }, [pas]);
    const rzz = senders.senderOf({ sendingFacility: 'RZZ', sendingApplication: 'PAS' });
    expect([rzz.source, rzz.nhsNumberVerified]).toEqual(['https://pas.northfield-trust.invalid/hl7v2', true]);
    expect(senders.senderOf({ sendingFacility: 'RXX', sendingApplication: 'LAB' }).source).toBe('urn:lab:rxx');
    expect(senders.senderOf({ sendingFacility: 'RWW', sendingApplication: 'PAS' }).source).toBe('urn:carebridge:hl7v2:RWW:PAS');
    expect(loadSenderDirectory({}, [pas]).senderOf({ sendingFacility: 'RZZ', sendingApplication: 'PAS' }).source).toBe('https://pas.northfield-trust.invalid/hl7v2');
  });

  test('senders of one facility share the source; a system with senders of two facilities is refused at start', () => {
    const both = { ...pas, hl7Senders: ['RZZ|PAS', 'RZZ|ED'] };
    expect(loadSenderDirectory({}, [both]).senderOf({ sendingFacility: 'RZZ', sendingApplication: 'ED' }).source).toBe(pas.sourceUri);
    expect(() => loadSenderDirectory({}, [{ ...pas, hl7Senders: ['RZZ|PAS', 'RYY|PAS'] }])).toThrow(
      "The directory's system 'northfield-pas' declares HL7 senders of more than one facility (MSH-4: RZZ, RYY); its records share one source, so their patient numbers would collide: declare a system per facility",
    );
  });

  test('the file may repeat the source; a different one is refused at start, naming both', () => {
    expect(loadSenderDirectory({ HL7_SENDERS_FILE: file({ 'RZZ|PAS': { source: pas.sourceUri } }) }, [pas]).senderOf({ sendingFacility: 'RZZ', sendingApplication: 'PAS' }).source).toBe(pas.sourceUri);
    const conflicting = file({ 'RZZ|PAS': { source: 'urn:carebridge:hl7v2:RZZ:PAS' } });
    expect(() => loadSenderDirectory({ HL7_SENDERS_FILE: conflicting }, [pas])).toThrow(ConfigError);
    expect(() => loadSenderDirectory({ HL7_SENDERS_FILE: conflicting }, [pas])).toThrow(
      "HL7 sender 'RZZ|PAS': HL7_SENDERS_FILE keeps its records under 'urn:carebridge:hl7v2:RZZ:PAS', but the directory's system 'northfield-pas' says 'https://pas.northfield-trust.invalid/hl7v2'; give one source (or leave it out of the file)",
    );
  });
});
