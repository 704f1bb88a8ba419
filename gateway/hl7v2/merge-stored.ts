import type { Resource } from '@medplum/fhirtypes';
import type { ClearedElement } from '../../mappings/hl7v2/map-message';

/**
 * HL7 v2.5.1 §2.5.3 on the stored record: an element the message sent replaces the stored one, an
 * element it cleared with `""` is deleted, an element it did not send is kept. Identifiers merge by
 * system and value, extensions by URL; what the store assigns (versionId, lastUpdated) is left to it.
 */
export function mergeWithStored(stored: Resource | undefined, mapped: Resource, cleared: readonly ClearedElement[]): Resource {
  if (!stored) return mapped;
  const reference = `${mapped.resourceType}/${mapped.id ?? ''}`;
  const paths = cleared.filter((c) => c.reference === reference).map((c) => c.path.slice(mapped.resourceType.length + 1));
  const storedFields = stored as unknown as Record<string, unknown>;
  const mappedFields = mapped as unknown as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...storedFields, ...mappedFields };
  const storedIdentifiers = (storedFields['identifier'] ?? []) as { system?: string; value?: string }[];
  const mappedIdentifiers = (mappedFields['identifier'] ?? []) as { system?: string; value?: string }[];
  if (storedIdentifiers.length > 0 || mappedIdentifiers.length > 0) {
    const key = (i: { system?: string; value?: string }): string => `${i.system ?? ''}|${i.value ?? ''}`;
    const fresh = new Set(mappedIdentifiers.map(key));
    merged['identifier'] = [...mappedIdentifiers, ...storedIdentifiers.filter((i) => !fresh.has(key(i)))];
  }
  const storedExtensions = (storedFields['extension'] ?? []) as { url: string }[];
  const mappedExtensions = (mappedFields['extension'] ?? []) as { url: string }[];
  if (storedExtensions.length > 0 || mappedExtensions.length > 0) {
    const urls = new Set(mappedExtensions.map((e) => e.url));
    merged['extension'] = [...mappedExtensions, ...storedExtensions.filter((e) => !urls.has(e.url))];
  }
  const clearedElements = new Set<string>();
  for (const path of paths) {
    const extension = /^extension\('(.+)'\)$/.exec(path);
    if (extension) merged['extension'] = ((merged['extension'] ?? []) as { url: string }[]).filter((e) => e.url !== extension[1]);
    else clearedElements.add(path);
  }
  if (Array.isArray(merged['extension']) && merged['extension'].length === 0) clearedElements.add('extension');
  merged['meta'] = mapped.meta;
  return Object.fromEntries(Object.entries(merged).filter(([k]) => !clearedElements.has(k))) as unknown as Resource;
}
