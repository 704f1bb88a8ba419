import { randomUUID } from 'node:crypto';
import type { HumanName, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, normaliseNhsNumber } from '../../mappings/identity/nhs-number';
import { ConfigError } from '../config';
import { nhsIdentifier } from './source-records';

/**
 * A client for the Personal Demographics Service FHIR API (PDS FHIR, UK Core), "get patient details"
 * only: `GET {base}/Patient/{nhsNumber}`. Application-restricted access authenticates with a bearer
 * token (obtained elsewhere by exchanging a signed JWT client assertion); this client only sends it.
 *
 * Every request carries a fresh X-Request-ID (a UUID; PDS rejects requests without one) and one
 * X-Correlation-ID per lookup, shared by its retries so PDS support can follow one lookup end to end.
 * 408, 429 and 5xx, timeouts and network failures are retried with exponential backoff, a bounded
 * number of times; PDS's Retry-After is honoured up to the backoff ceiling.
 *
 * Nothing here logs, and no error message carries an NHS number or anything PDS returned.
 */

/** Bearer token for PDS: a fixed string, or a function asked before every request (so it can refresh). */
export type PdsTokenProvider = () => string | undefined | Promise<string | undefined>;

export interface PdsClientOptions {
  /** e.g. https://int.api.service.nhs.uk/personal-demographics/FHIR/R4 */
  readonly baseUrl: string;
  readonly accessToken?: string | PdsTokenProvider;
  /** Per attempt, headers and body together. Default 10 s. */
  readonly timeoutMs?: number;
  /** Attempts per lookup, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Backoff before the second attempt; doubles each time. Default 500 ms. */
  readonly backoffMs?: number;
  /** Ceiling of any one wait, Retry-After included. Default 10 s. */
  readonly maxBackoffMs?: number;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const PdsNotFoundReason = {
  /** RESOURCE_NOT_FOUND: PDS holds no patient with this number. */
  UNKNOWN: 'unknown',
  /** INVALIDATED_RESOURCE: the record existed but was invalidated, and not superseded by another number. */
  INVALIDATED: 'invalidated',
} as const;
export type PdsNotFoundReason = (typeof PdsNotFoundReason)[keyof typeof PdsNotFoundReason];

export type PdsLookup = { readonly found: true; readonly patient: Patient } | { readonly found: false; readonly reason: PdsNotFoundReason };

/** What tracing needs of a PDS client; tests hand in fakes. */
export interface PdsLookupClient {
  getPatient(nhsNumber: string): Promise<PdsLookup>;
}

export const PdsErrorCode = {
  TIMEOUT: 'timeout',
  NETWORK: 'network',
  HTTP: 'http',
  UNAUTHORISED: 'unauthorised',
  TOKEN: 'token',
  BAD_RESPONSE: 'bad-response',
  BAD_REQUEST: 'bad-request',
} as const;
export type PdsErrorCode = (typeof PdsErrorCode)[keyof typeof PdsErrorCode];

/** A failed lookup. `message` is short and safe to log or store: a status and a PDS error code, never patient data. */
export class PdsError extends Error {
  constructor(
    readonly code: PdsErrorCode,
    message: string,
    /** Worth trying again later (the lookup itself already retried). */
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PdsError';
  }

