import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import type { Express } from 'express';
import request, { type Response } from 'supertest';
import { createApp } from '../../gateway/app';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { createLogger } from '../../gateway/logger';
import { Metrics } from '../../gateway/metrics';
import { Store } from '../../gateway/store/store';
import { testAuthority, type TestAuthority } from '../support/auth';

/**
 * Shared set-up for the HTTP tests of the FHIR API: an in-memory PGlite store, the Express app over
 * it, and helpers that check every response for leaked internals. All people here are invented;
 * NHS numbers come from the 999 test range.
 */

export const PUBLIC_BASE = 'https://carebridge.test';
export const BASE = `${PUBLIC_BASE}/fhir`;
export const NHS_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface Harness {
  readonly store: Store;
  readonly app: Express;
  /** The test identity provider the app trusts, to mint other tokens. */
  readonly authority: TestAuthority;
  /** `Bearer <token>` of a GP at the demo practice: the reader of the API tests (access hooks permit all). */
  readonly authorization: string;
  /** GET a path (e.g. '/fhir/Patient?name=x') as that reader, asserting the body leaks no internals. */
  get(path: string): Promise<Response>;
  close(): Promise<void>;
}

/** Opens an in-memory store, writes the given batches (each at its own instant) and builds the app. */
export async function startHarness(batches: { resources: Resource[]; now?: Date }[] = []): Promise<Harness> {
  loadFhirDefinitions();
  const store = await Store.open({});
  await store.migrate();
  for (const batch of batches) await store.upsert(batch.resources, batch.now ? { now: batch.now } : {});
  const authority = await testAuthority();
  const authorization = `Bearer ${await authority.person({ user: 'api-test-reader', role: 'gp' })}`;
  const app = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), publicBaseUrl: PUBLIC_BASE, auth: authority.authenticator });
  return {
    store,
    app,
    authority,
    authorization,
    async get(path: string): Promise<Response> {
      const res = await request(app).get(path).set('Authorization', authorization);
      expectNoLeak(res);
      return res;
    },
    close: () => store.close(),
  };
}

/** No stack trace, SQL or index table name may ever reach a client. */
export function expectNoLeak(res: Response): void {
  const text = res.text;
  expect(text).not.toMatch(/\n\s*at \S/);
  expect(text).not.toMatch(/\bat \S+ \(.*:\d+:\d+\)/);
  expect(text).not.toContain('SELECT');
  expect(text).not.toContain('sp_token');
}

export function body<T = Bundle>(res: Response): T {
  return JSON.parse(res.text) as T;
}

/** Ids of the entries with search.mode 'match', in bundle order. */
export function matchIds(res: Response): string[] {
  return (body(res).entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id as string);
}

/** 'Type/id' of the entries with search.mode 'include', sorted. */
export function includeRefs(res: Response): string[] {
  return (body(res).entry ?? [])
    .filter((e) => e.search?.mode === 'include')
    .map((e) => `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}`)
    .sort();
}

/** A link of the bundle as a path the test agent can GET, or undefined when the bundle has none. */
export function linkPath(res: Response, relation: string): string | undefined {
  const url = body(res).link?.find((l) => l.relation === relation)?.url;
  if (url === undefined) return undefined;
  expect(url.startsWith(`${BASE}/`)).toBe(true);
  return url.slice(PUBLIC_BASE.length);
}

/** Asserts an OperationOutcome response with one error issue of the given code, and returns the issue. */
export function expectOutcome(res: Response, status: number, code: string): NonNullable<OperationOutcome['issue']>[number] {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe(FHIR_JSON);
  const outcome = body<OperationOutcome>(res);
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue).toHaveLength(1);
  const issue = outcome.issue[0];
  expect(issue?.severity).toBe('error');
  expect(issue?.code).toBe(code);
  return issue as NonNullable<OperationOutcome['issue']>[number];
}

export function nhsNumber(n: number): string {
  return demoNhsNumber(n);
}

/** A synthetic UK Core-ish Patient. */
export function patient(fields: { id: string; family: string; given?: string; birthDate?: string; gender?: Patient['gender']; nhs?: string; extra?: Partial<Patient> }): Patient {
  return {
    resourceType: 'Patient',
    id: fields.id,
    ...(fields.nhs ? { identifier: [{ system: NHS_SYSTEM, value: fields.nhs }] } : {}),
    name: [{ use: 'official', family: fields.family, ...(fields.given ? { given: [fields.given] } : {}) }],
    ...(fields.gender ? { gender: fields.gender } : {}),
    ...(fields.birthDate ? { birthDate: fields.birthDate } : {}),
    ...fields.extra,
  };
}
