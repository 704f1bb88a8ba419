import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hl7BatchHandler } from './apply-batch';
import { loadSenderDirectory, type Hl7SenderDirectory } from './senders';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, '..', '..', 'tests', 'fixtures', 'hl7v2', `${name}.hl7`));

describe('preparing a batch of HL7v2 rows', () => {
  test('a row whose mapping throws is applied alone (retried and dead-lettered as usual); the other rows still make units', async () => {
    const real = loadSenderDirectory({});
    let calls = 0;
    // A sender configuration that breaks the mapping of one sender's messages (say, a bad time zone).
    const broken: Hl7SenderDirectory = {
      ...real,
      senderOf: (header) => {
        calls++;
        if (calls === 1) throw new RangeError('Invalid time zone specified');
        return real.senderOf(header);
      },
    };
    const a01 = fixture('adt-a01-admission');
    const a03 = fixture('adt-a03-discharge');
    const prepared = await hl7BatchHandler(broken).prepare([
      { id: '1', source: 'RZZ|PAS', kind: 'hl7v2', content: a01, receivedAt: new Date('2026-12-07T10:00:00Z') },
      { id: '2', source: 'RZZ|PAS', kind: 'hl7v2', content: a03, receivedAt: new Date('2026-12-07T10:00:00Z') },
    ]);
    expect(prepared[0]).toEqual({ id: '1', alone: true });
    expect(prepared[1]?.failure).toBeUndefined();
    expect(prepared[1]?.unit).toBeDefined();
    expect(prepared[1]?.keys?.some((k) => k.startsWith('Patient/'))).toBe(true);
  });
});
