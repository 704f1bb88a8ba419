import { createHash } from 'node:crypto';

/**
 * RFC 8785 JSON Canonicalization Scheme for I-JSON values (what FHIR JSON is): object keys sorted by
 * UTF-16 code units at every level, numbers and strings as ECMAScript serialises them (which is what
 * RFC 8785 specifies), no whitespace. Equal content, equal text; tested against the RFC's examples.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return value === undefined ? 'null' : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
