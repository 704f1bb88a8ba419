import { loadavg } from 'node:os';
import type { Patient } from '@medplum/fhirtypes';
import { decideIdentity } from '../gateway/identity/rules';
import { toSourceRecord } from '../gateway/identity/source-records';
import { ingestResources } from '../gateway/ingest/ingest';
import type { Store } from '../gateway/store/store';
import type { BenchStores } from './bench-stores';
import type { IdentityDataset } from './identity-data';
import { SqlTimings, timedStore, type Phase, type PhaseTotals } from './sql-timing';
import { msSince, yieldToEventLoop } from './stats';
import { formatTable, ms, percent, rate } from './table';
import { batchesOf } from './write-paths';

/**
 * Identity resolution against the bare upsert of the same records, in the same run. Both paths get
 * a fresh schema; batch by batch, `store.upsert(batch)` (bare) and `ingestResources(store, batch)`
 * (the real intake tail: the same upsert, then resolveIdentity of the changed Patients) write the
 * same source records, taking turns at going first so both see the same machine state. Overhead is
 * resolution time / bare time - 1. Every statement of both paths is timed (sql-timing.ts), which is
 * where the breakdown of the resolution's cost comes from.
 */
export interface PathTiming {
  readonly ms: number;
  readonly perSecond: number;
}

export interface SourceComparison {
  readonly source: string;
  readonly records: number;
  readonly batches: number;
  readonly bare: PathTiming;
  readonly resolution: PathTiming;
  readonly overhead: number;
}

export interface IdentityOutcome {
  readonly persons: number;
  /** Persons of more than one source record: each has a person-level Patient linking them. */
  readonly linkedPersons: number;
  readonly linkedRecords: number;
  readonly singleRecordPersons: number;
  readonly personLevelPatients: { readonly active: number; readonly retired: number };
  readonly reviews: Record<string, { open: number; resolved: number }>;
}

export interface IdentityCheck {
  /** The persons and open reviews in the database are exactly what the rules decide over all records at once. */
  readonly matchesWholeSetDecision: boolean;
  readonly personsMissing: number;
  readonly personsUnexpected: number;
  readonly reviewsMissing: number;
  readonly reviewsUnexpected: number;
  /** The source Patient rows of both stores are identical (count and digest). */
  readonly sameSourceRows: boolean;
}

export interface StatementRow {
  readonly phase: Phase;
  readonly label: string;
  readonly count: number;
  readonly ms: number;
}

export interface IdentityResults {
  readonly records: number;
  readonly batchSize: number;
  readonly batches: number;
  readonly dataset: { readonly persons: number; readonly mix: IdentityDataset['mix']; readonly sources: readonly { source: string; records: number }[] };
  readonly bare: PathTiming;
  readonly resolution: PathTiming;
  readonly overhead: number;
  readonly goal: number;
  readonly goalMet: boolean;
  readonly bySource: readonly SourceComparison[];
  readonly goldenWritten: number;
  readonly outcome: IdentityOutcome;
  readonly check: IdentityCheck;
  readonly breakdown: {
    readonly bare: { readonly phases: Record<Phase, PhaseTotals>; readonly statements: readonly StatementRow[] };
    readonly resolution: { readonly phases: Record<Phase, PhaseTotals>; readonly statements: readonly StatementRow[] };
  };
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
}

const timing = (records: number, msTotal: number): PathTiming => ({ ms: msTotal, perSecond: (records / msTotal) * 1000 });

