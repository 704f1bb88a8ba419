import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { openExtract } from '../../adapters/social-care/extract-files';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { generateSocialCareExtract, type GeneratedExtract } from '../../gateway/social-care/generator';
import { importExtract, type ImportSummary } from '../../gateway/social-care/importer';
import { createImport, ImportOrigin, ImportStatus, listIssues } from '../../gateway/social-care/imports';
import type { Store } from '../../gateway/store/store';
import { RETIRED_TAG } from '../../mappings/social-care/context';
import { writeExtract } from './write-extract';

/**
 * The importer against a real store (PGlite in the .test file, PostgreSQL in the .int.test file):
 * a messy full extract, the same again, a smaller full extract, deltas, a rejected manifest.
 */
const SOURCE = 'https://social-care.example-borough.gov.uk/carefirst';

export async function runImport(store: Store, dir: string, batchSize = 200): Promise<ImportSummary> {
  const importId = await createImport(store.engine, { origin: ImportOrigin.CLI, status: ImportStatus.RUNNING });
  const files = await openExtract(dir);
  try {
    return await importExtract(store, files, { importId, batchSize });
  } finally {
    await files.close();
  }
}

async function resourcesOf(store: Store, type: string): Promise<Resource[]> {
  const result = await store.engine.query<{ content: Resource }>(`SELECT content FROM resource WHERE resource_type = $1 AND content->'meta'->>'source' = $2 ORDER BY id`, [type, SOURCE]);
  return result.rows.map((r) => r.content);
}

