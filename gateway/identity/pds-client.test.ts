import type { HumanName, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';
import { demoNhsNumber } from '../demo/demo-data';
import { comparePdsPatient, loadPdsConfig, PdsClient, PdsError } from './pds-client';

const NHS = demoNhsNumber(1);
const OTHER = demoNhsNumber(2);

function source(fields: { nhs?: string; birthDate?: string; names?: HumanName[] } = {}): Patient {
  return {
    resourceType: 'Patient',
    id: 'h-1',
    meta: { source: 'https://pas.example-trust.nhs.uk' },
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: fields.nhs ?? NHS }],
    name: fields.names ?? [{ use: 'official', family: 'Ólafsdóttir', given: ['Ásta'] }],
    birthDate: 'birthDate' in fields ? fields.birthDate : '1941-03-02',
  };
}

function pds(fields: { id?: string; nhs?: string; birthDate?: string; names?: HumanName[]; security?: string } = {}): Patient {
  return {
    resourceType: 'Patient',
    id: fields.id ?? NHS,
    meta: { versionId: '3', security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: fields.security ?? 'U' }] },
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: fields.nhs ?? fields.id ?? NHS }],
    name: fields.names ?? [{ use: 'usual', family: 'OLAFSDOTTIR', given: ['Asta'] }],
    birthDate: 'birthDate' in fields ? fields.birthDate : '1941-03-02',
  };
}

describe('comparePdsPatient', () => {
  const cases: [string, Patient, Patient, string, string][] = [
    ['number, birth date and family name agree, ignoring case and accents', source(), pds(), 'verified', 'number, birth date and family name match; given name matches'],
    ['a source number written with spaces is the same number', source({ nhs: `${NHS.slice(0, 3)} ${NHS.slice(3, 6)} ${NHS.slice(6)}` }), pds(), 'verified', 'number, birth date and family name match; given name matches'],
    ['a different given name supports nothing but does not decide', source({ names: [{ family: 'Olafsdottir', given: ['Bea'] }] }), pds(), 'verified', 'number, birth date and family name match; given name differs'],
    ['no given name on one side is not compared', source({ names: [{ family: 'Olafsdottir' }] }), pds(), 'verified', 'number, birth date and family name match; given name not compared'],
    ['a second current family name in PDS can match', source({ names: [{ family: 'Jones' }] }), pds({ names: [{ use: 'usual', family: 'Olafsdottir' }, { use: 'official', family: 'JONES' }] }), 'verified', 'number, birth date and family name match; given name not compared'],
    ['a different birth date', source({ birthDate: '1941-03-20' }), pds(), 'mismatch', 'mismatch: birth-date differs'],
    ['no birth date in the source', source({ birthDate: undefined }), pds(), 'mismatch', 'mismatch: birth-date missing in source'],
    ['no birth date in PDS', source(), pds({ birthDate: undefined }), 'mismatch', 'mismatch: birth-date missing in PDS'],
    ['a different family name', source({ names: [{ family: 'Smith', given: ['Asta'] }] }), pds(), 'mismatch', 'mismatch: family-name differs'],
    ['a family name PDS holds only as a previous name', source({ names: [{ family: 'Jones' }] }), pds({ names: [{ use: 'usual', family: 'Olafsdottir' }, { use: 'old', family: 'Jones' }] }), 'mismatch', 'mismatch: family-name matches only a previous or other name'],
    ['the source holds only a maiden name', source({ names: [{ use: 'maiden', family: 'Olafsdottir' }] }), pds(), 'mismatch', 'mismatch: family-name matches only a previous or other name'],
    ['no family name in the source', source({ names: [{ given: ['Asta'] }] }), pds(), 'mismatch', 'mismatch: family-name missing in source'],
    ['birth date and family name both differ: both named', source({ birthDate: '1950-01-01', names: [{ family: 'Smith' }] }), pds(), 'mismatch', 'mismatch: birth-date differs; family-name differs'],
    ['PDS answers with another id: the number was superseded', source(), pds({ id: OTHER }), 'mismatch', 'superseded'],
    ['PDS identifier disagrees with its id', source(), pds({ nhs: OTHER }), 'mismatch', 'mismatch: nhs-number differs'],
    ['a restricted record that matches is verified, saying nothing more', source({ names: [{ family: 'Olafsdottir', given: ['Bea'] }] }), pds({ security: 'R' }), 'verified', 'restricted record: number, birth date and family name match'],
    ['a restricted record that does not match says only that', source({ birthDate: '1941-03-20' }), pds({ security: 'R' }), 'mismatch', 'restricted record: does not match'],
    ['a very restricted record is treated as restricted', source(), pds({ security: 'V' }), 'verified', 'restricted record: number, birth date and family name match'],
  ];

  test.each(cases)('%s', (_name, sourcePatient, pdsPatient, outcome, detail) => {
    expect(comparePdsPatient(sourcePatient, pdsPatient)).toEqual({ outcome, detail });
  });

  test('the detail never carries a value from either side', () => {
    const s = source({ birthDate: '1950-01-01', names: [{ family: 'Smith', given: ['Zed'] }] });
    const { detail } = comparePdsPatient(s, pds());
    for (const value of [NHS, '1950', '1941', 'smith', 'olafs', 'zed', 'asta']) expect(detail.toLowerCase()).not.toContain(value);
  });
});

