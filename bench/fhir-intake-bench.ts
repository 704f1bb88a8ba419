import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { demoNhsNumber } from '../gateway/demo/demo-data';
import { FhirIntake, type SendingSystem } from '../gateway/fhir-intake/intake';
import { prepareBundle } from '../gateway/fhir-intake/prepare';
import { documentResources } from '../gateway/fhir-intake/document';
import { loadFhirDefinitions } from '../gateway/fhir/definitions';
import { createLogger } from '../gateway/logger';
import { validateIncoming } from '../gateway/validation/uk-core';
import { pgliteStores, postgresStores, type BenchStores } from './bench-stores';
import { machineInfo } from './machine';
import { msSince } from './stats';
import { formatTable, percent, rate } from './table';

/**
 * POST /intake/fhir's path without HTTP, against the bare store.upsert of the same resources in
 * the same run: N synthetic eDischarge documents (the fixture's 9 entries with a fresh identifier,
 * fullUrls and NHS number each, so every one writes new resources; 11 resources stored per
 * document with the document Bundle and its DocumentReference, plus a Provenance). The intake
 * path is parse, R4 + UK Core validation of every entry, reference rewriting, inbox commit, upsert
 * and identity resolution; the ceiling is the upsert alone of what the intake prepared. The
 * validation alone is timed too, to say where the difference goes.
 *
 * `npx tsx bench/fhir-intake-bench.ts` (BENCH_FHIR_DOCUMENTS, default 300; PostgreSQL too when
 * DATABASE_URL is set, in throw-away schemas).
 */

const SYSTEM: SendingSystem = { system: 'bench-edischarge', sourceUri: 'https://edischarge.bench.example.org' };

export interface FhirIntakeResult {
  readonly engine: string;
  readonly documents: number;
  readonly resourcesPerDocument: number;
  readonly intake: { readonly ms: number; readonly documentsPerSecond: number; readonly resourcesPerSecond: number };
  readonly bareUpsert: { readonly ms: number; readonly documentsPerSecond: number; readonly resourcesPerSecond: number };
  readonly validationMs: number;
}

/** N distinct documents from the eDischarge fixture. */
export function syntheticDocuments(n: number): Buffer[] {
  const template = JSON.parse(readFileSync(join(__dirname, '../tests/fixtures/fhir-intake/document-edischarge.json'), 'utf8')) as Bundle;
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    let text = JSON.stringify(template).replace(/urn:uuid:0000aaaa-1111-4222-8333-/g, `urn:uuid:${(0x10000000 + i).toString(16)}-1111-4222-8333-`);
    text = text.replace('DS-2026-0001842', `DS-BENCH-${String(i)}`);
    const bundle = JSON.parse(text) as Bundle;
    const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
    const identifier = patient.identifier?.[0];
    if (identifier) identifier.value = demoNhsNumber(5000 + i);
    out.push(Buffer.from(JSON.stringify(bundle)));
  }
  return out;
}

export async function benchFhirIntake(stores: BenchStores, documents: number): Promise<{ table: string; result: FhirIntakeResult }> {
  loadFhirDefinitions();
  const inputs = syntheticDocuments(documents);
  const intakeStore = await stores.fresh('fhir-intake');
  const bareStore = await stores.fresh('fhir-bare');
  // What the intake writes, prepared untimed for the bare path.
  const prepared: Resource[][] = inputs.map((raw) => {
    const result = prepareBundle(JSON.parse(raw.toString('utf8')), { sourceUri: SYSTEM.sourceUri, stored: new Set(), sensitivitiesOf: () => [] });
    if (!result.ok) throw new Error('bench document does not validate');
    const document = documentResources(result.prepared, SYSTEM.sourceUri);
    return [...result.prepared.resources, document.bundle, document.documentReference];
  });
  const resourcesPerDocument = prepared[0]?.length ?? 0;

  // Warm both paths (definitions, profile compilation, statement plans) on one extra document each.
  const intake = new FhirIntake({ store: intakeStore, logger: createLogger('silent') });
  const [warm] = syntheticDocuments(1);
  if (warm) await intake.receive(warm, { ...SYSTEM, sourceUri: `${SYSTEM.sourceUri}/warm` });
  await bareStore.upsert([{ resourceType: 'Basic', id: 'warm', code: { text: 'warm-up' } }]);

  const validationStart = process.hrtime.bigint();
  for (const resources of prepared) for (const r of resources.slice(0, resourcesPerDocument - 2)) validateIncoming(r);
  const validationMs = msSince(validationStart);

  const intakeStart = process.hrtime.bigint();
  for (const raw of inputs) {
    const answer = await intake.receive(raw, SYSTEM);
    if (answer.status !== 200) throw new Error(`intake answered ${String(answer.status)}`);
  }
  const intakeMs = msSince(intakeStart);

  const bareStart = process.hrtime.bigint();
  for (const resources of prepared) await bareStore.upsert(resources);
  const bareMs = msSince(bareStart);

  const per = (totalMs: number): { ms: number; documentsPerSecond: number; resourcesPerSecond: number } => ({
    ms: totalMs,
    documentsPerSecond: (documents * 1000) / totalMs,
    resourcesPerSecond: (documents * resourcesPerDocument * 1000) / totalMs,
  });
  const result: FhirIntakeResult = { engine: stores.engine, documents, resourcesPerDocument, intake: per(intakeMs), bareUpsert: per(bareMs), validationMs };
  const table = formatTable([
    ['engine', 'path', 'documents/s', 'resources/s', 'share of bare upsert'],
    [stores.engine, 'POST /intake/fhir path', rate(result.intake.documentsPerSecond), rate(result.intake.resourcesPerSecond), percent(result.intake.documentsPerSecond / result.bareUpsert.documentsPerSecond)],
    [stores.engine, 'bare store.upsert', rate(result.bareUpsert.documentsPerSecond), rate(result.bareUpsert.resourcesPerSecond), '100%'],
    [stores.engine, 'validation alone (R4 + UK Core)', rate((documents * 1000) / validationMs), rate((documents * (resourcesPerDocument - 2) * 1000) / validationMs), '—'],
  ]);
  return { table, result };
}

if (require.main === module) {
  void (async () => {
    const documents = Number(process.env['BENCH_FHIR_DOCUMENTS'] ?? 300);
    const dir = mkdtempSync(join(tmpdir(), 'carebridge-fhir-bench-'));
    const engines: BenchStores[] = [pgliteStores(dir)];
    const url = process.env['DATABASE_URL'];
    if (url) engines.push(postgresStores(url));
    const machine = machineInfo();
    process.stdout.write(`${machine.cpuModel}, ${String(machine.cores)} cores, ${String(machine.memoryGiB)} GiB, Node ${machine.node}, ${machine.pglite}\n`);
    try {
      for (const stores of engines) {
        const { table, result } = await benchFhirIntake(stores, documents);
        process.stdout.write(`\n${table}\n${JSON.stringify(result)}\n`);
        await stores.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
}
