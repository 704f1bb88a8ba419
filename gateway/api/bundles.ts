import type { Bundle, BundleEntry, BundleLink, OperationOutcome, Resource } from '@medplum/fhirtypes';

/** What a reader is told when the access rules withheld something: that it happened, never what. */
export function withheldNotice(): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'information',
        code: 'suppressed',
        details: { text: 'Some information has been withheld under the access rules.' },
      },
    ],
  };
}

export function fullUrl(baseUrl: string, resource: Resource): string {
  return `${baseUrl}/${resource.resourceType}/${resource.id ?? ''}`;
}

export function searchsetBundle(options: {
  baseUrl: string;
  matches: readonly Resource[];
  included?: readonly Resource[];
  total?: number;
  links: BundleLink[];
  withheld: number;
}): Bundle {
  const entry: BundleEntry[] = [
    ...options.matches.map((resource) => ({ fullUrl: fullUrl(options.baseUrl, resource), resource, search: { mode: 'match' as const } })),
    ...(options.included ?? []).map((resource) => ({ fullUrl: fullUrl(options.baseUrl, resource), resource, search: { mode: 'include' as const } })),
  ];
  if (options.withheld > 0) entry.push({ resource: withheldNotice(), search: { mode: 'outcome' } });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(options.total !== undefined ? { total: options.total } : {}),
    link: options.links,
    // FHIR JSON has no empty arrays.
    ...(entry.length > 0 ? { entry } : {}),
  };
}

export function historyBundle(options: { baseUrl: string; versions: readonly Resource[]; total: number; links: BundleLink[]; withheld: number }): Bundle {
  const entry: BundleEntry[] = options.versions.map((resource) => ({
    fullUrl: fullUrl(options.baseUrl, resource),
    resource,
    request: { method: resource.meta?.versionId === '1' ? 'POST' : 'PUT', url: resource.meta?.versionId === '1' ? resource.resourceType : `${resource.resourceType}/${resource.id ?? ''}` },
    response: { status: resource.meta?.versionId === '1' ? '201 Created' : '200 OK', etag: `W/"${resource.meta?.versionId ?? ''}"`, lastModified: resource.meta?.lastUpdated },
  }));
  if (options.withheld > 0) entry.push({ resource: withheldNotice() });
  return { resourceType: 'Bundle', type: 'history', total: options.total, link: options.links, ...(entry.length > 0 ? { entry } : {}) };
}

/** A link back to the same request with some parameters replaced. */
export function linkWith(baseUrl: string, path: string, query: URLSearchParams, changes: Record<string, string | undefined>): string {
  const next = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) next.delete(k);
    else next.set(k, v);
  }
  const text = next.toString();
  return `${baseUrl}/${path}${text ? `?${text}` : ''}`;
}
