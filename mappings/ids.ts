import { createHash } from 'node:crypto';

/**
 * Deterministic resource ids: a UUID v5 (RFC 9562 §5.5) of resource type, source and source id,
 * so mapping the same input twice yields the same resources and re-imports update in place.
 */
const CAREBRIDGE_NAMESPACE = Buffer.from('6f1d2a4e8b3c4d5e9a7b0c1d2e3f4a5b', 'hex');

export function uuidV5(name: string, namespace: Buffer = CAREBRIDGE_NAMESPACE): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function resourceId(resourceType: string, source: string, sourceId: string): string {
  return uuidV5(`${resourceType}|${source}|${sourceId}`);
}
