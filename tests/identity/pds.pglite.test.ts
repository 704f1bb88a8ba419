import type { Patient } from '@medplum/fhirtypes';
import { sourcePatient as sharedSourcePatient } from '../support/synthetic';
import pino from 'pino';
import { demoNhsNumber } from '../../gateway/demo/demo-data';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { listIdentityReviews } from '../../gateway/identity/admin';
import { GOLDEN_TAG, goldenId } from '../../gateway/identity/golden';
import { PdsClient, PdsError, type PdsLookupClient } from '../../gateway/identity/pds-client';
import { startBackgroundTrace, traceNhsNumbers } from '../../gateway/identity/pds-trace';
import { ingestResources } from '../../gateway/ingest/ingest';
import { SYSTEM_SCOPE } from '../../gateway/store/access-scope';
import { readResource } from '../../gateway/store/resource-reader';
import { Store } from '../../gateway/store/store';
import { pdsPatient, startPdsStub, type PdsStub } from '../support/pds-stub';

const TOKEN = 'stub-access-token';
const HOSPITAL = 'https://pas.example-trust.nhs.uk';
const COUNCIL = 'https://social-care.example-borough.gov.uk/carefirst';
const GP = 'https://gp.example/emis';
const BORN = '1939-05-17';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const N = {
  match: demoNhsNumber(10),
  mismatch: demoNhsNumber(11),
  unknown: demoNhsNumber(12),
  superseded: demoNhsNumber(13),
  superseding: demoNhsNumber(14),
  flaky: demoNhsNumber(15),
  restricted: demoNhsNumber(16),
  down: demoNhsNumber(17),
  invalidated: demoNhsNumber(18),
  sourceVerified: demoNhsNumber(19),
};
const INVALID = `${N.match.slice(0, 9)}${(Number(N.match[9]) + 1) % 10}`;

const T0 = new Date('2026-11-20T09:00:00Z');
const T1 = new Date('2026-11-20T10:00:00Z');
const minutesAfter = (t: Date, minutes: number): Date => new Date(t.getTime() + minutes * 60_000);

function sourcePatient(id: string, source: string, nhs: string, fields: { family?: string; birthDate?: string; verified?: boolean } = {}): Patient {
  return sharedSourcePatient(id, source, nhs, { birthDate: BORN, ...fields });
}

const PDS_RECORDS = [
  pdsPatient(N.match, { family: 'TESTPERSON', given: ['Alex'], birthDate: BORN }),
  pdsPatient(N.mismatch, { family: 'Testperson', birthDate: '1939-05-18' }),
  pdsPatient(N.superseding, { family: 'Testperson', birthDate: BORN }),
  pdsPatient(N.flaky, { family: 'Testperson', birthDate: BORN }),
  pdsPatient(N.restricted, { family: 'Testperson', given: ['Sam'], birthDate: BORN, restricted: true }),
  pdsPatient(N.sourceVerified, { family: 'Testperson', birthDate: BORN }),
];