async function count(store: Store, sql: string, params: unknown[] = []): Promise<number> {
  const result = await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) AS x`, params);
  return result.rows[0]?.n ?? 0;
}

const personIdOf = (p: Resource): string | undefined => (p.resourceType === 'Patient' ? p.identifier?.find((i) => i.system === `${SOURCE}/person`)?.value : undefined);
const isRetired = (r: Resource): boolean => (r.meta?.tag ?? []).some((t) => t.code === RETIRED_TAG.code);

export function importSuite(openStore: () => Promise<Store>): void {
  let store: Store;
  let work: string;

  beforeAll(async () => {
    loadFhirDefinitions();
    store = await openStore();
    work = mkdtempSync(join(tmpdir(), 'cb-social-care-'));
  });
  afterAll(async () => {
    await store.close();
    rmSync(work, { recursive: true, force: true });
  });

  describe('a messy full extract, again, then a smaller one', () => {
    let generated: GeneratedExtract;
    let first: ImportSummary;

    beforeAll(async () => {
      generated = generateSocialCareExtract({ persons: 60, out: join(work, 'full-60'), mess: true, seed: 7 });
      first = await runImport(store, generated.dir);
    });

    test('imports every person and reports every rejected and altered row with file, line and column', async () => {
      expect(first.status).toBe('done');
      expect(first.tables['persons.csv']).toEqual({ rows: 60, accepted: 60, rejected: 0, duplicates: 0, deleted: 0 });
      expect(first.tables['alerts.csv']?.rejected).toBe(generated.mess.unknownPersons);
      expect(first.tables['assessments.csv']?.duplicates).toBe(generated.mess.duplicateRows);
      const patients = await resourcesOf(store, 'Patient');
      expect(patients.map(personIdOf).sort()).toEqual(Array.from({ length: 60 }, (_, i) => String(100000 + i)));
      const issues = await listIssues(store.engine, first.importId, 0, 10_000);
      expect(issues.length).toBe(first.issues.error + first.issues.warning + first.issues.information);
      for (const issue of issues) {
        expect(issue.file).toMatch(/\.csv$/);
        expect(issue.line).toBeGreaterThanOrEqual(1);
        expect(issue.reason.length).toBeGreaterThan(10);
      }
      const byCode = (code: string): number => issues.filter((i) => i.code === code).length;
      expect(issues.filter((i) => i.code === 'unknown-person' && i.severity === 'error')).toHaveLength(generated.mess.unknownPersons);
      expect(byCode('duplicate-row')).toBe(generated.mess.duplicateRows);
      expect(byCode('nhs-number-invalid')).toBe(generated.mess.nhsNumberInvalid);
      expect(byCode('nhs-number-format')).toBe(generated.mess.nhsNumberFormatted);
      // Both records of each shared number are reported.
      expect(byCode('nhs-number-shared')).toBe(2 * generated.mess.nhsNumberShared);
      expect(byCode('two-digit-year')).toBe(generated.mess.twoDigitYears);
      expect(byCode('future-date')).toBe(generated.mess.futureBirths);
      expect(issues.filter((i) => i.code === 'invalid-date' && i.column === 'DATE_OF_BIRTH')).toHaveLength(generated.mess.impossibleDates);
      expect(byCode('unknown-column')).toBe(1);
      expect(issues.every((i) => i.column === undefined || /^[A-Z0-9_]+$/.test(i.column))).toBe(true);
    });

    test('the same NHS number on two PERSON_IDs ends as an identity conflict, neither linked', async () => {
      const patients = await resourcesOf(store, 'Patient');
      const byNumber = new Map<string, string[]>();
      for (const p of patients) {
        if (p.resourceType !== 'Patient') continue;
        const nhs = p.identifier?.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value;
        if (nhs) byNumber.set(nhs, [...(byNumber.get(nhs) ?? []), p.id as string]);
      }
      const shared = [...byNumber.values()].filter((ids) => ids.length === 2);
      expect(shared).toHaveLength(generated.mess.nhsNumberShared);
      for (const [a, b] of shared) {
        const reviews = await store.engine.query<{ kind: string }>(`SELECT kind FROM identity_review WHERE status = 'open' AND ((a = $1 AND b = $2) OR (a = $2 AND b = $1))`, [a, b]);
        expect(reviews.rows.map((r) => r.kind)).toEqual(['conflict-same-source']);
        const linked = await store.engine.query<{ person_key: string }>('SELECT person_key FROM identity_member WHERE patient_id = ANY($1::text[])', [[a, b]]);
        expect(new Set(linked.rows.map((r) => r.person_key)).size).toBe(2);
      }
    });

    test('safeguarding, domestic abuse and key-safe alerts are very restricted in the store', async () => {
      const flags = await resourcesOf(store, 'Flag');
      expect(flags.length).toBeGreaterThan(0);
      for (const f of flags) {
        if (f.resourceType !== 'Flag') continue;
        const code = f.code.coding?.[0]?.code ?? '';
        const level = f.meta?.security?.[0]?.code;
        if (['SAFEGUARDING', 'DOMESTIC_ABUSE', 'KEY_SAFE', 'KEYSAFE_CODE'].includes(code)) expect(level).toBe('V');
      }
      const restricted = await store.engine.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM resource WHERE resource_type = 'Flag' AND 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V' = ANY(security)`,
      );
      expect(restricted.rows[0]?.n).toBe(flags.filter((f) => f.resourceType === 'Flag' && ['SAFEGUARDING', 'DOMESTIC_ABUSE', 'KEY_SAFE', 'KEYSAFE_CODE'].includes(f.code.coding?.[0]?.code ?? '')).length);
    });

    test('importing the same extract again makes no new version of anything', async () => {
      const versionsBefore = await count(store, 'SELECT 1 FROM resource_history');
      const again = await runImport(store, generated.dir);
      expect(again.status).toBe('done');
      expect(again.resources.changed).toBe(0);
      expect(again.resources.written).toBe(first.resources.written);
      expect(await count(store, 'SELECT 1 FROM resource_history')).toBe(versionsBefore);
    });

    test('a later, smaller full extract retires the people and records it no longer holds: ended, kept, history intact', async () => {
      const resourcesBefore = await count(store, 'SELECT 1 FROM resource');
      const smaller = generateSocialCareExtract({ persons: 45, out: join(work, 'full-45'), mess: true, seed: 7, extractedAt: '2026-11-27T02:00:00Z' });
      const summary = await runImport(store, smaller.dir);
      expect(summary.status).toBe('done');
      expect(summary.retiredRows).toBeGreaterThan(15);
      // Nothing deleted: the same resources (plus any new Provenance) are there.
      expect(await count(store, 'SELECT 1 FROM resource')).toBeGreaterThanOrEqual(resourcesBefore);
      const patients = await resourcesOf(store, 'Patient');
      for (const p of patients) {
        if (p.resourceType !== 'Patient') continue;
        const gone = Number(personIdOf(p)) >= 100045;
        expect({ person: personIdOf(p), active: p.active, retired: isRetired(p) }).toEqual({ person: personIdOf(p), active: !gone, retired: gone });
        if (gone) {
          const history = await store.engine.query<{ v: string; active: boolean }>(`SELECT version_id::text AS v, (content->>'active')::boolean AS active FROM resource_history WHERE resource_type = 'Patient' AND id = $1 ORDER BY version_id`, [p.id]);
          expect(history.rows.map((h) => h.active)).toEqual([true, false]);
        }
      }
      // The retired people's care teams are inactive, their cases finished, their alerts inactive.
      const retiredIds = new Set(patients.filter((p) => Number(personIdOf(p)) >= 100045).map((p) => `Patient/${p.id ?? ''}`));
      for (const t of await resourcesOf(store, 'CareTeam')) if (t.resourceType === 'CareTeam' && retiredIds.has(t.subject?.reference ?? '')) expect(t.status).toBe('inactive');
      for (const e of await resourcesOf(store, 'EpisodeOfCare')) if (e.resourceType === 'EpisodeOfCare' && retiredIds.has(e.patient.reference ?? '')) expect(e.status).toBe('finished');
      for (const f of await resourcesOf(store, 'Flag')) if (f.resourceType === 'Flag' && retiredIds.has(f.subject.reference ?? '')) expect(f.status).toBe('inactive');
      // The rows are kept, retired, never deleted.
      expect(await count(store, `SELECT 1 FROM social_care_record WHERE tbl = 'persons' AND retired_on IS NOT NULL`)).toBe(15);
      expect(await count(store, `SELECT 1 FROM social_care_record WHERE tbl = 'persons'`)).toBe(60);
    });
  });

  describe('deltas', () => {
    const source = 'https://social-care.delta-borough.gov.uk/carefirst';
    const person = (id: string, surname: string, status?: string): Record<string, string> => ({
      PERSON_ID: id,
      NHS_NUMBER: '',
      SURNAME: surname,
      FORENAME: 'Alex',
      DATE_OF_BIRTH: '01/02/1940',
      ...(status ? { RECORD_STATUS: status } : {}),
    });
    const service = (id: string, personId: string, type: string, status?: string): Record<string, string> => ({
      SERVICE_ID: id,
      PERSON_ID: personId,
      SERVICE_TYPE: type,
      START_DATE: '01/01/2026',
      QUANTITY: '7',
      UNIT: 'HOURS_PER_WEEK',
      STATUS: 'ACTIVE',
      ...(status ? { RECORD_STATUS: status } : {}),
    });
    const bySource = async (type: string): Promise<Resource[]> => {
      const result = await store.engine.query<{ content: Resource }>(`SELECT content FROM resource WHERE resource_type = $1 AND content->'meta'->>'source' = $2 ORDER BY id`, [type, source]);
      return result.rows.map((r) => r.content);
    };

    test('A adds, U updates, D retires; a care package follows its services; rows for unknown people are rejected', async () => {
      const base = writeExtract(
        {
          'persons.csv': [person('1', 'Testperson'), person('2', 'Example')],
          'services.csv': [service('S1', '1', 'HOME_CARE'), service('S2', '1', 'MEALS')],
          'alerts.csv': [{ ALERT_ID: 'AL1', PERSON_ID: '2', ALERT_TYPE: 'FALLS_RISK', START_DATE: '01/01/2026', SENSITIVE: 'N' }],
        },
        { source, dir: join(work, 'delta-base') },
      );
      expect((await runImport(store, base)).status).toBe('done');
      const delta = writeExtract(
        {
          'persons.csv': [person('2', 'Renamed', 'U'), person('3', 'Newperson', 'A')],
          'services.csv': [{ SERVICE_ID: 'S2', PERSON_ID: '1', RECORD_STATUS: 'D' }, service('S3', '3', 'TELECARE', 'A')],
          'alerts.csv': [
            { ALERT_ID: 'AL1', PERSON_ID: '2', RECORD_STATUS: 'D' },
            { ALERT_ID: 'AL2', PERSON_ID: '3', ALERT_TYPE: 'SAFEGUARDING', START_DATE: '01/11/2026', SENSITIVE: 'N', RECORD_STATUS: 'A' },
            { ALERT_ID: 'AL3', PERSON_ID: '99', ALERT_TYPE: 'FIRE_RISK', RECORD_STATUS: 'A' },
          ],
        },
        { source, type: 'delta', extractedAt: '2026-11-21T02:00:00Z', dir: join(work, 'delta-1') },
      );
      const summary = await runImport(store, delta);
      expect(summary.status).toBe('done');
      expect(summary.tables['alerts.csv']).toEqual({ rows: 3, accepted: 1, rejected: 1, duplicates: 0, deleted: 1 });
      // A delta retires nothing it does not name: person 1 and S1 stay current.
      const patients = await bySource('Patient');
      const names = Object.fromEntries(patients.map((p) => [personIdOfSource(p, source), p.resourceType === 'Patient' ? [p.name?.[0]?.family, p.active] : []]));
      expect(names).toEqual({ '1': ['Testperson', true], '2': ['Renamed', true], '3': ['Newperson', true] });
      const plans = await bySource('CarePlan');
      const packageOf = (pid: string): Resource | undefined => plans.find((p) => p.resourceType === 'CarePlan' && p.subject.identifier?.value === pid);
      const pkg1 = packageOf('1');
      expect(pkg1?.resourceType === 'CarePlan' && pkg1.activity?.map((a) => [a.detail?.code?.coding?.[0]?.code, a.detail?.status])).toEqual([
        ['HOME_CARE', 'in-progress'],
        ['MEALS', 'stopped'],
      ]);
      expect(pkg1?.resourceType === 'CarePlan' && pkg1.status).toBe('active');
      const pkg3 = packageOf('3');
      expect(pkg3?.resourceType === 'CarePlan' && pkg3.activity?.map((a) => a.detail?.code?.coding?.[0]?.code)).toEqual(['TELECARE']);
      const flags = await bySource('Flag');
      const flag = (id: string): Resource | undefined => flags.find((f) => f.resourceType === 'Flag' && f.identifier?.[0]?.value === id);
      const al1 = flag('AL1');
      // The D row carried only ids: the flag is retired from what was last sent (type kept).
      expect(al1?.resourceType === 'Flag' && [al1.status, al1.code.coding?.[0]?.code, al1.period?.end, isRetired(al1)]).toEqual(['inactive', 'FALLS_RISK', '2026-11-21', true]);
      const al2 = flag('AL2');
      expect(al2?.meta?.security?.map((s) => s.code)).toEqual(['V', 'safeguarding']);
      expect(flag('AL3')).toBeUndefined();
    });

    test('a delta that deletes a person retires the person and everything recorded about them', async () => {
      const delta = writeExtract({ 'persons.csv': [person('1', 'Testperson', 'D')] }, { source, type: 'delta', extractedAt: '2026-11-22T02:00:00Z', dir: join(work, 'delta-person-d') });
      const summary = await runImport(store, delta);
      expect(summary.tables['persons.csv']).toEqual({ rows: 1, accepted: 0, rejected: 0, duplicates: 0, deleted: 1 });
      const patient = (await bySource('Patient')).find((p) => personIdOfSource(p, source) === '1');
      expect(patient?.resourceType === 'Patient' && [patient.active, isRetired(patient), patient.name?.[0]?.family]).toEqual([false, true, 'Testperson']);
      const pkg = (await bySource('CarePlan')).find((p) => p.resourceType === 'CarePlan' && p.subject.identifier?.value === '1');
      expect(pkg?.resourceType === 'CarePlan' && [pkg.status, pkg.activity?.map((a) => a.detail?.status)]).toEqual(['revoked', ['stopped', 'stopped']]);
      expect(await count(store, `SELECT 1 FROM social_care_record WHERE source = $1 AND person_id = '1' AND retired_on IS NULL`, [source])).toBe(0);
    });

    test('a delta row without RECORD_STATUS is rejected and reported', async () => {
      const delta = writeExtract(
        { 'alerts.csv': [{ ALERT_ID: 'AL9', PERSON_ID: '1', ALERT_TYPE: 'FIRE_RISK' }], 'persons.csv': [person('1', 'Testperson', 'U')] },
        { source, type: 'delta', dir: join(work, 'delta-2') },
      );
      const summary = await runImport(store, delta);
      expect(summary.tables['alerts.csv']?.rejected).toBe(1);
      const issues = await listIssues(store.engine, summary.importId, 0, 100);
      expect(issues).toEqual([expect.objectContaining({ file: 'alerts.csv', line: 2, column: 'RECORD_STATUS', severity: 'error', code: 'invalid-record-status' })]);
    });
  });

  test('an import that fails part way, run again under the same id (a worker that lost its lease), ends as if it had run once', async () => {
    const source = 'https://social-care.retry-borough.example/carefirst';
    const generated = generateSocialCareExtract({ persons: 40, out: join(work, 'retry-40'), mess: true, seed: 5, sourceSystemUri: source, councilCode: 'E09000033', councilName: 'Retry Borough Council' });
    const importId = await createImport(store.engine, { origin: ImportOrigin.CLI, status: ImportStatus.RUNNING });
    // The third write transaction fails: the first two batches (resources and kept rows) are committed.
    let transactions = 0;
    const failing = Object.create(store.engine, {
      transaction: { value: <T>(fn: (tx: never) => Promise<T>): Promise<T> => (++transactions === 3 ? Promise.reject(new Error('connection lost')) : store.engine.transaction(fn as never)) },
    }) as Store['engine'];
    const files = await openExtract(generated.dir);
    await expect(importExtract(Object.create(store, { engine: { value: failing } }) as Store, files, { importId, batchSize: 50 })).rejects.toThrow('connection lost');
    await files.close();
    const keptAfterFailure = await count(store, 'SELECT 1 FROM social_care_record WHERE source = $1', [source]);
    expect(keptAfterFailure).toBeGreaterThan(0);
    const retried = await importExtract(store, await openExtract(generated.dir), { importId, batchSize: 50 });
    expect(retried.status).toBe('done');
    const ofSource = `FROM resource WHERE content->'meta'->>'source' = $1`;
    const resources = await count(store, `SELECT 1 ${ofSource}`, [source]);
    expect(resources).toBeGreaterThan(40);
    // Nothing written twice with different content: every resource of the source is at version 1
    // (its own council: the suite's other extracts share theirs, written by an earlier test).
    expect(await count(store, `SELECT 1 ${ofSource} AND version_id = 1`, [source])).toBe(resources);
    const accepted = Object.values(retried.tables).reduce((n, t) => n + t.accepted, 0);
    expect(await count(store, 'SELECT 1 FROM social_care_record WHERE source = $1 AND last_import = $2::bigint AND retired_on IS NULL', [source, importId])).toBe(accepted);
    const issues = await listIssues(store.engine, importId, 0, 10_000);
    expect(issues.length).toBe(retried.issues.error + retried.issues.warning + retried.issues.information);
    const again = await runImport(store, generated.dir, 50);
    expect(again.resources.changed).toBe(0);
    expect(again.resources.written).toBe(retried.resources.written);
  });

  test('a manifest that does not match the files rejects the whole extract and writes nothing', async () => {
    const source = 'https://social-care.rejected-borough.gov.uk/carefirst';
    const dir = writeExtract({ 'persons.csv': [{ PERSON_ID: '1', SURNAME: 'Testperson' }], 'alerts.csv': [{ ALERT_ID: 'A', PERSON_ID: '1' }] }, { source, dir: join(work, 'reject') });
    // One more row in persons.csv than the manifest says.
    const { appendFileSync } = await import('node:fs');
    appendFileSync(join(dir, 'persons.csv'), '2,Example\n');
    const resourcesBefore = await count(store, 'SELECT 1 FROM resource');
    const summary = await runImport(store, dir);
    expect(summary.status).toBe('rejected');
    expect(summary.problems?.some((p) => p.startsWith('persons.csv: sha256 is'))).toBe(true);
    expect(summary.problems?.some((p) => p === 'persons.csv: 2 data rows, the manifest says 1')).toBe(true);
    expect(await count(store, 'SELECT 1 FROM resource')).toBe(resourcesBefore);
    expect(await count(store, 'SELECT 1 FROM social_care_record WHERE source = $1', [source])).toBe(0);
    const row = await store.engine.query<{ status: string }>('SELECT status FROM social_care_import WHERE id = $1::bigint', [summary.importId]);
    expect(row.rows[0]?.status).toBe('rejected');
  });
}

function personIdOfSource(p: Resource, source: string): string | undefined {
  return p.resourceType === 'Patient' ? p.identifier?.find((i) => i.system === `${source}/person`)?.value : undefined;
}
