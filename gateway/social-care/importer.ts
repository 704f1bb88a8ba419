import type { Resource } from '@medplum/fhirtypes';
import { readTableRows, type CsvIssue } from '../../adapters/social-care/csv-rows';
import type { ExtractFiles } from '../../adapters/social-care/extract-files';
import { TABLE_BY_FILE, type SocialCareTable } from '../../adapters/social-care/tables';
import { ExtractRejectedError, verifyExtract, type VerifiedExtract } from '../../adapters/social-care/verify';
import type { PersonRow } from '../../mappings/social-care/allocations';
import { IssueSeverity, type SocialCareContext, type SocialCareIssue } from '../../mappings/social-care/context';
import { AGGREGATED_TABLES, ExtractMapper, mapPersonAggregate, mapRow, retirementOf, type KeptRecord, type WrittenResource } from '../../mappings/social-care/extract-mapper';
import { extractProvenance } from '../../mappings/social-care/provenance';
import { ONS_LOCAL_AUTHORITY_SYSTEM, qualifiedId } from '../../mappings/identifiers';
import { registerSourceSystem, SourceKind } from '../access/source-systems';
import { canonicalJson, sha256Hex } from '../fhir/canonical-json';
import { ingestResources } from '../ingest/ingest';
import type { Logger } from '../logger';
import type { Store } from '../store/store';
import { appendIssues, clearIssues, finishImport, ImportStatus, recordExtractIdentity, recordProgress } from './imports';
import { currentPersonIds, currentResourceHashes, sourceHoldsRows, currentRowsOfPersons, keepRecords, retireRecords, rowsOfPersons, storedRows, unseenCurrentRows, type StoredRow } from './records';

/**
 * Imports one extract (specs/social-care-extract.md) into the store, streaming:
 *   1. the manifest check (every file's sha256 and row count, duplicates found): a mismatch
 *      rejects the extract before anything is written;
 *   2. each table in order, row by row through the ExtractMapper, written in batches through
 *      ingestResources (upsert + identity resolution) with a Provenance per batch, the accepted
 *      rows kept in social_care_record, every issue in social_care_import_issue;
 *   3. a delta's D rows, and for a full extract every row the source held but no longer sends,
 *      retired: re-mapped from the kept row as ended/inactive, never deleted;
 *   4. the aggregated resources (care team, open cases, care package) of every person whose
 *      allocations or services changed, from all their kept rows, a page of people at a time;
 *   5. workers, teams and organisations, merged across rows, written once.
 * Memory holds one batch, the set of person ids, the ids of people to re-aggregate and the shared
 * resources, never a table. Mapping is deterministic, so the same extract again writes no version.
 */
export const ImportPhase = { VERIFY: 'verify', ROWS: 'rows', RETIRE: 'retire', AGGREGATE: 'aggregate', SHARED: 'shared', DONE: 'done' } as const;
export type ImportPhase = (typeof ImportPhase)[keyof typeof ImportPhase];

export interface ImportProgress {
  readonly phase: ImportPhase;
  readonly file?: string;
  readonly rowsDone: number;
  readonly rowsTotal: number;
  readonly elapsedMs: number;
}

export interface TableCounts {
  rows: number;
  accepted: number;
  rejected: number;
  /** Earlier rows of an id that appears again (the last one wins). */
  duplicates: number;
  deleted: number;
}

export interface ImportSummary {
  readonly importId: string;
  readonly status: 'done' | 'rejected';
  readonly source?: string;
  readonly type?: string;
  readonly extractedAt?: string;
  /** Why the extract was rejected (manifest check): nothing was written. */
  readonly problems?: readonly string[];
  readonly tables: Record<string, TableCounts>;
  readonly resources: { readonly written: number; readonly changed: number; readonly changedByType: Record<string, number> };
  readonly retiredRows: number;
  readonly issues: { error: number; warning: number; information: number };
  readonly ignoredFiles: readonly string[];
  readonly rows: number;
  readonly durationMs: number;
  readonly rowsPerSecond: number;
}

export interface ImportOptions {
  readonly importId: string;
  readonly leaseOwner?: string;
  /** Resources per transaction (default 1000). */
  readonly batchSize?: number;
  readonly onProgress?: (progress: ImportProgress) => void;
  readonly logger?: Logger;
  readonly now?: () => number;
}

const PERSON_PAGE = 500;
const DEFAULT_BATCH_SIZE = 1000;

function csvIssue(issue: CsvIssue): SocialCareIssue {
  const severity = issue.code === 'missing-id-column' || issue.code === 'malformed-csv' ? IssueSeverity.ERROR : issue.code === 'unknown-column' ? IssueSeverity.INFORMATION : IssueSeverity.WARNING;
  return { file: `${issue.table}.csv`, line: issue.line, ...(issue.column ? { column: issue.column } : {}), severity, code: issue.code, reason: issue.text };
}

