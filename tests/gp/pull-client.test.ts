import type { AllergyIntolerance } from '@medplum/fhirtypes';
import { fetchAndImport } from '../../gateway/cli/gp-command';
import { ConfigError } from '../../gateway/config';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { GpConnectClient, GpConnectError, loadGpConnectConfig, type GpConnectConfig } from '../../gateway/gp/pull-client';
import { Store } from '../../gateway/store/store';
import { gpFixtureBytes } from './fixtures';
import { storedByIdentifier } from './gp-support';
import { GpConnectProviderStub } from './provider-stub';

/** The pull client against a local provider stub serving recorded (synthetic) bundles over HTTP. */
const ALLERGY_NHS = '9990200009';
const OTHER_PRACTICE_NHS = '9990200378';

const env = (baseUrl: string): NodeJS.ProcessEnv => ({
  GP_CONNECT_BASE_URL: baseUrl,
  GP_CONNECT_ODS_CODE: 'Y00123',
  GP_CONNECT_FROM_ASID: '200000000115',
  GP_CONNECT_TO_ASID: '200000000116',
  GP_CONNECT_CONSUMER_ODS_CODE: 'RZZ01',
  GP_CONNECT_CONSUMER_NAME: 'Example Shared Care Record',
  GP_CONNECT_USER_ID: 'C999000001',
  GP_CONNECT_USER_ROLE_PROFILE_ID: '999000000201',
  GP_CONNECT_ISSUER: 'https://carebridge.example.nhs.uk',
});

