import { canonicalJson, sha256Hex } from './canonical-json';

describe('canonical JSON', () => {
  test('object keys are sorted at every level, arrays keep their order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });
  test('undefined properties are left out, as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });
  test('equal content in another key order hashes the same', () => {
    expect(sha256Hex(canonicalJson({ x: 1, y: 2 }))).toBe(sha256Hex(canonicalJson({ y: 2, x: 1 })));
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  // RFC 8785 (JSON Canonicalization Scheme) §3.2.2 and §3.2.3: for I-JSON input, sorting keys by
  // UTF-16 code units and serialising with ECMAScript's JSON.stringify is JCS.
  test('the RFC 8785 example gives the RFC output, byte for byte', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
  });

  test('keys sort by UTF-16 code units, as RFC 8785 §3.2.3 shows', () => {
    const input = String.raw`{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}`;
    const keys = Object.keys(JSON.parse(canonicalJson(JSON.parse(input))) as Record<string, string>);
    // Object.keys would put "1" first whatever the text says; read the order from the text instead.
    const order = [...canonicalJson(JSON.parse(input)).matchAll(/"([^"]*)":"([^"]*)"/g)].map((m) => m[2]);
    expect(keys).toHaveLength(7);
    expect(order).toEqual(['Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh']);
  });
});
