import type { Bundle, BundleEntry, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

/**
 * What POST /intake/fhir accepts, before any resource is looked at: a Bundle of type
 * transaction, collection or document (issue 6). A batch is refused: its entries succeed or fail
 * one by one, and this intake is all or nothing. A transaction's entries may POST or PUT (create
 * or update, conditional forms included); GET, DELETE and PATCH are refused (the intake adds and
 * updates what a source holds; it never reads or deletes). A document starts with its
 * Composition (FHIR R4 bundle rules bdl-9, bdl-10, bdl-11 are checked by the R4 validation).
 */

export const AcceptedBundleType = { TRANSACTION: 'transaction', COLLECTION: 'collection', DOCUMENT: 'document' } as const;
export type AcceptedBundleType = (typeof AcceptedBundleType)[keyof typeof AcceptedBundleType];

const ACCEPTED = new Set<string>(Object.values(AcceptedBundleType));

export function issue(code: OperationOutcomeIssue['code'], path: string, text: string, severity: OperationOutcomeIssue['severity'] = 'error'): OperationOutcomeIssue {
  return { severity, code, details: { text }, expression: [path] };
}

export type ShapeResult = { ok: true; bundle: Bundle & { type: AcceptedBundleType }; entries: (BundleEntry & { resource: Resource })[] } | { ok: false; issues: OperationOutcomeIssue[] };

/** Checks the envelope: JSON object, a Bundle, an accepted type, entries with resources, unique fullUrls. */
export function checkBundleShape(body: unknown): ShapeResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, issues: [issue('structure', 'Bundle', 'The body must be one FHIR Bundle (a JSON object)')] };
  const bundle = body as Bundle;
  if ((bundle as { resourceType?: unknown }).resourceType !== 'Bundle') return { ok: false, issues: [issue('structure', 'resourceType', `The body must be a Bundle, not ${JSON.stringify((bundle as { resourceType?: unknown }).resourceType ?? null)}`)] };
  const type: unknown = (bundle as { type?: unknown }).type;
  if (typeof type !== 'string' || !ACCEPTED.has(type)) {
    const why = type === 'batch' ? ': a batch applies entries one by one, and this intake is all or nothing; send a transaction' : '';
    return { ok: false, issues: [issue('not-supported', 'Bundle.type', `Bundle type ${JSON.stringify(type ?? null)} is not accepted (transaction, collection or document)${why}`)] };
  }
  const issues: OperationOutcomeIssue[] = [];
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries) || entries.length === 0) issues.push(issue('required', 'Bundle.entry', 'The Bundle has no entries'));
  const fullUrls = new Map<string, number>();
  entries.forEach((entry, i) => {
    const at = `Bundle.entry[${String(i)}]`;
    const resource: unknown = entry.resource;
    if (typeof resource !== 'object' || resource === null || typeof (resource as { resourceType?: unknown }).resourceType !== 'string') {
      issues.push(issue('required', `${at}.resource`, 'Every entry must hold a resource'));
      return;
    }
    if (entry.fullUrl !== undefined) {
      const first = fullUrls.get(entry.fullUrl);
      if (first !== undefined) issues.push(issue('duplicate', `${at}.fullUrl`, `fullUrl ${entry.fullUrl} is already used by Bundle.entry[${String(first)}]`));
      else fullUrls.set(entry.fullUrl, i);
    }
    if (bundle.type === AcceptedBundleType.TRANSACTION) {
      const method = entry.request?.method;
      if (!method) issues.push(issue('required', `${at}.request.method`, 'A transaction entry needs a request (POST or PUT)'));
      else if (method !== 'POST' && method !== 'PUT') issues.push(issue('not-supported', `${at}.request.method`, `${method} is not accepted: the intake creates and updates (POST, PUT), it never reads or deletes`));
      else if (method === 'PUT' && !entry.request?.url) issues.push(issue('required', `${at}.request.url`, 'A PUT needs a url (Type/id or a conditional Type?identifier=system|value)'));
    }
  });
  if (bundle.type === AcceptedBundleType.DOCUMENT && entries[0]?.resource?.resourceType !== 'Composition') {
    issues.push(issue('structure', 'Bundle.entry[0].resource', 'A document Bundle starts with its Composition'));
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, bundle: bundle as Bundle & { type: AcceptedBundleType }, entries: entries as (BundleEntry & { resource: Resource })[] };
}