describe('carebridge gp fetch against a GP Connect provider stub', () => {
  let stub: GpConnectProviderStub;
  let baseUrl: string;
  let config: GpConnectConfig;
  let store: Store;
  const clock = (): Date => new Date('2026-11-23T12:00:00Z');

  beforeAll(async () => {
    loadFhirDefinitions();
    // The second record comes from another practice than the one configured.
    const otherPractice = gpFixtureBytes('allergies-no-known-allergies').toString('utf8').replaceAll('Y00123', 'Y00999');
    stub = new GpConnectProviderStub(
      new Map([
        [ALLERGY_NHS, gpFixtureBytes('allergies-active-and-ended')],
        [OTHER_PRACTICE_NHS, Buffer.from(otherPractice)],
      ]),
      { fromAsid: '200000000115', toAsid: '200000000116' },
    );
    baseUrl = await stub.start();
    config = loadGpConnectConfig(env(baseUrl)) as GpConnectConfig;
    store = await Store.open({});
    await store.migrate();
  });
  afterAll(async () => {
    await stub.stop();
    await store.close();
  });

  test('the request carries the Spine headers, the unsigned audit JWT and the Parameters for every clinical area', async () => {
    const { bundle, traceId } = await new GpConnectClient(config, clock).fetchStructuredRecord(ALLERGY_NHS);
    expect(bundle.equals(gpFixtureBytes('allergies-active-and-ended'))).toBe(true);
    const got = stub.received.at(-1);
    expect(got?.path).toBe('/B82617/STU3/1/gpconnect/structured/fhir/Patient/$gpc.getstructuredrecord');
    expect(got?.headers['ssp-traceid']).toBe(traceId);
    expect(got?.headers['content-type']).toBe('application/fhir+json;charset=utf-8');
    expect(got?.jwtHeader).toEqual({ alg: 'none', typ: 'JWT' });
    expect(got?.claims).toEqual({
      iss: 'https://carebridge.example.nhs.uk',
      sub: 'C999000001',
      aud: `${baseUrl}/Patient/$gpc.getstructuredrecord`,
      iat: 1795435200,
      exp: 1795435500,
      reason_for_request: 'directcare',
      requested_scope: 'patient/*.read',
      requesting_device: { resourceType: 'Device', identifier: [{ system: 'https://carebridge.example.nhs.uk', value: 'carebridge' }], model: 'CareBridge', version: '0.1.0' },
      requesting_organization: { resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RZZ01' }], name: 'Example Shared Care Record' },
      requesting_practitioner: {
        resourceType: 'Practitioner',
        id: 'C999000001',
        identifier: [
          { system: 'https://fhir.nhs.uk/Id/sds-user-id', value: 'C999000001' },
          { system: 'https://fhir.nhs.uk/Id/sds-role-profile-id', value: '999000000201' },
        ],
      },
    });
    expect(got?.parameters.parameter.map((p) => p.name)).toEqual([
      'patientNHSNumber',
      'includeAllergies',
      'includeMedication',
      'includeConsultations',
      'includeProblems',
      'includeImmunisations',
      'includeUncategorisedData',
      'includeInvestigations',
      'includeReferrals',
    ]);
    const part = (name: string, partName: string): boolean | undefined => got?.parameters.parameter.find((p) => p.name === name)?.part?.find((p) => p.name === partName)?.valueBoolean;
    expect([part('includeAllergies', 'includeResolvedAllergies'), part('includeMedication', 'includePrescriptionIssues')]).toEqual([true, true]);
    expect(got?.parameters.parameter[0]?.valueIdentifier).toEqual({ system: 'https://fhir.nhs.uk/Id/nhs-number', value: ALLERGY_NHS });
  });

  test('fetch imports the record through the inbox and says what changed, with no patient data but the number typed', async () => {
    const summary = await fetchAndImport(store, ALLERGY_NHS, new GpConnectClient(config, clock), config.providerOds);
    expect(summary).toMatch(/^Imported the GP record for NHS number 9990200009 \(inbox \d+\): 9 resources, 9 changed, 0 no longer in the GP record, 0 withheld and left as they were\.\n$/);
    const allergies = await storedByIdentifier<AllergyIntolerance>(store, 'AllergyIntolerance', '5f0c1a3e-1111-4c5a-9e00-000000000003');
    expect(allergies.map((a) => a.clinicalStatus?.coding?.[0]?.code)).toEqual(['resolved']);
    // The same bytes again are the same inbox row: not applied twice.
    const again = await fetchAndImport(store, ALLERGY_NHS, new GpConnectClient(config, clock), config.providerOds);
    expect(again).toMatch(/^The same record was imported before \(inbox \d+\); nothing changed\.\n$/);
  });

  test('an unknown patient is the provider\'s PATIENT_NOT_FOUND, and nothing is imported', async () => {
    const before = (await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox')).rows[0]?.n;
    await expect(fetchAndImport(store, '9990207038', new GpConnectClient(config, clock), config.providerOds)).rejects.toEqual(expect.objectContaining({ name: 'GpConnectError', status: 404, spineCode: 'PATIENT_NOT_FOUND' }));
    await expect(new GpConnectClient(config, clock).fetchStructuredRecord('9990207038')).rejects.toBeInstanceOf(GpConnectError);
    expect((await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox')).rows[0]?.n).toBe(before);
  });

  test('a record whose registered practice is not the configured one is refused', async () => {
    await expect(fetchAndImport(store, OTHER_PRACTICE_NHS, new GpConnectClient(config, clock), config.providerOds)).rejects.toThrow("The record's registered practice is not Y00123");
    expect(await storedByIdentifier(store, 'Patient', OTHER_PRACTICE_NHS)).toEqual([]);
  });

  test('wrong ASIDs are refused by the provider (403 ACCESS_DENIED)', async () => {
    const wrong = loadGpConnectConfig({ ...env(baseUrl), GP_CONNECT_FROM_ASID: '200000000999' }) as GpConnectConfig;
    await expect(new GpConnectClient(wrong, clock).fetchStructuredRecord(ALLERGY_NHS)).rejects.toEqual(expect.objectContaining({ status: 403, spineCode: 'ACCESS_DENIED' }));
  });

  test('configuration: unset base URL means no client; a missing or bad value names the variable', () => {
    expect(loadGpConnectConfig({})).toBeUndefined();
    expect(() => loadGpConnectConfig({ ...env(baseUrl), GP_CONNECT_TO_ASID: '' })).toThrow(new ConfigError('GP_CONNECT_TO_ASID must be set when GP_CONNECT_BASE_URL is set'));
    expect(() => loadGpConnectConfig({ ...env(baseUrl), GP_CONNECT_FROM_ASID: 'abc' })).toThrow(new ConfigError('GP_CONNECT_FROM_ASID must be an ASID (up to 12 digits)'));
    expect(() => loadGpConnectConfig({ ...env(baseUrl), GP_CONNECT_TLS_CERT: '/tmp/x.pem' })).toThrow(ConfigError);
  });
});