/** Collects resources, kept rows and issues; writes them a batch at a time. */
class BatchWriter {
  private resources: WrittenResource[] = [];
  private keys = new Set<string>();
  private issues: SocialCareIssue[] = [];
  private issueSeq = 0;
  private batchNo = 0;
  readonly issueCounts = { error: 0, warning: 0, information: 0 };
  readonly totals = { written: 0, changed: 0, changedByType: {} as Record<string, number> };

  constructor(
    private readonly store: Store,
    private readonly context: SocialCareContext,
    private readonly importId: string,
    private readonly manifestSha256: string,
    private readonly batchSize: number,
    /**
     * False when the source held no kept rows as this import began (a first import): no row can
     * have a previous hash (an id appears once per import, the manifest pass drops duplicates),
     * so the lookup is skipped. A retried import finds the rows its first attempt kept.
     */
    private readonly mayHavePrevious: boolean,
  ) {}

  async addResources(resources: readonly WrittenResource[]): Promise<void> {
    for (const r of resources) {
      const key = `${r.resourceType}/${r.id}`;
      if (this.keys.has(key)) await this.flush();
      this.keys.add(key);
      this.resources.push(r);
    }
    if (this.resources.length >= this.batchSize) await this.flush();
  }

  /** An accepted row and what it mapped to; written only if that differs from what the row last mapped to. */
  async addRow(record: KeptRecord, resources: readonly WrittenResource[]): Promise<void> {
    if (resources.some((r) => this.keys.has(`${r.resourceType}/${r.id}`))) await this.flush();
    for (const r of resources) this.keys.add(`${r.resourceType}/${r.id}`);
    this.rows.push({ record, resources, hash: resources.length > 0 ? sha256Hex(canonicalJson(resources)) : null });
    this.rowResources += resources.length;
    if (this.rows.length >= this.batchSize || this.resources.length + this.rowResources >= this.batchSize) await this.flush();
  }

  private rows: { record: KeptRecord; resources: readonly WrittenResource[]; hash: string | null }[] = [];
  private rowResources = 0;

  addIssues(issues: readonly SocialCareIssue[]): void {
    for (const i of issues) {
      this.issues.push(i);
      this.issueCounts[i.severity]++;
    }
  }

  /**
   * Starts writing what is collected, after the previous write has finished: one write in flight
   * while the next batch is parsed and mapped (on PostgreSQL the database works on the other core
   * meanwhile). A failed write surfaces at the next flush or drain.
   */
  async flush(): Promise<void> {
    await this.waitForWrite();
    const resources = this.resources;
    const rows = this.rows;
    const issues = this.issues;
    if (resources.length === 0 && rows.length === 0 && issues.length === 0) return;
    this.resources = [];
    this.keys = new Set();
    this.rows = [];
    this.rowResources = 0;
    this.issues = [];
    const firstSeq = this.issueSeq;
    this.issueSeq += issues.length;
    const batchNo = ++this.batchNo;
    this.inFlight = this.write(resources, rows, issues, firstSeq, batchNo).catch((err: unknown) => {
      this.failure = err;
    });
  }

  /** Everything collected so far is written (before reading kept rows back, and at the end). */
  async drain(): Promise<void> {
    await this.flush();
    await this.waitForWrite();
  }

  private inFlight: Promise<void> | undefined;
  private failure: unknown;

  private async waitForWrite(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    this.inFlight = undefined;
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      throw err instanceof Error ? err : new Error('the batch write failed');
    }
  }

  private async write(
    others: WrittenResource[],
    rows: readonly { record: KeptRecord; resources: readonly WrittenResource[]; hash: string | null }[],
    issues: SocialCareIssue[],
    firstSeq: number,
    batchNo: number,
  ): Promise<void> {
    const resources = [...others];
    // Rows that map to exactly what they mapped to last time are not written again.
    const previous = !this.mayHavePrevious ? new Map<string, string>() : await currentResourceHashes(this.store.engine, this.context.source, rows.filter((r) => r.hash).map((r) => ({ table: r.record.table, recordId: r.record.recordId })));
    for (const row of rows) {
      if (row.hash !== null && previous.get(`${row.record.table}|${row.record.recordId}`) === row.hash) this.totals.written += row.resources.length;
      else resources.push(...row.resources);
    }
    if (resources.length > 0) {
      const provenance = extractProvenance(this.context, this.manifestSha256, batchNo);
      const result = await ingestResources(this.store, resources, {
        provenance: (changed) => (changed.length > 0 ? { ...provenance, target: changed.map((c) => ({ reference: `${c.resourceType}/${c.id}/_history/${c.versionId}` })) } : undefined),
      });
      for (const w of result.written) {
        if (w.resourceType === 'Provenance') continue;
        this.totals.written++;
        if (w.changed) {
          this.totals.changed++;
          this.totals.changedByType[w.resourceType] = (this.totals.changedByType[w.resourceType] ?? 0) + 1;
        }
      }
    }
    if (rows.length > 0) await keepRecords(this.store.engine, this.context.source, this.importId, rows.map((r) => r.record), rows.map((r) => r.hash));
    if (issues.length > 0) await appendIssues(this.store.engine, this.importId, firstSeq, issues);
  }
}

