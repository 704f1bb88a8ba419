import { badRequest, notFound, OperationOutcomeError, forbidden } from '@medplum/core';
import type { BundleLink, Patient } from '@medplum/fhirtypes';
import { Interaction, type ReadRequest } from '../access/hooks';
import type { SecureReader } from '../access/secure-reader';
import { isResourceType } from '../fhir/definitions';
import { parseFhirDateRange } from '../fhir/dates';
import { InvalidCursorError, type ReadOutcome } from '../store/resource-reader';
import type { SearchQuery } from '../store/search-query';
import { notFoundOutcome } from './errors';
import { historyBundle, linkWith, searchsetBundle } from './bundles';
import type { FhirRequest, FhirResponse } from './fhir-request';
import { capabilityStatement } from './capability-statement';
import { DEFAULT_COUNT, ID_PATTERN, MAX_COUNT, parseSearch } from './search-parser';

/**
 * The read-only FHIR interactions. Each takes a FhirRequest and the SecureReader and returns a
 * result or throws an OperationOutcomeError; gateway/api/fhir-router.ts turns that into HTTP.
 */

function requireType(req: FhirRequest): string {
  const type = req.resourceType ?? '';
  if (!isResourceType(type)) throw notFoundOutcome(`Unknown resource type '${type.slice(0, 64)}'`);
  return type;
}

function requireId(req: FhirRequest): string {
  const id = req.id ?? '';
  if (!ID_PATTERN.test(id)) throw new OperationOutcomeError(badRequest(`'${id.slice(0, 80)}' is not a valid resource id: expected 1-64 of A-Z a-z 0-9 - .`, 'id'));
  return id;
}

function readRequest(req: FhirRequest, interaction: Interaction, resourceType: string, about: { patientId?: string; resourceId?: string; query?: SearchQuery } = {}): ReadRequest {
  return { requestId: req.requestId, requester: req.requester, interaction, resourceType, ...about };
}

/** A read of one resource: about that resource, and about the patient when it is one. */
const aboutResource = (type: string, id: string): { patientId?: string; resourceId: string } => (type === 'Patient' ? { patientId: id, resourceId: id } : { resourceId: id });

function countParam(req: FhirRequest, fallback = DEFAULT_COUNT): number {
  const text = req.query.get('_count');
  if (text === null) return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) > MAX_COUNT) throw new OperationOutcomeError(badRequest(`_count must be a whole number from 0 to ${MAX_COUNT}`, '_count'));
  return Number(text);
}

function sinceParam(req: FhirRequest): Date | undefined {
  const text = req.query.get('_since');
  if (text === null) return undefined;
  const range = parseFhirDateRange(text);
  if (!range) throw new OperationOutcomeError(badRequest(`'${text.slice(0, 40)}' is not a valid instant for _since`, '_since'));
  return range.low;
}

function single(outcome: ReadOutcome): FhirResponse {
  if (!outcome.found) {
    if (outcome.withheld) throw new OperationOutcomeError(forbidden);
    throw new OperationOutcomeError(notFound);
  }
  const meta = outcome.resource.meta;
  return {
    status: 200,
    body: outcome.resource,
    headers: {
      ...(meta?.versionId ? { ETag: `W/"${meta.versionId}"` } : {}),
      ...(meta?.lastUpdated ? { 'Last-Modified': new Date(meta.lastUpdated).toUTCString() } : {}),
    },
  };
}

export function metadata(req: FhirRequest): FhirResponse {
  return { status: 200, body: capabilityStatement(req.baseUrl) };
}

export async function read(req: FhirRequest, reader: SecureReader): Promise<FhirResponse> {
  const type = requireType(req);
  const id = requireId(req);
  return single(await reader.read(readRequest(req, Interaction.READ, type, aboutResource(type, id)), type, id));
}

export async function vread(req: FhirRequest, reader: SecureReader): Promise<FhirResponse> {
  const type = requireType(req);
  const id = requireId(req);
  const versionId = req.versionId ?? '';
  if (!/^[1-9]\d{0,17}$/.test(versionId)) throw new OperationOutcomeError(badRequest(`'${versionId.slice(0, 40)}' is not a valid version id`, 'vid'));
  return single(await reader.vread(readRequest(req, Interaction.VREAD, type, aboutResource(type, id)), type, id, versionId));
}