  /** PDS refused CareBridge itself (401/403, or no token): every further lookup will fail the same way. */
  get refusesClient(): boolean {
    return this.code === PdsErrorCode.UNAUTHORISED || this.code === PdsErrorCode.TOKEN;
  }
}

/** A failure this lookup retries itself. */
class RetryablePdsError extends PdsError {
  constructor(
    code: PdsErrorCode,
    message: string,
    status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(code, message, true, status);
  }
}

const RETRYABLE_STATUS = (status: number): boolean => status === 408 || status === 429 || status >= 500;

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The Spine error code of an OperationOutcome (e.g. RESOURCE_NOT_FOUND), never its diagnostics. */
function spineErrorCode(body: unknown): string | undefined {
  const outcome = body as OperationOutcome | undefined;
  if (outcome?.resourceType !== 'OperationOutcome') return undefined;
  const code = outcome.issue[0]?.details?.coding?.find((c) => c.code)?.code;
  return code && /^[A-Z_]{1,64}$/.test(code) ? code : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Retry-After in seconds (PDS sends seconds); an HTTP-date is not worth parsing for a bounded wait. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

export class PdsClient implements PdsLookupClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: PdsClientOptions) {
    if (!/^https?:\/\/[^/]+/.test(options.baseUrl)) throw new ConfigError('The PDS base URL must be an http(s) URL');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 3));
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.fetchFn = options.fetch ?? fetch;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** Get patient details. A superseded number answers with the superseding record (a different id): the caller compares. */
  async getPatient(nhsNumber: string): Promise<PdsLookup> {
    const digits = normaliseNhsNumber(nhsNumber);
    if (!digits) throw new PdsError(PdsErrorCode.BAD_REQUEST, 'not a ten-digit NHS number', false);
    const url = `${this.baseUrl}/Patient/${digits}`;
    const correlationId = randomUUID();
    let last = new RetryablePdsError(PdsErrorCode.NETWORK, 'no attempt made');
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const outcome = await this.attempt(url, correlationId);
      if (!(outcome instanceof PdsError)) return outcome.lookup;
      if (!(outcome instanceof RetryablePdsError)) throw outcome;
      last = outcome;
      if (attempt < this.maxAttempts) await this.sleep(this.backoff(attempt, outcome.retryAfterMs));
    }
    throw new PdsError(last.code, `${last.message} (after ${this.maxAttempts} attempts)`, true, last.status);
  }

  private backoff(attempt: number, retryAfter: number | undefined): number {
    const exponential = this.backoffMs * 2 ** (attempt - 1);
    // Equal jitter: clients that failed together do not all come back together.
    const jittered = exponential / 2 + Math.random() * (exponential / 2);
    return Math.min(this.maxBackoffMs, Math.max(jittered, retryAfter ?? 0));
  }

  private async token(): Promise<string | undefined> {
    const { accessToken } = this.options;
    if (accessToken === undefined || typeof accessToken === 'string') return accessToken;
    try {
      return await accessToken();
    } catch {
      throw new PdsError(PdsErrorCode.TOKEN, 'the access token provider failed', false);
    }
  }

  private async attempt(url: string, correlationId: string): Promise<{ lookup: PdsLookup } | RetryablePdsError | PdsError> {
    const headers: Record<string, string> = {
      Accept: 'application/fhir+json',
      'X-Request-ID': randomUUID(),
      'X-Correlation-ID': correlationId,
    };
    const token = await this.token();
    if (token) headers['Authorization'] = `Bearer ${token}`;
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await this.fetchFn(url, { method: 'GET', headers, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      text = await response.text();
    } catch (err) {
      // By name, not instanceof: the DOMException may come from another realm.
      const name = (err as { name?: unknown } | null)?.name;
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      return timedOut ? new RetryablePdsError(PdsErrorCode.TIMEOUT, `no answer within ${this.timeoutMs} ms`) : new RetryablePdsError(PdsErrorCode.NETWORK, 'network error');
    }
    const body = parseJson(text);
    if (status === 200) {
      const patient = body as Patient | undefined;
      if (patient?.resourceType !== 'Patient') return new PdsError(PdsErrorCode.BAD_RESPONSE, 'HTTP 200 without a Patient', true, status);
      return { lookup: { found: true, patient } };
    }
    const spineCode = spineErrorCode(body);
    const described = `HTTP ${status}${spineCode ? ` ${spineCode}` : ''}`;
    if (status === 404) return { lookup: { found: false, reason: spineCode === 'INVALIDATED_RESOURCE' ? PdsNotFoundReason.INVALIDATED : PdsNotFoundReason.UNKNOWN } };
    if (status === 401 || status === 403) return new PdsError(PdsErrorCode.UNAUTHORISED, described, false, status);
    if (RETRYABLE_STATUS(status)) return new RetryablePdsError(PdsErrorCode.HTTP, described, status, retryAfterMs(retryAfter));
    return new PdsError(PdsErrorCode.HTTP, described, false, status);
  }
}

// ── Configuration ──────────────────────────────────────────────────────────────────────────────

export interface PdsConfig {
  readonly baseUrl: string;
  readonly accessToken?: string;
  /** Background trace period; 0 turns the background trace off. */
  readonly traceIntervalMs: number;
}

const DEFAULT_TRACE_INTERVAL_SECONDS = 600;

/** PDS_BASE_URL, PDS_ACCESS_TOKEN, PDS_TRACE_INTERVAL_SECONDS. Undefined when PDS_BASE_URL is unset: no PDS configured. */
export function loadPdsConfig(env: NodeJS.ProcessEnv = process.env): PdsConfig | undefined {
  const baseUrl = env['PDS_BASE_URL']?.trim();
  if (!baseUrl) return undefined;
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) throw new ConfigError('PDS_BASE_URL must be an http(s) URL');
  const intervalText = env['PDS_TRACE_INTERVAL_SECONDS']?.trim();
  const interval = intervalText ? Number(intervalText) : DEFAULT_TRACE_INTERVAL_SECONDS;
  if (!Number.isInteger(interval) || interval < 0) throw new ConfigError(`PDS_TRACE_INTERVAL_SECONDS must be a whole number of seconds (0 turns the background trace off), not '${intervalText ?? ''}'`);
  return { baseUrl: baseUrl.replace(/\/+$/, ''), accessToken: env['PDS_ACCESS_TOKEN'] || undefined, traceIntervalMs: interval * 1000 };
}