describe('loadPdsConfig', () => {
  test('no PDS_BASE_URL means no PDS configured', () => {
    expect(loadPdsConfig({})).toBeUndefined();
  });

  test('reads the base URL (without a trailing slash), the token and the interval', () => {
    expect(loadPdsConfig({ PDS_BASE_URL: 'https://int.api.service.nhs.uk/personal-demographics/FHIR/R4/', PDS_ACCESS_TOKEN: 'tok', PDS_TRACE_INTERVAL_SECONDS: '30' })).toEqual({
      baseUrl: 'https://int.api.service.nhs.uk/personal-demographics/FHIR/R4',
      accessToken: 'tok',
      traceIntervalMs: 30_000,
    });
    expect(loadPdsConfig({ PDS_BASE_URL: 'http://127.0.0.1:9000' })?.traceIntervalMs).toBe(600_000);
  });

  test('a malformed URL or interval is refused with the variable named', () => {
    expect(() => loadPdsConfig({ PDS_BASE_URL: 'pds.local' })).toThrow('PDS_BASE_URL must be an http(s) URL');
    expect(() => loadPdsConfig({ PDS_BASE_URL: 'http://pds.local', PDS_TRACE_INTERVAL_SECONDS: 'often' })).toThrow(/PDS_TRACE_INTERVAL_SECONDS must be a whole number/);
  });
});

describe('PdsClient retry policy', () => {
  const response = (status: number, body: unknown, headers: Record<string, string> = {}): Response => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/fhir+json', ...headers } });

  test('honours Retry-After up to the ceiling and gives up after the bounded number of attempts', async () => {
    const waits: number[] = [];
    const fetchFn = jest.fn(() => Promise.resolve(response(429, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled', details: { coding: [{ code: 'TOO_MANY_REQUESTS' }] } }] }, { 'Retry-After': '60' })));
    const client = new PdsClient({ baseUrl: 'http://pds.test/FHIR/R4', fetch: fetchFn, maxAttempts: 4, backoffMs: 100, maxBackoffMs: 5000, sleep: (ms) => { waits.push(ms); return Promise.resolve(); } });
    const failure = await client.getPatient(NHS).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PdsError);
    expect((failure as PdsError).message).toBe('HTTP 429 TOO_MANY_REQUESTS (after 4 attempts)');
    expect((failure as PdsError).status).toBe(429);
    expect(fetchFn).toHaveBeenCalledTimes(4);
    expect(waits).toEqual([5000, 5000, 5000]);
  });

  test('backoff doubles between attempts, with jitter inside each step', async () => {
    const waits: number[] = [];
    const fetchFn = jest.fn(() => Promise.resolve(response(502, {})));
    const client = new PdsClient({ baseUrl: 'http://pds.test', fetch: fetchFn, maxAttempts: 4, backoffMs: 100, sleep: (ms) => { waits.push(ms); return Promise.resolve(); } });
    await expect(client.getPatient(NHS)).rejects.toThrow('HTTP 502 (after 4 attempts)');
    expect(waits).toHaveLength(3);
    expect(waits[0]).toBeGreaterThanOrEqual(50);
    expect(waits[0]).toBeLessThanOrEqual(100);
    expect(waits[1]).toBeGreaterThanOrEqual(100);
    expect(waits[1]).toBeLessThanOrEqual(200);
    expect(waits[2]).toBeGreaterThanOrEqual(200);
    expect(waits[2]).toBeLessThanOrEqual(400);
  });

  test('a 400 is not retried, and a token provider failure never reaches PDS', async () => {
    const fetchFn = jest.fn(() => Promise.resolve(response(400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'value', details: { coding: [{ code: 'INVALID_RESOURCE_ID' }] } }] })));
    const client = new PdsClient({ baseUrl: 'http://pds.test', fetch: fetchFn, sleep: () => Promise.resolve() });
    await expect(client.getPatient(NHS)).rejects.toThrow('HTTP 400 INVALID_RESOURCE_ID');
    expect(fetchFn).toHaveBeenCalledTimes(1);

    const noToken = new PdsClient({ baseUrl: 'http://pds.test', fetch: fetchFn, accessToken: () => Promise.reject(new Error('key file missing')) });
    const failure = (await noToken.getPatient(NHS).catch((err: unknown) => err)) as PdsError;
    expect([failure.code, failure.message, failure.refusesClient]).toEqual(['token', 'the access token provider failed', true]);
    expect(fetchFn).toHaveBeenCalledTimes(1);
  });

  test('refuses to look up something that is not an NHS number, without a request', async () => {
    const fetchFn = jest.fn(() => Promise.resolve(response(200, {})));
    const client = new PdsClient({ baseUrl: 'http://pds.test', fetch: fetchFn });
    await expect(client.getPatient('../metadata')).rejects.toThrow('not a ten-digit NHS number');
    expect(fetchFn).not.toHaveBeenCalled();
  });
});
