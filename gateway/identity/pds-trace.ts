import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, NHS_NUMBER_VERIFICATION_EXTENSION, NhsNumberVerification, normaliseNhsNumber } from '../../mappings/identity/nhs-number';
import type { Logger } from '../logger';
import { parseStoredResource } from '../store/resource-reader';
import type { Store } from '../store/store';
import { GOLDEN_TAG, isGolden } from './golden';
import { comparePdsPatient, PdsError, PdsNotFoundReason, type PdsLookup, type PdsLookupClient } from './pds-client';
import { resolveIdentity } from './resolver';
import { nhsIdentifier } from './source-records';

/**
 * NHS number verification by tracing: CareBridge asks PDS about source records whose NHS number
 * is valid but that no source says it verified, compares number, date of birth and name, and keeps
 * the outcome in `pds_trace` (which the identity resolver reads). Nothing PDS returns is stored:
 * a row holds the outcome and which fields agreed, never a value.
 *
 * A record is traced when it has no trace for its current number, when its source changed it since
 * the last trace (a corrected name or date of birth deserves a new answer, and a stale
 * verification must not outlive the data it verified), or when the last attempt failed over an hour ago.
 */
export const PdsTraceOutcome = {
  VERIFIED: 'verified',
  MISMATCH: 'mismatch',
  NOT_FOUND: 'not-found',
  ERROR: 'error',
} as const;
export type PdsTraceOutcome = (typeof PdsTraceOutcome)[keyof typeof PdsTraceOutcome];

export interface TraceOptions {
  /** Only these source Patients. */
  readonly patientIds?: readonly string[];
  /** Only source Patients holding this NHS number. */
  readonly nhsNumber?: string;
  /** At most this many records per run. Default 100. */
  readonly limit?: number;
  readonly now?: Date;
}

export interface TraceResult {
  readonly counts: Record<PdsTraceOutcome, number>;
  /** Source records whose verification changed, so identity was re-resolved for them. */
  readonly reresolved: number;
}

const ERROR_RETRY_AFTER_MS = 60 * 60 * 1000;
const DEFAULT_LIMIT = 100;
const SCAN_BATCH = 500;

interface Candidate {
  readonly patient: Patient;
  readonly nhsNumber: string;
  readonly previous?: PdsTraceOutcome;
}

/**
 * Source Patients with an NHS number that may need tracing, in id order after `after`. The SQL
 * narrows (not person-level, not marked verified by the source, no current trace); the caller
 * re-checks with the same functions the resolver uses (modulus 11 cannot be done in SQL simply).
 */
async function scanCandidates(store: Store, options: TraceOptions, after: string, batch: number, now: Date): Promise<{ rows: Candidate[]; last?: string }> {
  const rows = await store.engine.query<{ id: string; content: string; previous: PdsTraceOutcome | null }>(
    `WITH patients AS (
       SELECT r.id, r.content, r.last_updated,
              (SELECT i FROM jsonb_array_elements(coalesce(r.content->'identifier', '[]'::jsonb)) i
                WHERE i->>'system' = $1 AND coalesce(i->>'value', '') <> '' LIMIT 1) AS nhs
         FROM resource r
        WHERE r.resource_type = 'Patient' AND r.id > $2
          AND ($3::text[] IS NULL OR r.id = ANY($3::text[]))
          AND NOT coalesce(r.content->'meta'->'tag' @> jsonb_build_array(jsonb_build_object('system', $4::text, 'code', $5::text)), false)
     ),
     numbered AS (
       SELECT id, content, last_updated, regexp_replace(nhs->>'value', '[[:space:]-]', '', 'g') AS nhs_number,
              coalesce(nhs->'extension' @> jsonb_build_array(jsonb_build_object('url', $6::text, 'valueCodeableConcept',
                jsonb_build_object('coding', jsonb_build_array(jsonb_build_object('code', $7::text))))), false) AS source_verified
         FROM patients WHERE nhs IS NOT NULL
     )
     SELECT n.id, n.content::text AS content, t.outcome AS previous
       FROM numbered n
       LEFT JOIN pds_trace t ON t.patient_id = n.id AND t.nhs_number = n.nhs_number
      WHERE NOT n.source_verified
        AND ($8::text IS NULL OR n.nhs_number = $8)
        AND (t.patient_id IS NULL
             OR t.traced_at < n.last_updated
             OR (t.outcome = 'error' AND t.traced_at <= $9::timestamptz))
      ORDER BY n.id
      LIMIT $10`,
    [
      NHS_NUMBER_SYSTEM,
      after,
      options.patientIds ? [...options.patientIds] : null,
      GOLDEN_TAG.system,
      GOLDEN_TAG.code,
      NHS_NUMBER_VERIFICATION_EXTENSION,
      NhsNumberVerification.VERIFIED,
      options.nhsNumber ?? null,
      new Date(now.getTime() - ERROR_RETRY_AFTER_MS).toISOString(),
      batch,
    ],
  );
  const candidates: Candidate[] = [];
  for (const row of rows.rows) {
    const patient = parseStoredResource(row.content) as Patient;
    const nhs = nhsIdentifier(patient);
    if (isGolden(patient) || !nhs?.valid || nhs.verifiedBySource) continue;
    candidates.push({ patient, nhsNumber: nhs.value, previous: row.previous ?? undefined });
  }
  return { rows: candidates, last: rows.rows.at(-1)?.id };
}