// ── Comparison ─────────────────────────────────────────────────────────────────────────────────

export interface PdsComparison {
  readonly outcome: 'verified' | 'mismatch';
  /** Which fields agreed or not; never their values (it is stored and may be logged). */
  readonly detail: string;
}

/** PDS meta.security: R restricted, V very restricted (a "sensitive", S-flagged record). */
const RESTRICTED_CODES = new Set(['R', 'V']);
/** Names that are not the person's current name (FHIR R4 name-use). */
const NOT_CURRENT_NAME_USES = new Set<HumanName['use']>(['old', 'maiden', 'nickname', 'anonymous']);

/** Case- and accent-insensitive form of a name; typographic apostrophes and runs of spaces count as one. */
function normaliseName(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').replace(/[\u2018\u2019\u02bc`]/g, "'").replace(/\s+/g, ' ').trim().toLocaleLowerCase('en-GB');
}

function families(names: readonly HumanName[] | undefined, currentOnly: boolean): Set<string> {
  return new Set((names ?? []).filter((n) => !currentOnly || !NOT_CURRENT_NAME_USES.has(n.use)).map((n) => normaliseName(n.family ?? '')).filter((f) => f !== ''));
}

function givens(names: readonly HumanName[] | undefined): Set<string> {
  return new Set((names ?? []).filter((n) => !NOT_CURRENT_NAME_USES.has(n.use)).flatMap((n) => n.given ?? []).map(normaliseName).filter((g) => g !== ''));
}

const intersects = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => [...a].some((x) => b.has(x));

function pdsNhsNumber(pds: Patient): string | undefined {
  const value = pds.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM && i.value)?.value;
  return value ? (normaliseNhsNumber(value) ?? value) : undefined;
}

/**
 * Does PDS agree with a source record? Verified when the NHS number, the date of birth and the
 * family name (of a current name, case- and accent-insensitive) all agree; given names support but
 * do not decide. A number PDS answers with a different id is superseded: a mismatch. For a
 * restricted record the detail says only whether it matched, so nothing more of it is kept.
 */
export function comparePdsPatient(source: Patient, pds: Patient): PdsComparison {
  const sourceNumber = nhsIdentifier(source)?.value;
  if (!sourceNumber) return { outcome: 'mismatch', detail: 'mismatch: nhs-number missing in source' };
  const pdsId = pds.id ? (normaliseNhsNumber(pds.id) ?? pds.id) : undefined;
  if (pdsId !== undefined && pdsId !== sourceNumber) return { outcome: 'mismatch', detail: 'superseded' };
  const pdsNumber = pdsNhsNumber(pds) ?? pdsId;
  if (pdsNumber === undefined) return { outcome: 'mismatch', detail: 'mismatch: nhs-number missing in PDS' };
  if (pdsNumber !== sourceNumber) return { outcome: 'mismatch', detail: 'mismatch: nhs-number differs' };

  const restricted = pds.meta?.security?.some((s) => s.code !== undefined && RESTRICTED_CODES.has(s.code)) ?? false;
  const problems: string[] = [];
  if (!source.birthDate) problems.push('birth-date missing in source');
  else if (!pds.birthDate) problems.push('birth-date missing in PDS');
  else if (source.birthDate !== pds.birthDate) problems.push('birth-date differs');

  const sourceFamilies = families(source.name, false);
  const pdsFamilies = families(pds.name, false);
  if (sourceFamilies.size === 0) problems.push('family-name missing in source');
  else if (pdsFamilies.size === 0) problems.push('family-name missing in PDS');
  else if (!intersects(families(source.name, true), families(pds.name, true))) {
    problems.push(intersects(sourceFamilies, pdsFamilies) ? 'family-name matches only a previous or other name' : 'family-name differs');
  }

  if (restricted) return problems.length === 0 ? { outcome: 'verified', detail: 'restricted record: number, birth date and family name match' } : { outcome: 'mismatch', detail: 'restricted record: does not match' };
  if (problems.length > 0) return { outcome: 'mismatch', detail: `mismatch: ${problems.join('; ')}` };

  const sourceGivens = givens(source.name);
  const pdsGivens = givens(pds.name);
  const given = sourceGivens.size === 0 || pdsGivens.size === 0 ? 'given name not compared' : intersects(sourceGivens, pdsGivens) ? 'given name matches' : 'given name differs';
  return { outcome: 'verified', detail: `number, birth date and family name match; ${given}` };
}
