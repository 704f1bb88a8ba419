import { ConfigError } from '../../gateway/config';
import { parseAddress, senderDirectory } from '../../gateway/hl7v2/senders';

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