async function findCandidates(store: Store, options: TraceOptions, limit: number, now: Date): Promise<Candidate[]> {
  const found: Candidate[] = [];
  let after = '';
  // Keyset scan: records skipped in code (invalid check digit) never starve the ones after them.
  for (;;) {
    const batch = Math.max(limit, SCAN_BATCH);
    const { rows, last } = await scanCandidates(store, options, after, batch, now);
    found.push(...rows);
    if (found.length >= limit || last === undefined) break;
    after = last;
  }
  return found.slice(0, limit);
}

function outcomeOf(candidate: Candidate, lookup: PdsLookup): { outcome: PdsTraceOutcome; detail: string } {
  if (!lookup.found) return { outcome: PdsTraceOutcome.NOT_FOUND, detail: lookup.reason === PdsNotFoundReason.INVALIDATED ? 'invalidated in PDS' : 'not known to PDS' };
  return comparePdsPatient(candidate.patient, lookup.patient);
}

/**
 * Traces up to `limit` source records against PDS and records each outcome; then re-resolves
 * identity for the records whose verification changed. A lookup PDS cannot answer is recorded as
 * an error and tried again after an hour. When PDS refuses CareBridge itself (401/403) the run
 * stops, keeps what it learnt, and throws: every further lookup would fail the same way.
 */
export async function traceNhsNumbers(store: Store, client: PdsLookupClient, options: TraceOptions = {}): Promise<TraceResult> {
  const now = options.now ?? new Date();
  const limit = Math.max(0, Math.floor(options.limit ?? DEFAULT_LIMIT));
  const nhsNumber = options.nhsNumber === undefined ? undefined : (normaliseNhsNumber(options.nhsNumber) ?? options.nhsNumber);
  const candidates = limit === 0 ? [] : await findCandidates(store, { ...options, nhsNumber }, limit, now);

  const counts: Record<PdsTraceOutcome, number> = { verified: 0, mismatch: 0, 'not-found': 0, error: 0 };
  const changed: string[] = [];
  // Several sources often hold one number: ask PDS once per number per run.
  const lookups = new Map<string, Promise<PdsLookup>>();
  let refused: PdsError | undefined;
  for (const candidate of candidates) {
    let lookup = lookups.get(candidate.nhsNumber);
    if (!lookup) {
      lookup = client.getPatient(candidate.nhsNumber);
      lookups.set(candidate.nhsNumber, lookup);
    }
    let result: { outcome: PdsTraceOutcome; detail: string };
    try {
      result = outcomeOf(candidate, await lookup);
    } catch (err) {
      if (err instanceof PdsError && err.refusesClient) {
        refused = err;
        break;
      }
      result = { outcome: PdsTraceOutcome.ERROR, detail: err instanceof PdsError ? err.message.slice(0, 200) : 'unexpected failure' };
    }
    await store.engine.query(
      `INSERT INTO pds_trace (patient_id, nhs_number, outcome, detail, traced_at) VALUES ($1, $2, $3, $4, $5::timestamptz)
       ON CONFLICT (patient_id, nhs_number) DO UPDATE SET outcome = EXCLUDED.outcome, detail = EXCLUDED.detail, traced_at = EXCLUDED.traced_at`,
      [candidate.patient.id, candidate.nhsNumber, result.outcome, result.detail, now.toISOString()],
    );
    counts[result.outcome]++;
    const wasVerified = candidate.previous === PdsTraceOutcome.VERIFIED;
    if (wasVerified !== (result.outcome === PdsTraceOutcome.VERIFIED)) changed.push(candidate.patient.id as string);
  }
  if (changed.length > 0) await resolveIdentity(store.engine, changed, now);
  if (refused) throw refused;
  return { counts, reresolved: changed.length };
}

export interface BackgroundTraceOptions {
  readonly intervalMs: number;
  readonly logger: Pick<Logger, 'info' | 'error'>;
  /** Records per run. Default 100. */
  readonly limit?: number;
  /** Wait before the first run. Default 0: soon after start. */
  readonly firstRunAfterMs?: number;
}

/**
 * Runs traceNhsNumbers every `intervalMs` (measured from the end of one run to the start of the
 * next, so runs never overlap). Failures are logged, never thrown. The returned function stops the
 * schedule and resolves once any run in progress has finished, so the store can be closed after it.
 */
export function startBackgroundTrace(store: Store, client: PdsLookupClient, options: BackgroundTraceOptions): () => Promise<void> {
  if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) throw new RangeError('intervalMs must be a positive number of milliseconds');
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const run = async (): Promise<void> => {
    try {
      const result = await traceNhsNumbers(store, client, { limit: options.limit });
      const traced = Object.values(result.counts).reduce((a, b) => a + b, 0);
      if (traced > 0) options.logger.info({ pdsTrace: { ...result.counts, reresolved: result.reresolved } }, 'PDS trace run');
    } catch (err) {
      // Only the error's kind and short message: a database error's detail can quote values.
      const summary = err instanceof PdsError ? { name: err.name, code: err.code, status: err.status, message: err.message } : { name: err instanceof Error ? err.name : 'unknown' };
      options.logger.error({ pdsTraceError: summary }, 'PDS trace run failed');
    }
  };
  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = run().finally(() => {
        running = undefined;
        schedule(options.intervalMs);
      });
    }, delayMs);
    // The schedule alone never keeps the process alive.
    timer.unref();
  };
  schedule(options.firstRunAfterMs ?? 0);

  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
