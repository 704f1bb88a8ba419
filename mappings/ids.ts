import { hash } from 'node:crypto';

/**
 * Deterministic resource ids: a UUID v5 (RFC 9562 §5.5) of resource type, source and source id,
 * so mapping the same input twice yields the same resources and re-imports update in place.
 */
const CAREBRIDGE_NAMESPACE = Buffer.from('6f1d2a4e8b3c4d5e9a7b0c1d2e3f4a5b', 'hex');

const HEX_DIGITS = '0123456789abcdef';

export function uuidV5(name: string, namespace: Buffer = CAREBRIDGE_NAMESPACE): string {
  // One-shot crypto.hash: a third cheaper than createHash().update().digest() for inputs this small.
  const hex = hash('sha1', Buffer.concat([namespace, Buffer.from(name, 'utf8')]), 'hex');
  // Version 5 in the high nibble of octet 6; variant 10xx in the high bits of octet 8 (RFC 9562 §4.1, §4.2).
  const variant = HEX_DIGITS[(parseInt(hex.charAt(16), 16) & 0x3) | 0x8] ?? '8';
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Ids a mapping just derived, by resource type, source and source id: a feed names the same
 * organisation, wards and clinicians in message after message, and a patient's messages arrive
 * close together. Bounded (cleared when full) and small on purpose: it only saves hashing what
 * recurs within a short stretch of traffic. Nested maps, so a hit builds no name string.
 */
const RECENT_IDS_LIMIT = 512;
const recentIds = new Map<string, Map<string, Map<string, string>>>();
let recentIdCount = 0;

export function resourceId(resourceType: string, source: string, sourceId: string): string {
  if (recentIdCount >= RECENT_IDS_LIMIT) {
    recentIds.clear();
    recentIdCount = 0;
  }
  let bySource = recentIds.get(resourceType);
  if (bySource === undefined) {
    bySource = new Map();
    recentIds.set(resourceType, bySource);
  }
  let bySourceId = bySource.get(source);
  if (bySourceId === undefined) {
    bySourceId = new Map();
    bySource.set(source, bySourceId);
  }
  let id = bySourceId.get(sourceId);
  if (id === undefined) {
    id = uuidV5(`${resourceType}|${source}|${sourceId}`);
    bySourceId.set(sourceId, id);
    recentIdCount++;
  }
  return id;
}