function toPersonRow(stored: StoredRow): PersonRow {
  return stored.retiredOn ? { row: stored.row, retirement: { on: stored.retiredOn } } : { row: stored.row };
}

export async function importExtract(store: Store, files: ExtractFiles, options: ImportOptions): Promise<ImportSummary> {
  const now = options.now ?? ((): number => performance.now());
  const started = now();
  const { importId } = options;
  const db = store.engine;
  const tables: Record<string, TableCounts> = {};
  const emptySummary = (problems: readonly string[]): ImportSummary => ({
    importId,
    status: 'rejected',
    problems,
    tables,
    resources: { written: 0, changed: 0, changedByType: {} },
    retiredRows: 0,
    issues: { error: 0, warning: 0, information: 0 },
    ignoredFiles: [],
    rows: 0,
    durationMs: Math.round(now() - started),
    rowsPerSecond: 0,
  });
  options.onProgress?.({ phase: ImportPhase.VERIFY, rowsDone: 0, rowsTotal: 0, elapsedMs: 0 });
  let verified: VerifiedExtract;
  try {
    verified = await verifyExtract(files);
  } catch (err) {
    if (!(err instanceof ExtractRejectedError)) throw err;
    const summary = emptySummary(err.problems);
    await finishImport(db, importId, ImportStatus.REJECTED, summary, err.message);
    options.logger?.warn({ importId, problems: err.problems.length }, 'social care extract rejected by the manifest check');
    return summary;
  }
  const { manifest } = verified;
  const context: SocialCareContext = { source: manifest.sourceSystemUri, council: manifest.organisation, extractedAt: manifest.extractedAt, type: manifest.type };
  await recordExtractIdentity(db, importId, { source: context.source, extractType: context.type, manifestSha256: verified.manifestSha256 });
  // Whose data this is, for the access rules (an objection or a council's refusal is enforced by the
  // organisation holding the data). A source the directory declares keeps the directory's organisation.
  await registerSourceSystem(db, { uri: context.source, organisation: qualifiedId(ONS_LOCAL_AUTHORITY_SYSTEM, context.council.code), name: context.council.name, kind: SourceKind.SOCIAL_CARE });
  // A retried import starts its report again.
  await clearIssues(db, importId);
  const knownPersons = context.type === 'delta' ? await currentPersonIds(db, context.source) : [];
  const mapper = new ExtractMapper(context, { knownPersons, duplicates: verified.duplicates });
  const writer = new BatchWriter(store, context, importId, verified.manifestSha256, options.batchSize ?? DEFAULT_BATCH_SIZE, await sourceHoldsRows(db, context.source));
  const touched = new Map<SocialCareTable, Set<string>>([...AGGREGATED_TABLES].map((t) => [t, new Set<string>()]));
  const rowsTotal = verified.tables.reduce((n, f) => n + (manifest.files[f]?.rows ?? 0), 0);
  let rowsDone = 0;
  let lastReport = 0;
  const report = (phase: ImportPhase, file?: string, force = false): void => {
    const t = now();
    if (!force && t - lastReport < 250) return;
    lastReport = t;
    const progress: ImportProgress = { phase, ...(file ? { file } : {}), rowsDone, rowsTotal, elapsedMs: Math.round(t - started) };
    options.onProgress?.(progress);
  };
  let lastDbProgress = 0;
  const reportToDb = async (phase: ImportPhase, file?: string): Promise<void> => {
    const t = now();
    if (t - lastDbProgress < 2000) return;
    lastDbProgress = t;
    await recordProgress(db, importId, { phase, file, rowsDone, rowsTotal }, options.leaseOwner);
  };

  let retiredRows = 0;
  const retire = async (rows: readonly StoredRow[]): Promise<void> => {
    const retirement = retirementOf(context);
    for (const stored of rows) {
      if (AGGREGATED_TABLES.has(stored.table)) touched.get(stored.table)?.add(stored.personId);
      else {
        const mapped = mapRow(context, stored.row, retirement, true);
        await writer.addResources(mapped.resources.filter((r) => r.resourceType !== 'Organization' && r.resourceType !== 'Practitioner' && r.resourceType !== 'PractitionerRole'));
      }
    }
    await writer.drain();
    await retireRecords(db, context.source, importId, retirement.on, rows.map((r) => ({ table: r.table, recordId: r.recordId })));
    retiredRows += rows.length;
  };

  // 2. Rows, table by table.
  for (const file of verified.tables) {
    const definition = TABLE_BY_FILE.get(file);
    if (!definition) continue;
    const counts: TableCounts = { rows: 0, accepted: 0, rejected: 0, duplicates: 0, deleted: 0 };
    tables[file] = counts;
    const deletes: KeptRecord[] = [];
    const input = await files.open(file);
    for await (const row of readTableRows(input, manifest.encoding, definition, (issue) => writer.addIssues([csvIssue(issue)]))) {
      counts.rows++;
      rowsDone++;
      const outcome = mapper.row(row);
      writer.addIssues(outcome.issues);
      if (!outcome.record) {
        if (outcome.issues.some((i) => i.code === 'duplicate-row')) counts.duplicates++;
        else counts.rejected++;
      } else if (outcome.record.deleted) {
        counts.deleted++;
        deletes.push(outcome.record);
      } else {
        counts.accepted++;
        await writer.addRow(outcome.record, outcome.resources);
        if (AGGREGATED_TABLES.has(row.table)) touched.get(row.table)?.add(outcome.record.personId);
      }
      if (deletes.length >= 500) await applyDeletes(deletes.splice(0));
      report(ImportPhase.ROWS, file);
      await reportToDb(ImportPhase.ROWS, file);
    }
    if (deletes.length > 0) await applyDeletes(deletes.splice(0));
    report(ImportPhase.ROWS, file, true);
  }
  await writer.drain();

  async function applyDeletes(deletes: KeptRecord[]): Promise<void> {
    await writer.drain();
    const keys = deletes.map((d) => ({ table: d.table, recordId: d.recordId }));
    const stored = new Map((await storedRows(db, context.source, keys)).map((s) => [`${s.table}|${s.recordId}`, s]));
    // A D for a row never sent before is kept too, retired, from what the D row carries.
    const unknown = deletes.filter((d) => !stored.has(`${d.table}|${d.recordId}`));
    if (unknown.length > 0) await keepRecords(db, context.source, importId, unknown);
    const rows = deletes.map((d) => stored.get(`${d.table}|${d.recordId}`) ?? { table: d.table, recordId: d.recordId, personId: d.personId, row: d.row, retiredOn: null });
    // A person the source deletes takes their relationships, allocations, services… with them.
    const people = deletes.filter((d) => d.table === 'persons').map((d) => d.recordId);
    const dependants = await currentRowsOfPersons(db, context.source, people);
    await retire([...rows.filter((r) => r.retiredOn === null), ...dependants]);
  }

  // 3. A full extract retires what the source no longer sends.
  if (context.type === 'full') {
    for (;;) {
      const page = await unseenCurrentRows(db, context.source, importId, undefined, 1000);
      if (page.length === 0) break;
      await retire(page);
      report(ImportPhase.RETIRE, undefined, true);
    }
  }

  // 4. Care teams, open cases and care packages of the people whose rows changed.
  for (const [table, people] of touched) {
    const ids = [...people].sort();
    for (let i = 0; i < ids.length; i += PERSON_PAGE) {
      const page = ids.slice(i, i + PERSON_PAGE);
      const rows = await rowsOfPersons(db, context.source, table, page);
      const byPerson = new Map<string, PersonRow[]>();
      for (const r of rows) {
        const list = byPerson.get(r.personId) ?? [];
        list.push(toPersonRow(r));
        byPerson.set(r.personId, list);
      }
      for (const personId of page) await writer.addResources(mapPersonAggregate(context, table, personId, byPerson.get(personId) ?? []));
      report(ImportPhase.AGGREGATE, `${table}.csv`);
      await reportToDb(ImportPhase.AGGREGATE, `${table}.csv`);
    }
  }
  await writer.drain();

  // 5. Workers, teams, the council and organisations, each once.
  const shared: Resource[] = mapper.sharedResources();
  await writer.addResources(shared as WrittenResource[]);
  writer.addIssues(mapper.sharedNhsIssues);
  await writer.drain();

  const durationMs = Math.round(now() - started);
  const summary: ImportSummary = {
    importId,
    status: 'done',
    source: context.source,
    type: context.type,
    extractedAt: context.extractedAt,
    tables,
    resources: { ...writer.totals },
    retiredRows,
    issues: { ...writer.issueCounts },
    ignoredFiles: verified.ignoredFiles,
    rows: rowsDone,
    durationMs,
    rowsPerSecond: durationMs > 0 ? Math.round((rowsDone / durationMs) * 1000) : rowsDone,
  };
  report(ImportPhase.DONE, undefined, true);
  await finishImport(db, importId, ImportStatus.DONE, summary);
  options.logger?.info({ importId, rows: rowsDone, changed: writer.totals.changed, retired: retiredRows, durationMs }, 'social care extract imported');
  return summary;
}
