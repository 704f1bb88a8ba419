import * as crypto from 'node:crypto';

/**
 * Deterministic resource ids: a UUID v5 (RFC 9562 §5.5) of resource type, source and source id,
 * so mapping the same input twice yields the same resources and re-imports update in place.
 */
const CAREBRIDGE_NAMESPACE = Buffer.from('6f1d2a4e8b3c4d5e9a7b0c1d2e3f4a5b', 'hex');

const HEX_DIGITS = '0123456789abcdef';

/** One-shot crypto.hash (Node 20.12 and later; package.json allows any Node 20), else createHash. */
const oneShotHash = (crypto as { hash?: typeof crypto.hash }).hash;
const sha1Hex = (input: Buffer): string => (oneShotHash ? oneShotHash('sha1', input, 'hex') : crypto.createHash('sha1').update(input).digest('hex'));

/** Namespace and name are hashed from here (one buffer reused: ids are made one at a time). */
const scratch = Buffer.allocUnsafe(4096);

export function uuidV5(name: string, namespace: Buffer = CAREBRIDGE_NAMESPACE): string {
  // One-shot crypto.hash: a third cheaper than createHash().update().digest() for inputs this small.
  let input: Buffer;
  if (namespace.length + name.length * 3 <= scratch.length) {
    // At most three UTF-8 bytes per UTF-16 code unit, so the name fits whole.
    namespace.copy(scratch, 0);
    const written = scratch.write(name, namespace.length, 'utf8');
    input = scratch.subarray(0, namespace.length + written);
  } else {
    input = Buffer.concat([namespace, Buffer.from(name, 'utf8')]);
  }
  const hex = sha1Hex(input);
  // Version 5 in the high nibble of octet 6; variant 10xx in the high bits of octet 8 (RFC 9562 §4.1, §4.2).
  const variant = HEX_DIGITS[(parseInt(hex.charAt(16), 16) & 0x3) | 0x8] ?? '8';
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function resourceId(resourceType: string, source: string, sourceId: string): string {
  return uuidV5(`${resourceType}|${source}|${sourceId}`);
}
