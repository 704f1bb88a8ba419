import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local GP Connect provider for tests: it serves recorded structured-record bundles by NHS
 * number at POST /Patient/$gpc.getstructuredrecord, checks what a real provider (and the Spine
 * Secure Proxy) checks of a request, answers with GP Connect's error OperationOutcomes when a
 * check fails, and keeps every request it received so a test can look at it.
 */
export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly jwtHeader: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
  readonly parameters: { resourceType: string; parameter: { name: string; valueIdentifier?: { system: string; value: string }; part?: { name: string; valueBoolean?: boolean }[] }[] };
}

const SPINE_ERRORS = 'https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1';

function spineError(status: number, code: string, text: string): { status: number; body: string } {
  return { status, body: JSON.stringify({ resourceType: 'OperationOutcome', meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1'] }, issue: [{ severity: 'error', code: 'invalid', details: { coding: [{ system: SPINE_ERRORS, code }] }, diagnostics: text }] }) };
}

function decodeJwt(authorization: string | undefined): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  const parts = token?.split('.');
  if (parts?.length !== 3 || parts[2] !== '') return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>,
      claims: JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>,
    };
  } catch {
    return undefined;
  }
}

export class GpConnectProviderStub {
  readonly received: ReceivedRequest[] = [];
  private server?: Server;

  constructor(
    private readonly records: ReadonlyMap<string, Buffer>,
    private readonly expected: { fromAsid: string; toAsid: string },
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = this.answer(req.url ?? '', req.method ?? '', req.headers, Buffer.concat(chunks).toString('utf8'));
        res.writeHead(answer.status, { 'content-type': 'application/fhir+json;charset=utf-8' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${String((this.server.address() as AddressInfo).port)}/B82617/STU3/1/gpconnect/structured/fhir`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private answer(path: string, method: string, headers: IncomingHttpHeaders, body: string): { status: number; body: string } {
    if (method !== 'POST' || !path.endsWith('/Patient/$gpc.getstructuredrecord')) return spineError(404, 'REFERENCE_NOT_FOUND', 'Unknown operation');
    if (headers['ssp-interactionid'] !== 'urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1') return spineError(400, 'BAD_REQUEST', 'Ssp-InteractionID');
    if (headers['ssp-from'] !== this.expected.fromAsid || headers['ssp-to'] !== this.expected.toAsid) return spineError(403, 'ACCESS_DENIED', 'Ssp-From/Ssp-To');
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(String(headers['ssp-traceid']))) return spineError(400, 'BAD_REQUEST', 'Ssp-TraceID');
    if (!String(headers['accept']).startsWith('application/fhir+json')) return spineError(400, 'BAD_REQUEST', 'Accept');
    const jwt = decodeJwt(headers['authorization']);
    if (!jwt || jwt.header['alg'] !== 'none') return spineError(400, 'BAD_REQUEST', 'Authorization');
    for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'reason_for_request', 'requested_scope', 'requesting_device', 'requesting_organization', 'requesting_practitioner']) {
      if (jwt.claims[claim] === undefined) return spineError(400, 'BAD_REQUEST', `JWT claim ${claim}`);
    }
    let parameters: ReceivedRequest['parameters'];
    try {
      parameters = JSON.parse(body) as ReceivedRequest['parameters'];
    } catch {
      return spineError(422, 'INVALID_RESOURCE', 'Parameters');
    }
    this.received.push({ path, headers, jwtHeader: jwt.header, claims: jwt.claims, parameters });
    const nhs = parameters.parameter.find((p) => p.name === 'patientNHSNumber')?.valueIdentifier?.value;
    if (!nhs) return spineError(422, 'INVALID_PARAMETER', 'patientNHSNumber');
    const allergies = parameters.parameter.find((p) => p.name === 'includeAllergies');
    if (allergies && allergies.part?.find((p) => p.name === 'includeResolvedAllergies')?.valueBoolean === undefined) return spineError(422, 'INVALID_PARAMETER', 'includeResolvedAllergies');
    const record = this.records.get(nhs);
    if (!record) return spineError(404, 'PATIENT_NOT_FOUND', 'No such patient');
    return { status: 200, body: record.toString('utf8') };
  }
}