async function outcomeOf(store: Store): Promise<IdentityOutcome> {
  const persons = await store.engine.query<{ persons: number; linked: number; linked_records: number }>(
    `SELECT count(*)::int AS persons, count(golden_id)::int AS linked, coalesce(sum(cardinality(members)) FILTER (WHERE golden_id IS NOT NULL), 0)::int AS linked_records FROM identity_person`,
  );
  const goldens = await store.engine.query<{ active: number; retired: number }>(
    `SELECT count(*) FILTER (WHERE content->>'active' = 'true')::int AS active, count(*) FILTER (WHERE content->>'active' = 'false')::int AS retired
       FROM resource WHERE resource_type = 'Patient' AND content->'meta'->>'source' = 'carebridge-person'`,
  );
  const reviews = await store.engine.query<{ kind: string; status: string; n: number }>(`SELECT kind, status, count(*)::int AS n FROM identity_review GROUP BY kind, status ORDER BY kind, status`);
  const p = persons.rows[0] ?? { persons: 0, linked: 0, linked_records: 0 };
  const byKind: Record<string, { open: number; resolved: number }> = {};
  for (const r of reviews.rows) {
    const entry = (byKind[r.kind] ??= { open: 0, resolved: 0 });
    if (r.status === 'open') entry.open += r.n;
    else entry.resolved += r.n;
  }
  return {
    persons: p.persons,
    linkedPersons: p.linked,
    linkedRecords: p.linked_records,
    singleRecordPersons: p.persons - p.linked,
    personLevelPatients: { active: goldens.rows[0]?.active ?? 0, retired: goldens.rows[0]?.retired ?? 0 },
    reviews: byKind,
  };
}

async function sourceRowsDigest(store: Store): Promise<string> {
  const result = await store.engine.query<{ rows: number; digest: string | null }>(
    `SELECT count(*)::int AS rows, md5(string_agg(md5(content::text), '' ORDER BY resource_type, id)) AS digest
       FROM resource WHERE content->'meta'->>'source' IS DISTINCT FROM 'carebridge-person'`,
  );
  return `${result.rows[0]?.rows ?? 0}:${result.rows[0]?.digest ?? ''}`;
}

/** Compares the database with decideIdentity over every record at once (order must not matter). */
async function checkAgainstWholeSet(records: readonly Patient[], resolved: Store, bare: Store): Promise<IdentityCheck> {
  const decision = decideIdentity(records.map((p) => toSourceRecord(p, new Set())));
  const expectedPersons = new Set(decision.persons.map((p) => `${p.key}=${p.members.join(',')}`));
  const expectedReviews = new Set(decision.reviews.map((r) => `${r.kind}|${r.a}|${r.b}`));
  const persons = await resolved.engine.query<{ key: string; members: string[] }>('SELECT key, members FROM identity_person');
  const reviews = await resolved.engine.query<{ kind: string; a: string; b: string }>(`SELECT kind, a, b FROM identity_review WHERE status = 'open'`);
  const actualPersons = new Set(persons.rows.map((p) => `${p.key}=${[...p.members].sort().join(',')}`));
  const actualReviews = new Set(reviews.rows.map((r) => `${r.kind}|${r.a}|${r.b}`));
  const missing = <T>(from: Set<T>, other: Set<T>): number => [...from].filter((x) => !other.has(x)).length;
  const personsMissing = missing(expectedPersons, actualPersons);
  const personsUnexpected = missing(actualPersons, expectedPersons);
  const reviewsMissing = missing(expectedReviews, actualReviews);
  const reviewsUnexpected = missing(actualReviews, expectedReviews);
  const sameSourceRows = (await sourceRowsDigest(resolved)) === (await sourceRowsDigest(bare));
  return {
    matchesWholeSetDecision: personsMissing + personsUnexpected + reviewsMissing + reviewsUnexpected === 0,
    personsMissing,
    personsUnexpected,
    reviewsMissing,
    reviewsUnexpected,
    sameSourceRows,
  };
}

const statementRows = (t: SqlTimings): StatementRow[] => t.sorted().map(({ phase, label, count, ms: total }) => ({ phase, label, count, ms: total }));