export async function history(req: FhirRequest, reader: SecureReader): Promise<FhirResponse> {
  const type = requireType(req);
  const id = requireId(req);
  const count = countParam(req);
  const before = req.query.get('_before_version') ?? undefined;
  if (before !== undefined && !/^[1-9]\d{0,17}$/.test(before)) throw new OperationOutcomeError(badRequest('_before_version must be a version id', '_before_version'));
  const page = await reader.history(readRequest(req, Interaction.HISTORY, type, aboutResource(type, id)), type, id, { count, before, since: sinceParam(req) });
  if (!page) throw new OperationOutcomeError(notFound);
  const path = `${type}/${id}/_history`;
  const links: BundleLink[] = [{ relation: 'self', url: linkWith(req.baseUrl, path, req.query, {}) }];
  if (page.nextBefore) links.push({ relation: 'next', url: linkWith(req.baseUrl, path, req.query, { _before_version: page.nextBefore }) });
  return { status: 200, body: historyBundle({ baseUrl: req.baseUrl, versions: page.resources, total: page.total, links, withheld: page.withheld }) };
}

export async function search(req: FhirRequest, reader: SecureReader): Promise<FhirResponse> {
  const type = requireType(req);
  const query = parseSearch(type, req.query);
  let result;
  try {
    result = await reader.search(readRequest(req, Interaction.SEARCH, type, { query }), query, req.query.toString());
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new OperationOutcomeError(badRequest(err.message, '_cursor'));
    throw err;
  }
  const links: BundleLink[] = [{ relation: 'self', url: linkWith(req.baseUrl, type, req.query, {}) }];
  if (result.next) links.push({ relation: 'next', url: linkWith(req.baseUrl, type, req.query, { _cursor: result.next }) });
  if (result.previous) links.push({ relation: 'previous', url: linkWith(req.baseUrl, type, req.query, { _cursor: result.previous }) });
  return { status: 200, body: searchsetBundle({ baseUrl: req.baseUrl, matches: result.matches, included: result.included, total: result.total, links, withheld: result.withheld }) };
}

const EVERYTHING_PARAMS = new Set(['_count', '_since', '_type', '_cursor']);

/** Patient/[id]/$everything: the patient's compartment, paged, plus what it refers to. */
export async function everything(req: FhirRequest, reader: SecureReader, linkedPatientIds: (id: string) => Promise<string[]>): Promise<FhirResponse> {
  const id = requireId(req);
  for (const key of req.query.keys()) {
    if (!EVERYTHING_PARAMS.has(key)) throw new OperationOutcomeError(badRequest(`Unknown parameter '${key}' for $everything`, key));
  }
  const typeText = req.query.get('_type');
  const types = typeText?.split(',');
  for (const t of types ?? []) if (!isResourceType(t)) throw new OperationOutcomeError(badRequest(`Unknown resource type '${t.slice(0, 40)}' in _type`, '_type'));
  const request = readRequest(req, Interaction.EVERYTHING, 'Patient', { patientId: id, resourceId: id });
  const patient = await reader.read(request, 'Patient', id);
  if (!patient.found) return single(patient);
  const patientIds = await linkedPatientIds((patient.resource as Patient).id as string);
  let page;
  try {
    page = await reader.everything(request, patientIds, { count: countParam(req, MAX_COUNT), after: req.query.get('_cursor') ?? undefined, types, since: sinceParam(req) });
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new OperationOutcomeError(badRequest(err.message, '_cursor'));
    throw err;
  }
  const path = `Patient/${id}/$everything`;
  const links: BundleLink[] = [{ relation: 'self', url: linkWith(req.baseUrl, path, req.query, {}) }];
  if (page.next) links.push({ relation: 'next', url: linkWith(req.baseUrl, path, req.query, { _cursor: page.next }) });
  return { status: 200, body: searchsetBundle({ baseUrl: req.baseUrl, matches: page.resources, links, withheld: page.withheld }) };
}
