import { createHash } from 'node:crypto';
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
  test('UUID v5 is the RFC 9562 construction (SHA-1 of namespace and name, version and variant bits set) for any name', () => {
    const namespace = Buffer.from('6f1d2a4e8b3c4d5e9a7b0c1d2e3f4a5b', 'hex');
    const reference = (name: string): string => {
      const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
      hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
      hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
      const hex = hash.subarray(0, 16).toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    };
    const variants = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const name = `Patient|urn:test:${String(i)}|Zoë ${'x'.repeat(i % 7)}`;
      const id = uuidV5(name);
      expect(id).toBe(reference(name));
      variants.add(id.charAt(19));
    }
    expect([...variants].sort()).toEqual(['8', '9', 'a', 'b']);
  });
});