export async function benchIdentity(
  stores: BenchStores,
  dataset: IdentityDataset,
  batchSize: number,
  now: Date,
  goal: number,
  log: (message: string) => void,
  /** The path under test; a variant can be passed in to measure a proposed change against the same bare upsert. */
  ingest: typeof ingestResources = ingestResources,
): Promise<IdentityResults> {
  const loadStart = loadavg();
  const bareTimings = new SqlTimings();
  const resolveTimings = new SqlTimings();
  const bareDb = await stores.fresh('identity_bare');
  const resolveDb = await stores.fresh('identity_resolution');
  const bare = timedStore(bareDb, bareTimings);
  const resolving = timedStore(resolveDb, resolveTimings);
  const bySource: SourceComparison[] = [];
  let goldenWritten = 0;
  let turn = 0;
  let lastLog = process.hrtime.bigint();
  for (const part of dataset.bySource) {
    const batches = batchesOf(dataset.records.slice(part.start, part.end), batchSize);
    log(`identity: ${rate(part.end - part.start)} ${part.name} records in ${batches.length} batches, bare upsert and upsert + resolution taking turns…`);
    let bareMs = 0;
    let resolveMs = 0;
    for (const [i, batch] of batches.entries()) {
      const runBare = async (): Promise<void> => {
        const t = process.hrtime.bigint();
        const written = await bare.upsert(batch, { now });
        bareMs += msSince(t);
        if (written.some((w) => !w.changed)) throw new Error('store.upsert left part of a fresh batch unchanged: the bare store was not empty');
      };
      const runResolution = async (): Promise<void> => {
        const t = process.hrtime.bigint();
        const result = await ingest(resolving, batch, { now });
        resolveMs += msSince(t);
        if (result.written.some((w) => !w.changed)) throw new Error('ingestResources left part of a fresh batch unchanged: the store was not empty');
        goldenWritten += result.identity?.goldenWritten ?? 0;
      };
      // Taking turns at going first: neither path always meets the other's checkpoint or autovacuum.
      if (turn++ % 2 === 0) {
        await runBare();
        await runResolution();
      } else {
        await runResolution();
        await runBare();
      }
      await yieldToEventLoop();
      if (msSince(lastLog) > 30_000 && i + 1 < batches.length) {
        lastLog = process.hrtime.bigint();
        log(`identity: ${part.name} ${i + 1} of ${batches.length} batches, overhead so far ${percent(resolveMs / bareMs - 1)}`);
      }
    }
    const records = part.end - part.start;
    bySource.push({ source: part.name, records, batches: batches.length, bare: timing(records, bareMs), resolution: timing(records, resolveMs), overhead: resolveMs / bareMs - 1 });
  }
  const loadEnd = loadavg();
  const bareMs = bySource.reduce((n, s) => n + s.bare.ms, 0);
  const resolveMs = bySource.reduce((n, s) => n + s.resolution.ms, 0);
  const overhead = resolveMs / bareMs - 1;
  log('identity: counting persons and reviews, checking them against the rules over all records at once…');
  const outcome = await outcomeOf(resolveDb);
  const check = await checkAgainstWholeSet(dataset.records, resolveDb, bareDb);
  const records = dataset.records.length;
  return {
    records,
    batchSize,
    batches: bySource.reduce((n, s) => n + s.batches, 0),
    dataset: { persons: dataset.persons, mix: dataset.mix, sources: dataset.bySource.map((s) => ({ source: s.source, records: s.end - s.start })) },
    bare: timing(records, bareMs),
    resolution: timing(records, resolveMs),
    overhead,
    goal,
    goalMet: overhead <= goal,
    bySource,
    goldenWritten,
    outcome,
    check,
    breakdown: {
      bare: { phases: bareTimings.phases, statements: statementRows(bareTimings) },
      resolution: { phases: resolveTimings.phases, statements: statementRows(resolveTimings) },
    },
    loadAverage: { start: loadStart, end: loadEnd },
  };
}

const loadText = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' ');

