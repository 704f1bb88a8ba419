import { createHash } from 'node:crypto';

/**
 * RFC 8785 JSON Canonicalization Scheme for I-JSON values (what FHIR JSON is): object keys sorted by
 * UTF-16 code units at every level, numbers and strings as ECMAScript serialises them (which is what
 * RFC 8785 specifies), no whitespace. Equal content, equal text; tested against the RFC's examples.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return value === undefined ? 'null' : JSON.stringify(value);
  // Built by appending, not with entries/filter/map/join arrays: the audit trail hashes an entry
  // listing every resource a record page returned, so this runs over thousands of small objects.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += (i > 0 ? ',' : '') + (item === undefined ? 'null' : canonicalJson(item));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as RFC 8785 §3.2.3 asks.
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
    first = false;
  }
  return `${out}}`;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
