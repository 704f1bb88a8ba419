import { parseHl7 } from '../../adapters/hl7v2/parse';
import type { ParsedHl7 } from '../../adapters/hl7v2/types';
import { mllpBenchTraffic } from '../../bench/mllp-data';
import { applicabilityCheck, mapForSender } from './apply';
import { IntakeMappings } from './intake-mappings';
import { senderDirectory } from './senders';

const senders = senderDirectory();
const [admission, , , , , , , , , , transfer] = mllpBenchTraffic(10, 1).perConnection[0] ?? [];
const receivedAt = new Date('2025-08-01T09:00:00.123Z');

function parsed(content: Buffer | undefined): { message: ParsedHl7; content: Buffer } {
  if (!content) throw new Error('no bench message');
  const result = parseHl7(content);
  if (!result.ok) throw new Error(result.error.text);
  return { message: result.message, content };
}

describe('the intake hands its mapping to the worker of the same process', () => {
  test("check gives the mapping's errors exactly as applicabilityCheck does, for good and bad messages", () => {
    const mappings = new IntakeMappings();
    const good = parsed(admission);
    const sender = senders.senderOf(good.message.header);
    expect(mappings.check(good.message, sender, receivedAt)).toEqual([]);
    // PID-3 emptied: no patient identifier, an AE with its location.
    const bad = parsed(Buffer.from((admission ?? Buffer.alloc(0)).toString('latin1').replace(/\rPID\|1\|\|[^|]*\|/, '\rPID|1|||'), 'latin1'));
    const errors = mappings.check(bad.message, sender, receivedAt);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors).toEqual(applicabilityCheck(bad.message, sender, receivedAt));
  });

  test('the worker takes the same mapping the row would give when mapped again, once', () => {
    const mappings = new IntakeMappings();
    const { message, content } = parsed(admission);
    const sender = senders.senderOf(message.header);
    mappings.check(message, sender, receivedAt);
    mappings.stored('41', message, content);
    const item = { id: '41', source: sender.key, kind: 'hl7v2', content: Buffer.from(content), receivedAt: new Date(receivedAt.getTime()) };
    const taken = mappings.take(item);
    expect(taken?.sender).toEqual(sender);
    expect(JSON.stringify(taken?.result)).toEqual(JSON.stringify(mapForSender(parsed(Buffer.from(content)).message, sender, receivedAt.toISOString())));
    expect(mappings.take(item)).toBeUndefined();
    expect(mappings.stats()).toEqual({ held: 0, hits: 1, misses: 1 });
  });

  test('a row with other content or another received time than the mapping was made for is mapped again', () => {
    const mappings = new IntakeMappings();
    const first = parsed(admission);
    const second = parsed(transfer);
    const sender = senders.senderOf(first.message.header);
    mappings.check(first.message, sender, receivedAt);
    mappings.stored('1', first.message, first.content);
    mappings.check(second.message, sender, receivedAt);
    mappings.stored('2', second.message, second.content);
    expect(mappings.take({ id: '1', source: sender.key, kind: 'hl7v2', content: second.content, receivedAt })).toBeUndefined();
    expect(mappings.take({ id: '2', source: sender.key, kind: 'hl7v2', content: second.content, receivedAt: new Date(receivedAt.getTime() + 1) })).toBeUndefined();
    expect(mappings.stats()).toEqual({ held: 0, hits: 0, misses: 2 });
  });

  test('a message that was checked but not stored leaves nothing; beyond the limit the oldest rows are dropped', () => {
    const mappings = new IntakeMappings(2);
    const { message, content } = parsed(admission);
    const sender = senders.senderOf(message.header);
    mappings.check(message, sender, receivedAt);
    expect(mappings.stats().held).toBe(0);
    for (const id of ['1', '2', '3']) {
      const again = parsed(content);
      mappings.check(again.message, sender, receivedAt);
      mappings.stored(id, again.message, content);
    }
    expect(mappings.stats().held).toBe(2);
    expect(mappings.take({ id: '1', source: sender.key, kind: 'hl7v2', content, receivedAt })).toBeUndefined();
    expect(mappings.take({ id: '3', source: sender.key, kind: 'hl7v2', content, receivedAt })?.result.event?.trigger).toBe('A01');
  });
});
