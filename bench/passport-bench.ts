import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { samePersonIds } from '../gateway/identity/resolver';
import { getBag, getPassport, type PassportRow } from '../gateway/passport/passport-store';
import { dischargePassportId } from '../gateway/passport/service';
import { PassportKeySet, passportCanonicalForm } from '../gateway/passport/signing';
import { careHomeSource } from '../mappings/passport/codes';
import { transferFormResources } from '../mappings/passport/transfer-form';
import { PassportKind } from '../mappings/passport/view';
import type { BenchStores } from './bench-stores';
import { barePdf, passportCeilings, passportTextLines, type CeilingTiming } from './passport-ceilings';
import { benchSourceName, CARE_HOME_NURSE, PASSPORT_FHIR_BASE, PASSPORT_PUBLIC_BASE, RESIDENT_PATIENT_ID, startPassportJourney } from './passport-journey';
import { careHomeOf, dischargePipeline, transferPipeline, type PipelineOutput, type PipelineTarget, type PipelineTiming } from './passport-pipeline';
import { msSince, percentile, yieldToEventLoop } from './stats';
import { formatTable, ms, rate } from './table';

/**
 * Red bag passports (specs/red-bag-passport.md, issue: "build + sign + render time for transfer
 * and discharge passports, p50/p95; goal: p95 under 300 ms"), on the embedded PGlite store
 * (file-backed, a fresh directory): the journey of tests/passport/journey.test.ts's resident
 * (bench/passport-journey.ts), then, per iteration, one passport through the pure pipeline stage
 * by stage (bench/passport-pipeline.ts: what is and is not included is said there) and the bare
 * ceilings of each stage on the same passport (bench/passport-ceilings.ts), taking turns.
 *
 *   transfer   version 1 of the care home's transfer passport, before the hospital stay (the
 *              record as it is when the person leaves the home);
 *   service    PassportService.issueTransfer with the same form, each call a new version of the
 *              same bag's transfer passport: access decision, form ingest, build, sign, the
 *              immutable row, outbox events, DocumentReference; no render;
 *   discharge  the latest discharge passport (version 2, with the discharge summary), after the
 *              stay's seven HL7 messages went through the real MLLP feed.
 *
 * Every rebuilt document must have the fingerprint of the version the service stored, and the
 * bare jose signature must equal the signer's (RS256 is deterministic): the ceilings work on the
 * same bytes.
 */

export const PASSPORT_P95_GOAL_MS = 300;

export interface PassportBenchPlan {
  /** Measured iterations per passport kind (and issueTransfer calls). */
  readonly iterations: number;
  /** Iterations run first and thrown away (JIT, caches). */
  readonly warmup: number;
}

export interface TimingSummary {
  readonly n: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export interface PassportKindResult {
  readonly kind: PassportKind;
  readonly version: number;
  readonly document: {
    readonly recordResources: number;
    readonly entries: number;
    readonly sections: number;
    readonly rows: number;
    readonly canonicalBytes: number;
    readonly htmlBytes: number;
    readonly pdfBytes: number;
    readonly pdfPages: number;
    readonly textLines: number;
    readonly barePdfPages: number;
  };
  readonly stages: Readonly<Record<'load' | 'assemble' | 'build' | 'sign' | 'html' | 'pdf' | 'total', TimingSummary>>;
  readonly ceilings: Readonly<Record<keyof CeilingTiming, TimingSummary>>;
  readonly goal: { readonly p95TotalMs: number; readonly met: boolean };
}

export interface PassportBenchResults {
  readonly engine: 'pglite';
  /** The libraries the pipeline and the ceilings run on. */
  readonly versions: Readonly<Record<string, string>>;
  readonly iterations: number;
  readonly warmup: number;
  readonly transfer: PassportKindResult;
  readonly discharge: PassportKindResult;
  readonly issueTransferThroughService: TimingSummary;
}

export function summariseTimings(values: readonly number[]): TimingSummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return { n: sorted.length, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), p99Ms: percentile(sorted, 99), maxMs: sorted[sorted.length - 1] ?? Number.NaN, meanMs: sorted.length > 0 ? sum / sorted.length : Number.NaN };
}

function libraryVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['jose', 'pdfkit', 'qrcode']) {
    try {
      out[name] = (JSON.parse(readFileSync(join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      out[name] = 'unknown';
    }
  }
  return out;
}

const pdfPages = (pdf: Buffer): number => (pdf.toString('latin1').match(/\/Type \/Page[^s]/g) ?? []).length;

/** Pipeline then ceilings, `warmup + iterations` times; the warm-up rounds are not kept. */
async function measureKind(run: () => Promise<PipelineOutput>, ceilings: (out: PipelineOutput) => Promise<CeilingTiming>, plan: PassportBenchPlan, version: number): Promise<PassportKindResult> {
  const timings: PipelineTiming[] = [];
  const bare: CeilingTiming[] = [];
  let last: PipelineOutput | undefined;
  for (let i = 0; i < plan.warmup + plan.iterations; i++) {
    const out = await run();
    const ceiling = await ceilings(out);
    if (i >= plan.warmup) {
      timings.push(out.timing);
      bare.push(ceiling);
    }
    last = out;
    await yieldToEventLoop();
  }
  if (!last) throw new Error('passport bench: no iterations');
  const of = (pick: (t: PipelineTiming) => number): TimingSummary => summariseTimings(timings.map(pick));
  const ofBare = (pick: (t: CeilingTiming) => number): TimingSummary => summariseTimings(bare.map(pick));
  const lines = passportTextLines(last.view);
  const stages = {
    load: of((t) => t.loadMs),
    assemble: of((t) => t.assembleMs),
    build: of((t) => t.loadMs + t.assembleMs),
    sign: of((t) => t.signMs),
    html: of((t) => t.htmlMs),
    pdf: of((t) => t.pdfMs),
    total: of((t) => t.loadMs + t.assembleMs + t.signMs + t.htmlMs + t.pdfMs),
  };
  return {
    kind: last.view.kind,
    version,
    document: {
      recordResources: last.record.length,
      entries: last.signed.entry?.length ?? 0,
      sections: last.view.sections.length,
      rows: last.view.sections.reduce((n, s) => n + s.rows.length, 0),
      canonicalBytes: Buffer.byteLength(passportCanonicalForm(last.unsigned)),
      htmlBytes: Buffer.byteLength(last.html),
      pdfBytes: last.pdf.length,
      pdfPages: pdfPages(last.pdf),
      textLines: lines.length,
      barePdfPages: pdfPages(await barePdf(lines)),
    },
    stages,
    ceilings: { selectMs: ofBare((c) => c.selectMs), joseMs: ofBare((c) => c.joseMs), jcsMs: ofBare((c) => c.jcsMs), stringifyMs: ofBare((c) => c.stringifyMs), htmlMs: ofBare((c) => c.htmlMs), pdfMs: ofBare((c) => c.pdfMs), qrSvgMs: ofBare((c) => c.qrSvgMs), qrPngMs: ofBare((c) => c.qrPngMs) },
    goal: { p95TotalMs: PASSPORT_P95_GOAL_MS, met: stages.total.p95Ms < PASSPORT_P95_GOAL_MS },
  };
}

async function assertVerifies(keys: PassportKeySet, row: PassportRow | undefined, what: string): Promise<PassportRow> {
  if (!row) throw new Error(`passport bench: the service issued no ${what}`);
  const verified = await keys.verify(row.document);
  if (!verified.valid) throw new Error(`passport bench: the ${what} the service issued does not verify: ${verified.reason}`);
  return row;
}

export async function benchPassport(stores: BenchStores, plan: PassportBenchPlan, log: (message: string) => void): Promise<PassportBenchResults> {
  if (stores.engine !== 'pglite') throw new Error('passport bench: measured on the embedded PGlite store');
  const store = await stores.fresh('passport');
  const db = store.engine;
  log('passport: the resident, the care home\'s transfer form, transfer passport version 1…');
  const journey = await startPassportJourney(store);
  const keys = await PassportKeySet.from({ signers: [journey.signer] });
  const ceilings = await passportCeilings(db, journey.keyPem, journey.signer.kid);
  const target = (row: PassportRow): PipelineTarget => ({ row, sourceName: benchSourceName, fhirBase: PASSPORT_FHIR_BASE, publicBaseUrl: PASSPORT_PUBLIC_BASE });

  // Transfer: version 1, the record as the person leaves the home.
  const transferRow = await assertVerifies(keys, await getPassport(db, journey.firstTransfer.passportId, 1), 'transfer passport');
  const personIds = await samePersonIds(db, RESIDENT_PATIENT_ID);
  const organisation = CARE_HOME_NURSE.organisation ?? '';
  const record: Resource[] = (await db.query<{ content: string }>(`SELECT content::text AS content FROM resource WHERE patient_ids && $1::text[]`, [personIds])).rows.map((r) => JSON.parse(r.content) as Resource);
  const home = careHomeOf(record, organisation);
  if (!home) throw new Error('passport bench: the resident\'s care home is not in the record');
  // The entries the service recorded from the form: transferFormResources is deterministic in the bag id.
  const formEntries = transferFormResources(journey.form, {
    patient: { reference: `Patient/${RESIDENT_PATIENT_ID}` },
    careHome: home,
    source: careHomeSource(home.identifier?.value ?? organisation),
    transferKey: transferRow.redBagId,
    recordedBy: CARE_HOME_NURSE.displayName ?? CARE_HOME_NURSE.userId,
  }).map((r) => `${r.resourceType}/${r.id ?? ''}`);
  log(`passport: transfer, ${rate(plan.warmup)} + ${rate(plan.iterations)} rounds of pipeline and ceilings…`);
  const transfer = await measureKind(
    () => transferPipeline(db, journey.signer, target(transferRow), { patientId: RESIDENT_PATIENT_ID, careHome: organisation, formEntries }),
    (out) => ceilings.measure({ personIds, unsigned: out.unsigned, signed: out.signed, view: out.view, issuedAt: transferRow.issuedAt, publicBaseUrl: PASSPORT_PUBLIC_BASE }),
    plan,
    transferRow.version,
  );

  // The same form through the service, each call a new version (the bag has not left).
  log(`passport: issueTransfer through PassportService, ${rate(plan.warmup)} + ${rate(plan.iterations)} new versions…`);
  const issueTimes: number[] = [];
  for (let i = 0; i < plan.warmup + plan.iterations; i++) {
    const started = process.hrtime.bigint();
    await journey.service.issueTransfer({ patientId: RESIDENT_PATIENT_ID, form: journey.form, requester: CARE_HOME_NURSE, requestId: `bench-transfer-${String(i + 2)}` });
    if (i >= plan.warmup) issueTimes.push(msSince(started));
    await yieldToEventLoop();
  }
  await assertVerifies(keys, await getPassport(db, journey.firstTransfer.passportId), 'last transfer passport version');

  // Discharge: after the stay, the latest version (the discharge summary came after the discharge).
  log('passport: the hospital stay, seven HL7 messages over MLLP, the journey followed after each…');
  await journey.runHospitalStay();
  const bag = await getBag(db, journey.firstTransfer.redBagId);
  if (!bag?.encounterId) throw new Error('passport bench: the bag did not come back with a stay');
  const dischargeRow = await assertVerifies(keys, await getPassport(db, dischargePassportId(bag.id)), 'discharge passport');
  if (dischargeRow.kind !== PassportKind.DISCHARGE || dischargeRow.version !== 2) throw new Error(`passport bench: expected discharge passport version 2, got ${dischargeRow.kind} ${String(dischargeRow.version)}`);
  const dischargePersons = [...new Set([...bag.personIds, ...(await samePersonIds(db, bag.patientId))])];
  log(`passport: discharge, ${rate(plan.warmup)} + ${rate(plan.iterations)} rounds of pipeline and ceilings…`);
  const discharge = await measureKind(
    () => dischargePipeline(db, journey.signer, target(dischargeRow), bag),
    (out) => ceilings.measure({ personIds: dischargePersons, unsigned: out.unsigned, signed: out.signed, view: out.view, issuedAt: dischargeRow.issuedAt, publicBaseUrl: PASSPORT_PUBLIC_BASE }),
    plan,
    dischargeRow.version,
  );
  return { engine: 'pglite', versions: libraryVersions(), iterations: plan.iterations, warmup: plan.warmup, transfer, discharge, issueTransferThroughService: summariseTimings(issueTimes) };
}

const times = (a: number, b: number): string => (Number.isFinite(a / b) ? `${(a / b).toFixed(1)}×` : '—');

export function passportTable(r: PassportBenchResults): string {
  const rows: string[][] = [['passport', 'stage', 'p50 ms', 'p95 ms', 'max ms', 'ceiling, same passport, same run', 'ceiling p50 ms', 'ceiling p95 ms', 'stage ÷ ceiling (p50)', 'goal']];
  for (const k of [r.transfer, r.discharge]) {
    const name = `${k.kind === PassportKind.TRANSFER ? 'transfer' : 'discharge'} v${String(k.version)}`;
    const s = k.stages;
    const c = k.ceilings;
    const row = (stage: string, t: { p50Ms: number; p95Ms: number; maxMs: number } | undefined, ceiling: string, bare: { p50Ms: number; p95Ms: number } | undefined, goal = ''): string[] => [
      name,
      stage,
      t ? ms(t.p50Ms) : '',
      t ? ms(t.p95Ms) : '',
      t ? ms(t.maxMs) : '',
      ceiling,
      bare ? ms(bare.p50Ms) : '',
      bare ? ms(bare.p95Ms) : '',
      t && bare ? times(t.p50Ms, bare.p50Ms) : '',
      goal,
    ];
    rows.push(
      row('(a) load record', s.load, 'bare SELECT of the rows + JSON.parse', c.selectMs),
      row('(a) assemble document', s.assemble, '', undefined),
      row('(a) build = load + assemble', s.build, '', undefined),
      row('(b) sign (JCS, RS256, fingerprint)', s.sign, 'jose FlattenedSign RS256, same bytes', c.joseMs),
      row('', undefined, 'JCS canonicalisation once, same document', c.jcsMs),
      row('', undefined, 'JSON.stringify, same document', c.stringifyMs),
      row('(c) render HTML (view, QR SVG)', s.html, `bare HTML: ${String(k.document.textLines)} text lines escaped`, c.htmlMs),
      row('', undefined, 'not a ceiling: the QR SVG alone (qrcode)', c.qrSvgMs),
      row('(d) render PDF (QR PNG)', s.pdf, `bare pdfkit: same ${String(k.document.textLines)} lines, ${String(k.document.barePdfPages)} pp`, c.pdfMs),
      row('', undefined, 'not a ceiling: the QR PNG alone (qrcode)', c.qrPngMs),
      row('total (a)+(b)+(c)+(d)', s.total, '', undefined, `p95 < ${String(k.goal.p95TotalMs)} ms: ${k.goal.met ? 'met' : 'NOT MET'}`),
    );
    if (k.kind === PassportKind.TRANSFER) {
      const svc = r.issueTransferThroughService;
      rows.push([name.replace(/v\d+$/, `v2–${String(r.warmup + r.iterations + 1)}`), 'PassportService.issueTransfer (writes, no render)', ms(svc.p50Ms), ms(svc.p95Ms), ms(svc.maxMs), '', '', '', '', '']);
    }
  }
  const doc = (k: PassportKindResult): string =>
    `${k.kind === PassportKind.TRANSFER ? 'transfer' : 'discharge'} v${String(k.version)}: record of ${rate(k.document.recordResources)} resources; document of ${rate(k.document.entries)} entries, ${rate(k.document.canonicalBytes)} canonical bytes, ${String(k.document.sections)} sections, ${String(k.document.rows)} rows; HTML ${rate(k.document.htmlBytes)} bytes; PDF ${String(k.document.pdfPages)} pages, ${rate(k.document.pdfBytes)} bytes`;
  const versions = Object.entries(r.versions).map(([name, version]) => `${name} ${version}`).join(', ');
  return `${formatTable(rows)}\n${doc(r.transfer)}\n${doc(r.discharge)}\nLibraries: ${versions}; RSA 2048 key generated for the run.`;
}
