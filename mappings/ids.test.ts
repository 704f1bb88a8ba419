import { resourceId, uuidV5 } from './ids';

describe('deterministic ids', () => {
  test('UUID v5 matches RFC 9562 for the DNS namespace example', () => {
    // RFC 9562 Appendix A.4: UUIDv5 of "www.example.com" in the DNS namespace.
    const dns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
    expect(uuidV5('www.example.com', dns)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
  test('the same type, source and source id give the same id; any difference gives another', () => {
    const a = resourceId('Patient', 'pas-1', '100234');
    expect(resourceId('Patient', 'pas-1', '100234')).toBe(a);
    expect(resourceId('Patient', 'pas-2', '100234')).not.toBe(a);
    expect(resourceId('Encounter', 'pas-1', '100234')).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
