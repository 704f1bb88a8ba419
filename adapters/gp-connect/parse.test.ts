import { MAX_GP_BUNDLE_BYTES, parseGpBundle } from './parse';

describe('parsing a GP Connect body', () => {
  test('JSON with or without a byte-order mark', () => {
    expect(parseGpBundle(Buffer.from('\uFEFF{"resourceType":"Bundle"}'))).toEqual({ ok: true, value: { resourceType: 'Bundle' } });
  });

  test('broken JSON says where (line and column), never what', () => {
    const result = parseGpBundle(Buffer.from('{\n  "resourceType": "Bundle",\n  "entry": [ 9990200009 x ]\n}'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(/^The body is not valid JSON at line 3, column \d+$/);
    expect(result.error).not.toContain('9990200009');
  });

  test('an empty body and one over the limit are refused', () => {
    expect(parseGpBundle(Buffer.alloc(0))).toEqual({ ok: false, error: 'The body is empty' });
    expect(parseGpBundle(Buffer.alloc(MAX_GP_BUNDLE_BYTES + 1, 0x20)).ok).toBe(false);
  });
});
