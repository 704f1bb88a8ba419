import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { GET_STRUCTURED_RECORD_PATH, structuredRecordHeaders, structuredRecordParameters, type GpConnectConsumer } from '../../adapters/gp-connect/request';
import { MAX_GP_BUNDLE_BYTES } from '../../adapters/gp-connect/parse';
import { ConfigError } from '../config';

/** Configuration of the pull client, from the environment (see README "GP records"). */
export interface GpConnectConfig {
  readonly baseUrl: string;
  /** The practice whose record we fetch: the bundle must name it as the registered practice. */
  readonly providerOds: string;
  readonly consumer: GpConnectConsumer;
  readonly includeDiaryEntries: boolean;
  readonly timeoutMs: number;
  /** Mutual TLS to the Spine Secure Proxy (PEM file contents). */
  readonly tls?: { cert: Buffer; key: Buffer; ca?: Buffer };
}

const PACKAGE_VERSION = '0.1.0';

export function loadGpConnectConfig(env: NodeJS.ProcessEnv = process.env): GpConnectConfig | undefined {
  const baseUrl = env['GP_CONNECT_BASE_URL']?.replace(/\/+$/, '');
  if (!baseUrl) return undefined;
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) throw new ConfigError('GP_CONNECT_BASE_URL must be an http(s) URL: the provider\'s FHIR base (through the Spine Secure Proxy)');
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new ConfigError(`${name} must be set when GP_CONNECT_BASE_URL is set`);
    return value;
  };
  const asid = (name: string): string => {
    const value = required(name);
    if (!/^\d{1,12}$/.test(value)) throw new ConfigError(`${name} must be an ASID (up to 12 digits)`);
    return value;
  };
  const timeout = Number(env['GP_CONNECT_TIMEOUT_SECONDS'] ?? '30');
  if (!Number.isFinite(timeout) || timeout <= 0) throw new ConfigError('GP_CONNECT_TIMEOUT_SECONDS must be a positive number');
  const cert = env['GP_CONNECT_TLS_CERT'];
  const key = env['GP_CONNECT_TLS_KEY'];
  if (Boolean(cert) !== Boolean(key)) throw new ConfigError('Set both GP_CONNECT_TLS_CERT and GP_CONNECT_TLS_KEY, or neither');
  const ca = env['GP_CONNECT_TLS_CA'];
  return {
    baseUrl,
    providerOds: required('GP_CONNECT_ODS_CODE').toUpperCase(),
    consumer: {
      fromAsid: asid('GP_CONNECT_FROM_ASID'),
      toAsid: asid('GP_CONNECT_TO_ASID'),
      organizationOds: required('GP_CONNECT_CONSUMER_ODS_CODE'),
      organizationName: env['GP_CONNECT_CONSUMER_NAME']?.trim() || 'CareBridge shared care record',
      userId: required('GP_CONNECT_USER_ID'),
      userRoleProfileId: env['GP_CONNECT_USER_ROLE_PROFILE_ID']?.trim() || undefined,
      userFamilyName: env['GP_CONNECT_USER_FAMILY_NAME']?.trim() || undefined,
      userGivenName: env['GP_CONNECT_USER_GIVEN_NAME']?.trim() || undefined,
      issuer: env['GP_CONNECT_ISSUER']?.trim() || env['PUBLIC_BASE_URL']?.trim() || 'https://carebridge.nhs.uk',
      deviceVersion: PACKAGE_VERSION,
    },
    includeDiaryEntries: env['GP_CONNECT_INCLUDE_DIARY_ENTRIES'] === 'true',
    timeoutMs: timeout * 1000,
    ...(cert && key ? { tls: { cert: readFileSync(cert), key: readFileSync(key), ...(ca ? { ca: readFileSync(ca) } : {}) } } : {}),
  };
}

/** A provider's refusal: its HTTP status and the GP Connect error code (PATIENT_NOT_FOUND, NO_RELATIONSHIP…), never the body. */
export class GpConnectError extends Error {
  constructor(
    readonly status: number,
    readonly spineCode: string | undefined,
    readonly traceId: string,
  ) {
    super(`The GP Connect provider answered ${String(status)}${spineCode ? ` ${spineCode}` : ''} (Ssp-TraceID ${traceId})`);
    this.name = 'GpConnectError';
  }
}

function spineCodeOf(body: string): string | undefined {
  try {
    const outcome = JSON.parse(body) as { issue?: { details?: { coding?: { code?: string }[] } }[] };
    return outcome.issue?.[0]?.details?.coding?.[0]?.code;
  } catch {
    return undefined;
  }
}

/** Calls a provider's `$gpc.getstructuredrecord` for one patient and returns the bundle's bytes. */
export class GpConnectClient {
  constructor(
    private readonly config: GpConnectConfig,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async fetchStructuredRecord(nhsNumber: string): Promise<{ bundle: Buffer; traceId: string }> {
    const url = new URL(`${this.config.baseUrl}/${GET_STRUCTURED_RECORD_PATH}`);
    const traceId = randomUUID();
    const headers = structuredRecordHeaders(this.config.consumer, url.toString(), traceId, this.clock());
    const body = Buffer.from(JSON.stringify(structuredRecordParameters(nhsNumber, { includeDiaryEntries: this.config.includeDiaryEntries })));
    const response = await this.post(url, { ...headers, 'Content-Length': String(body.length) }, body);
    if (response.status < 200 || response.status >= 300) throw new GpConnectError(response.status, spineCodeOf(response.body.toString('utf8')), traceId);
    return { bundle: response.body, traceId };
  }

  private post(url: URL, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: Buffer }> {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: 'POST', headers, timeout: this.config.timeoutMs, ...(this.config.tls ?? {}) }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_GP_BUNDLE_BYTES) {
            req.destroy(new Error(`The provider's response is over ${String(MAX_GP_BUNDLE_BYTES)} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`No answer from the GP Connect provider within ${String(this.config.timeoutMs / 1000)} s`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