describe('NHS number verification by PDS trace (PGlite, local PDS stub)', () => {
  let store: Store;
  let stub: PdsStub;
  let client: PdsClient;

  const openStub = async (options: Parameters<typeof startPdsStub>[0] = {}): Promise<void> => {
    await stub.close();
    stub = await startPdsStub({ patients: PDS_RECORDS, requireToken: TOKEN, ...options });
    client = new PdsClient({ baseUrl: stub.baseUrl, accessToken: TOKEN, backoffMs: 5, maxAttempts: 2, timeoutMs: 2000 });
  };
  const people = async (): Promise<string[][]> => (await store.engine.query<{ members: string[] }>('SELECT members FROM identity_person ORDER BY members[1]')).rows.map((r) => r.members);
  const traces = async (): Promise<string[][]> =>
    (await store.engine.query<{ patient_id: string; nhs_number: string; outcome: string; detail: string; traced_at: Date }>('SELECT * FROM pds_trace ORDER BY patient_id')).rows.map((r) => [
      r.patient_id,
      r.nhs_number,
      r.outcome,
      r.detail,
      r.traced_at.toISOString(),
    ]);

  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
    stub = await startPdsStub();
  });
  beforeEach(async () => {
    await store.engine.exec('TRUNCATE resource, resource_history, sp_token, sp_string, sp_date, sp_reference, sp_number, identity_person, identity_member, identity_review, identity_decision, identity_merge, pds_trace');
    await openStub({ failures: { [N.flaky]: [503], [N.down]: Array<number>(20).fill(503) }, superseded: { [N.superseded]: N.superseding }, invalidated: [N.invalidated] });
  });
  afterAll(async () => {
    await stub.close();
    await store.close();
  });

  describe('the PDS client against the stub', () => {
    test('sends the bearer token, Accept, a fresh UUID X-Request-ID per attempt and one X-Correlation-ID per lookup; 503 then 200 is retried', async () => {
      const lookup = await client.getPatient(N.flaky);
      expect(lookup.found && lookup.patient.id).toBe(N.flaky);
      const sent = stub.requestsFor(N.flaky);
      expect(sent.map((r) => [r.method, r.headers.authorization, r.headers.accept])).toEqual([
        ['GET', `Bearer ${TOKEN}`, 'application/fhir+json'],
        ['GET', `Bearer ${TOKEN}`, 'application/fhir+json'],
      ]);
      const [first, second] = sent.map((r) => r.headers);
      expect(first?.['x-request-id']).toMatch(UUID);
      expect(second?.['x-request-id']).toMatch(UUID);
      expect(first?.['x-request-id']).not.toBe(second?.['x-request-id']);
      expect(first?.['x-correlation-id']).toMatch(UUID);
      expect(second?.['x-correlation-id']).toBe(first?.['x-correlation-id']);
    });

    test('an unknown number is not found, an invalidated one says so; neither is retried', async () => {
      expect(await client.getPatient(N.unknown)).toEqual({ found: false, reason: 'unknown' });
      expect(await client.getPatient(N.invalidated)).toEqual({ found: false, reason: 'invalidated' });
      expect(stub.requests).toHaveLength(2);
    });

    test('a token provider is asked before each attempt', async () => {
      const provider = jest.fn(() => Promise.resolve(TOKEN));
      const withProvider = new PdsClient({ baseUrl: stub.baseUrl, accessToken: provider, backoffMs: 5 });
      await withProvider.getPatient(N.flaky);
      expect(provider).toHaveBeenCalledTimes(2);
      expect(stub.requestsFor(N.flaky).map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    });

    test('a refused token (401) fails at once: not retried, and marked as refusing the client', async () => {
      const wrong = new PdsClient({ baseUrl: stub.baseUrl, accessToken: 'expired', backoffMs: 5 });
      const failure = (await wrong.getPatient(N.match).catch((err: unknown) => err)) as PdsError;
      expect(failure).toBeInstanceOf(PdsError);
      expect([failure.status, failure.message, failure.refusesClient]).toEqual([401, 'HTTP 401 ACCESS_DENIED', true]);
      expect(stub.requests).toHaveLength(1);
    });

    test('an answer slower than the timeout is retried, then reported as a timeout', async () => {
      // Generous margins both ways: on a loaded machine a 50 ms timeout can pass before the retry reaches the stub at all.
      await openStub({ delays: { [N.match]: 5000 } });
      const impatient = new PdsClient({ baseUrl: stub.baseUrl, accessToken: TOKEN, timeoutMs: 500, backoffMs: 5, maxAttempts: 2 });
      await expect(impatient.getPatient(N.match)).rejects.toThrow('no answer within 500 ms (after 2 attempts)');
      expect(stub.requestsFor(N.match)).toHaveLength(2);
    });
  });

  describe('traceNhsNumbers', () => {
    const population = (): Patient[] => [
      sourcePatient('p-match', HOSPITAL, N.match),
      sourcePatient('p-mismatch', HOSPITAL, N.mismatch),
      sourcePatient('p-unknown', HOSPITAL, N.unknown),
      sourcePatient('p-superseded', HOSPITAL, N.superseded),
      sourcePatient('p-flaky', HOSPITAL, N.flaky),
      sourcePatient('p-restricted', HOSPITAL, N.restricted),
      sourcePatient('p-down', HOSPITAL, N.down),
      sourcePatient('p-invalidated', HOSPITAL, N.invalidated),
      sourcePatient('p-source-verified', GP, N.sourceVerified, { verified: true }),
      sourcePatient('p-source-verified-2', COUNCIL, N.sourceVerified, { verified: true }),
      sourcePatient('p-invalid-number', HOSPITAL, INVALID),
    ];

    test('records one outcome per record and no patient data; skips source-verified numbers, invalid numbers and person-level records', async () => {
      await ingestResources(store, population(), { now: T0 });
      // The resolver wrote a person-level record carrying the NHS number of the two linked ones: it is never traced.
      const goldens = await store.engine.query<{ id: string }>(`SELECT id FROM resource WHERE resource_type = 'Patient' AND content->'meta'->'tag' @> $1::jsonb`, [JSON.stringify([{ system: GOLDEN_TAG.system, code: GOLDEN_TAG.code }])]);
      expect(goldens.rows.map((r) => r.id)).toContain(goldenId(`nhs:${N.sourceVerified}|${BORN}`));

      const result = await traceNhsNumbers(store, client, { now: T1 });
      expect(result).toEqual({ counts: { verified: 3, mismatch: 2, 'not-found': 2, error: 1 }, reresolved: 3 });
      const at = T1.toISOString();
      expect(await traces()).toEqual([
        ['p-down', N.down, 'error', 'HTTP 503 SERVICE_UNAVAILABLE (after 2 attempts)', at],
        ['p-flaky', N.flaky, 'verified', 'number, birth date and family name match; given name matches', at],
        ['p-invalidated', N.invalidated, 'not-found', 'invalidated in PDS', at],
        ['p-match', N.match, 'verified', 'number, birth date and family name match; given name matches', at],
        ['p-mismatch', N.mismatch, 'mismatch', 'mismatch: birth-date differs', at],
        ['p-restricted', N.restricted, 'verified', 'restricted record: number, birth date and family name match', at],
        ['p-superseded', N.superseded, 'mismatch', 'superseded', at],
        ['p-unknown', N.unknown, 'not-found', 'not known to PDS', at],
      ]);
      const asked = new Set(stub.requests.map((r) => r.path.split('/').pop()));
      expect([...asked].sort()).toEqual([N.match, N.mismatch, N.unknown, N.superseded, N.flaky, N.restricted, N.down, N.invalidated].sort());
      expect(stub.requests).toHaveLength(10); // eight numbers, plus one retry each for the flaky and the down one
    });

    test('a traced record is not traced again; a failed lookup is tried again only after an hour', async () => {
      await ingestResources(store, population(), { now: T0 });
      await traceNhsNumbers(store, client, { now: T1 });
      const asked = stub.requests.length;

      expect(await traceNhsNumbers(store, client, { now: minutesAfter(T1, 1) })).toEqual({ counts: { verified: 0, mismatch: 0, 'not-found': 0, error: 0 }, reresolved: 0 });
      expect(await traceNhsNumbers(store, client, { now: minutesAfter(T1, 59) })).toEqual({ counts: { verified: 0, mismatch: 0, 'not-found': 0, error: 0 }, reresolved: 0 });
      expect(stub.requests).toHaveLength(asked);

      const later = minutesAfter(T1, 61);
      expect(await traceNhsNumbers(store, client, { now: later })).toEqual({ counts: { verified: 0, mismatch: 0, 'not-found': 0, error: 1 }, reresolved: 0 });
      expect(stub.requests.slice(asked).map((r) => r.path.split('/').pop())).toEqual([N.down, N.down]);
      expect((await traces()).find((t) => t[0] === 'p-down')).toEqual(['p-down', N.down, 'error', 'HTTP 503 SERVICE_UNAVAILABLE (after 2 attempts)', later.toISOString()]);
    });

    test('limit bounds a run, and the next run carries on where it stopped', async () => {
      await ingestResources(store, population(), { now: T0 });
      const first = await traceNhsNumbers(store, client, { now: T1, limit: 3 });
      expect(Object.values(first.counts).reduce((a, b) => a + b, 0)).toBe(3);
      expect((await traces()).map((t) => t[0])).toEqual(['p-down', 'p-flaky', 'p-invalidated']);
      await traceNhsNumbers(store, client, { now: T1, limit: 3 });
      expect((await traces()).map((t) => t[0])).toEqual(['p-down', 'p-flaky', 'p-invalidated', 'p-match', 'p-mismatch', 'p-restricted']);
    });

    test('several sources holding one number cost one PDS lookup per run', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, N.match), sourcePatient('sc-1', COUNCIL, N.match)], { now: T0 });
      expect((await traceNhsNumbers(store, client, { now: T1 })).counts.verified).toBe(2);
      expect(stub.requestsFor(N.match)).toHaveLength(1);
    });

    test('two unverified sources with one number and birth date are only a possible match until a trace verifies one: then they are one person', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, N.match)], { now: T0 });
      await ingestResources(store, [sourcePatient('sc-1', COUNCIL, N.match)], { now: T0 });
      expect(await people()).toEqual([['h-1'], ['sc-1']]);
      expect((await listIdentityReviews(store.engine)).map((r) => [r.kind, r.a.patientId, r.b.patientId])).toEqual([['possible-match', 'h-1', 'sc-1']]);

      const result = await traceNhsNumbers(store, client, { patientIds: ['h-1'], now: T1 });
      expect(result).toEqual({ counts: { verified: 1, mismatch: 0, 'not-found': 0, error: 0 }, reresolved: 1 });
      expect(await traces()).toEqual([['h-1', N.match, 'verified', 'number, birth date and family name match; given name matches', T1.toISOString()]]);
      expect(await people()).toEqual([['h-1', 'sc-1']]);
      expect(await listIdentityReviews(store.engine)).toEqual([]);
      // The person-level record says the number is verified.
      const person = await readResource(store.engine, SYSTEM_SCOPE, 'Patient', goldenId(`nhs:${N.match}|${BORN}`));
      expect(person.found && (person.resource as Patient).identifier?.[0]?.extension?.[0]?.valueCodeableConcept?.coding?.[0]?.code).toBe('01');
    });

    test('--nhs-number: only the records holding that number are traced', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, N.match), sourcePatient('h-2', HOSPITAL, N.mismatch)], { now: T0 });
      const spaced = `${N.match.slice(0, 3)} ${N.match.slice(3, 6)} ${N.match.slice(6)}`;
      expect((await traceNhsNumbers(store, client, { nhsNumber: spaced, now: T1 })).counts).toEqual({ verified: 1, mismatch: 0, 'not-found': 0, error: 0 });
      expect((await traces()).map((t) => t[0])).toEqual(['h-1']);
    });

    test('a mismatch stays a possible match; when the source corrects its record, the next trace verifies it and links', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, N.match, { family: 'Tesperson' }), sourcePatient('sc-1', COUNCIL, N.match)], { now: T0 });
      const first = await traceNhsNumbers(store, client, { patientIds: ['h-1'], now: T1 });
      expect(first.counts.mismatch).toBe(1);
      expect((await traces())[0]?.[3]).toBe('mismatch: family-name differs');
      expect(await people()).toEqual([['h-1'], ['sc-1']]);

      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, N.match)], { now: minutesAfter(T1, 10) });
      const second = await traceNhsNumbers(store, client, { patientIds: ['h-1'], now: minutesAfter(T1, 20) });
      expect(second).toEqual({ counts: { verified: 1, mismatch: 0, 'not-found': 0, error: 0 }, reresolved: 1 });
      expect(await people()).toEqual([['h-1', 'sc-1']]);
    });

    test('a verification does not outlive the data it verified: a changed record is traced again, and a mismatch unlinks it', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, N.match), sourcePatient('sc-1', COUNCIL, N.match)], { now: T0 });
      await traceNhsNumbers(store, client, { patientIds: ['h-1'], now: T1 });
      expect(await people()).toEqual([['h-1', 'sc-1']]);

      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, N.match, { family: 'Otherperson' })], { now: minutesAfter(T1, 10) });
      const retrace = await traceNhsNumbers(store, client, { patientIds: ['h-1'], now: minutesAfter(T1, 20) });
      expect(retrace).toEqual({ counts: { verified: 0, mismatch: 1, 'not-found': 0, error: 0 }, reresolved: 1 });
      expect(await people()).toEqual([['h-1'], ['sc-1']]);
    });

    test('when PDS refuses CareBridge (401) the run stops at once, records nothing and throws', async () => {
      await ingestResources(store, population(), { now: T0 });
      const refused = new PdsClient({ baseUrl: stub.baseUrl, accessToken: 'expired', backoffMs: 5 });
      await expect(traceNhsNumbers(store, refused, { now: T1 })).rejects.toThrow('HTTP 401 ACCESS_DENIED');
      expect(stub.requests).toHaveLength(1);
      expect(await traces()).toEqual([]);
    });
  });

  describe('startBackgroundTrace', () => {
    const capture = (): { lines: string[]; logger: pino.Logger } => {
      const lines: string[] = [];
      return { lines, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) };
    };
    const until = async (condition: () => Promise<boolean> | boolean): Promise<void> => {
      for (let i = 0; i < 200 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 25));
      if (!(await condition())) throw new Error('condition not met in time');
    };

    test('traces periodically and logs counts only, never a number or a name', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, N.match), sourcePatient('h-2', HOSPITAL, N.unknown)]);
      const { lines, logger } = capture();
      const stop = startBackgroundTrace(store, client, { intervalMs: 20, logger });
      await until(async () => (await traces()).length === 2);
      await stop();
      expect((await traces()).map((t) => [t[0], t[2]])).toEqual([['h-1', 'verified'], ['h-2', 'not-found']]);
      const runs = lines.map((l) => JSON.parse(l) as { msg: string; pdsTrace?: unknown });
      expect(runs.map((r) => [r.msg, r.pdsTrace])).toEqual([['PDS trace run', { verified: 1, mismatch: 0, 'not-found': 1, error: 0, reresolved: 1 }]]);
      for (const line of lines) for (const secret of [N.match, N.unknown, 'Testperson', 'Alex']) expect(line).not.toContain(secret);
      // Stopped: nothing more happens.
      const asked = stub.requests.length;
      await new Promise((r) => setTimeout(r, 80));
      expect(stub.requests).toHaveLength(asked);
    });

    test('a failing run is logged, not thrown, and the schedule goes on', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, N.match)]);
      const { lines, logger } = capture();
      const refused = new PdsClient({ baseUrl: stub.baseUrl, accessToken: 'expired', backoffMs: 5 });
      const stop = startBackgroundTrace(store, refused, { intervalMs: 10, logger });
      await until(() => lines.length >= 3);
      await stop();
      const first = JSON.parse(lines[0] as string) as { level: number; msg: string; pdsTraceError: unknown };
      expect([first.level, first.msg, first.pdsTraceError]).toEqual([50, 'PDS trace run failed', { name: 'PdsError', code: 'unauthorised', status: 401, message: 'HTTP 401 ACCESS_DENIED' }]);
    });

    test('runs never overlap, and stop waits for the run in progress', async () => {
      await ingestResources(store, [sourcePatient('h-1', HOSPITAL, N.match)]);
      let inFlight = 0;
      let maxInFlight = 0;
      let calls = 0;
      const slow: PdsLookupClient = {
        async getPatient() {
          calls++;
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, 30));
          inFlight--;
          throw new PdsError('unauthorised', 'HTTP 401 ACCESS_DENIED', false, 401);
        },
      };
      const stop = startBackgroundTrace(store, slow, { intervalMs: 1, logger: capture().logger });
      await until(() => calls >= 3);
      await stop();
      expect(inFlight).toBe(0);
      expect(maxInFlight).toBe(1);
    });

    test('refuses a non-positive interval', () => {
      expect(() => startBackgroundTrace(store, client, { intervalMs: 0, logger: capture().logger })).toThrow(RangeError);
    });
  });
});
