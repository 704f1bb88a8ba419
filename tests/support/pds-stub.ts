import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Patient } from '@medplum/fhirtypes';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';

/**
 * A local stand-in for the PDS FHIR API's "get patient details" (GET {base}/Patient/{nhsNumber}),
 * on 127.0.0.1 and a free port, serving synthetic Patients. It behaves as PDS documents: 400 without
 * a UUID X-Request-ID or for an invalid number, 401 without the expected bearer token, 404
 * RESOURCE_NOT_FOUND / INVALIDATED_RESOURCE, the superseding record (another id) for a superseded
 * number, and X-Request-ID / X-Correlation-ID mirrored back. Scripted failures (503, 429…) come
 * first, one per request, for a number. Every request is recorded for tests to assert.
 */
export const PDS_STUB_PATH = '/personal-demographics/FHIR/R4';

export interface PdsStubRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export interface PdsStubOptions {
  readonly patients?: readonly Patient[];
  /** Superseded number → the number that superseded it (whose Patient is answered). */
  readonly superseded?: Readonly<Record<string, string>>;
  readonly invalidated?: readonly string[];
  /** Number → statuses answered before the real answer, one per request (e.g. [503] = 503 then 200). */
  readonly failures?: Readonly<Record<string, readonly number[]>>;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  readonly requireToken?: string;
  /** Number → milliseconds to wait before answering. */
  readonly delays?: Readonly<Record<string, number>>;
}

export interface PdsStub {
  /** The FHIR base URL to configure as PDS_BASE_URL. */
  readonly baseUrl: string;
  readonly requests: PdsStubRequest[];
  /** Requests for one number. */
  requestsFor(nhsNumber: string): PdsStubRequest[];
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A synthetic PDS record in UK Core shape. */
export function pdsPatient(nhsNumber: string, fields: { family: string; given?: string[]; birthDate: string; restricted?: boolean; previousFamily?: string }): Patient {
  return {
    resourceType: 'Patient',
    id: nhsNumber,
    meta: { versionId: '2', security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: fields.restricted ? 'R' : 'U', display: fields.restricted ? 'restricted' : 'unrestricted' }] },
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }],
    name: [
      { use: 'usual', family: fields.family, given: fields.given ?? ['Alex'], prefix: ['Mx'] },
      ...(fields.previousFamily ? [{ use: 'old' as const, family: fields.previousFamily, given: fields.given ?? ['Alex'] }] : []),
    ],
    gender: 'unknown',
    birthDate: fields.birthDate,
    // PDS removes location fields from restricted records.
    ...(fields.restricted ? {} : { address: [{ use: 'home' as const, line: ['1 Synthetic Street'], postalCode: 'ZZ99 3AA' }] }),
  };
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

function spineError(status: number, code: string, display: string, headers?: Record<string, string>): Reply {
  return {
    status,
    headers,
    body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', details: { coding: [{ system: 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode', version: '1', code, display }] } }] },
  };
}

export async function startPdsStub(options: PdsStubOptions = {}): Promise<PdsStub> {
  const patients = new Map((options.patients ?? []).map((p) => [p.id as string, p]));
  const failures = new Map(Object.entries(options.failures ?? {}).map(([k, v]) => [k, [...v]]));
  const invalidated = new Set(options.invalidated ?? []);
  const requests: PdsStubRequest[] = [];
  const route = new RegExp(`^${PDS_STUB_PATH}/Patient/([^/?]+)$`);

  /** Checks PDS makes of every request, then the answer for the number. */
  const reply = (method: string, path: string, headers: IncomingHttpHeaders): Reply => {
    const match = route.exec(path);
    if (method !== 'GET' || !match) return spineError(400, 'UNSUPPORTED_SERVICE', 'Unsupported service');
    const requestId = headers['x-request-id'];
    if (typeof requestId !== 'string' || !UUID.test(requestId)) return spineError(400, 'MISSING_VALUE', 'Required value is missing');
    if (options.requireToken !== undefined && headers.authorization !== `Bearer ${options.requireToken}`) return spineError(401, 'ACCESS_DENIED', 'Access denied');
    const nhsNumber = decodeURIComponent(match[1] as string);
    if (!isValidNhsNumber(nhsNumber)) return spineError(400, 'INVALID_RESOURCE_ID', 'Resource Id is invalid');
    const failure = failures.get(nhsNumber)?.shift();
    if (failure === 429) return spineError(429, 'TOO_MANY_REQUESTS', 'Try again later', { 'Retry-After': '0' });
    if (failure !== undefined) return spineError(failure, 'SERVICE_UNAVAILABLE', 'Try again later');
    if (invalidated.has(nhsNumber)) return spineError(404, 'INVALIDATED_RESOURCE', 'Resource that has been marked as invalid was requested');
    const patient = patients.get(options.superseded?.[nhsNumber] ?? nhsNumber);
    if (!patient) return spineError(404, 'RESOURCE_NOT_FOUND', 'Resource not found');
    return { status: 200, body: patient, headers: { ETag: `W/"${patient.meta?.versionId ?? '1'}"` } };
  };

  const server = createServer((req, res) => {
    const path = req.url ?? '';
    requests.push({ method: req.method ?? '', path, headers: req.headers });
    const answer = reply(req.method ?? '', path, req.headers);
    const send = (): void => {
      const mirrored: Record<string, string> = {};
      for (const name of ['x-request-id', 'x-correlation-id']) {
        const value = req.headers[name];
        if (typeof value === 'string') mirrored[name === 'x-request-id' ? 'X-Request-ID' : 'X-Correlation-ID'] = value;
      }
      res.writeHead(answer.status, { 'Content-Type': 'application/fhir+json', ...mirrored, ...answer.headers });
      res.end(JSON.stringify(answer.body));
    };
    const delay = route.exec(path)?.[1];
    const wait = delay === undefined ? undefined : options.delays?.[decodeURIComponent(delay)];
    if (wait === undefined) send();
    else setTimeout(send, wait).unref();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${PDS_STUB_PATH}`,
    requests,
    requestsFor: (nhsNumber) => requests.filter((r) => r.path === `${PDS_STUB_PATH}/Patient/${nhsNumber}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