/** The comparison, the outcome and the check, as printed. */
export function identityTable(r: IdentityResults): string {
  const rows: string[][] = [['source', 'records', 'batches', 'bare upsert /s', 'upsert + resolution /s', 'overhead', `goal ≤ ${percent(r.goal)}`]];
  for (const s of r.bySource) rows.push([s.source, rate(s.records), rate(s.batches), rate(s.bare.perSecond), rate(s.resolution.perSecond), percent(s.overhead), '—']);
  rows.push(['all', rate(r.records), rate(r.batches), rate(r.bare.perSecond), rate(r.resolution.perSecond), percent(r.overhead), r.goalMet ? 'met' : 'NOT MET']);
  const o = r.outcome;
  const reviews = Object.entries(o.reviews)
    .map(([kind, n]) => `${kind} ${rate(n.open)} open${n.resolved > 0 ? ` (${rate(n.resolved)} resolved)` : ''}`)
    .join(', ');
  const c = r.check;
  const m = r.dataset.mix;
  return [
    formatTable(rows),
    `Time      bare ${(r.bare.ms / 1000).toFixed(1)} s, upsert + resolution ${(r.resolution.ms / 1000).toFixed(1)} s; load average ${loadText(r.loadAverage.start)} before, ${loadText(r.loadAverage.end)} after`,
    `Records   ${rate(r.records)} for ${rate(r.dataset.persons)} persons: ${rate(m.verified)} with a verified number (GP), ${rate(m.unverified)} unverified (hospital, council; ${rate(m.invalidNumber)} of them mistyped), ${rate(m.noNumber)} without a number; ${rate(m.otherBirthDate)} with another birth date, ${rate(m.duplicateRegistration)} registered twice in one source`,
    `Persons   ${rate(o.persons)}: ${rate(o.linkedPersons)} linking ${rate(o.linkedRecords)} source records (person-level Patients: ${rate(o.personLevelPatients.active)} active, ${rate(o.personLevelPatients.retired)} retired; ${rate(r.goldenWritten)} versions written), ${rate(o.singleRecordPersons)} single records`,
    `Reviews   ${reviews || 'none'}`,
    `Check     persons and open reviews ${c.matchesWholeSetDecision ? 'identical to' : `DIFFER from (persons missing ${c.personsMissing}, unexpected ${c.personsUnexpected}; reviews missing ${c.reviewsMissing}, unexpected ${c.reviewsUnexpected})`} the rules applied to all records at once; source rows of both stores ${c.sameSourceRows ? 'identical' : 'DIFFER'}`,
  ].join('\n');
}

const WRITER = /^(per-resource advisory locks|existing versions and hashes|INSERT resource|INSERT resource_history|DELETE old index rows|INSERT sp_)/;
const IDENTITY_TABLES = /^(identity advisory lock|DELETE gone persons|UPSERT identity_|DELETE identity_member|UPDATE identity_review)/;

/** Which part of resolveIdentity a statement belongs to, by its label (sql-timing.ts). */
function resolveGroup(label: string): string {
  if (WRITER.test(label)) return 'writing person-level Patients (store writer)';
  if (IDENTITY_TABLES.test(label)) return 'identity tables (lock, persons, members, reviews)';
  return 'finding the connected records';
}

/**
 * Where the resolution path's time goes, as a share of the bare upsert's time (so the resolve rows
 * add up to the overhead): its upsert, then every statement of resolveIdentity by group, the
 * JavaScript between them, and the transaction itself.
 */
export function identityBreakdownTable(r: IdentityResults): string {
  const bareMs = r.bare.ms;
  const res = r.breakdown.resolution;
  const p = res.phases.resolve;
  const upsertPart = r.resolution.ms - p.transactionMs;
  const rows: string[][] = [['part of upsert + resolution', 'calls', 'ms', 'ms per batch', 'of bare upsert']];
  const row = (label: string, calls: number | undefined, total: number): string[] => [label, calls === undefined ? '—' : rate(calls), rate(total), ms(total / r.batches), percent(total / bareMs)];
  rows.push(row('store.upsert of the batch (the bare path is 100%)', undefined, upsertPart));
  const groups = new Map<string, StatementRow[]>();
  for (const s of res.statements.filter((x) => x.phase === 'resolve')) {
    const group = resolveGroup(s.label);
    groups.set(group, [...(groups.get(group) ?? []), s]);
  }
  const sum = (list: readonly StatementRow[], key: 'count' | 'ms'): number => list.reduce((n, x) => n + x[key], 0);
  for (const [group, list] of [...groups].sort((a, b) => sum(b[1], 'ms') - sum(a[1], 'ms'))) {
    rows.push(row(`resolve: ${group}`, sum(list, 'count'), sum(list, 'ms')));
    for (const s of list) rows.push(row(`    ${s.label}`, s.count, s.ms));
  }
  rows.push(row('resolve: JavaScript inside the transaction', undefined, p.fnMs - p.statementMs));
  rows.push(row('resolve: connect, BEGIN, COMMIT', p.transactions, p.transactionMs - p.fnMs));
  rows.push(row('resolve, all', p.transactions, p.transactionMs));
  return formatTable(rows);
}
