import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { DEFAULT_AUDIENCE } from '../../gateway/auth';
import { devAuthDir, loadOrCreateDevKeyPair, mintToken } from '../../gateway/auth/dev-keys';
import { loadConfig } from '../../gateway/config';
import { createLogger } from '../../gateway/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { ingestResources } from '../../gateway/ingest/ingest';
import { ODS_ORGANIZATION_SYSTEM } from '../../mappings/identifiers';
import { sourcePatient } from '../support/synthetic';
import { runImport } from './import-suite';
import { writeExtract } from './write-extract';

/**
 * A council's record of the person's decision is obeyed end to end: a CareFirst-style extract
 * imported into the real gateway (startGateway: PGlite, the Caldicott access, the audit trail) with
 * a refusal to share social care information with health in consents.csv; the GP practice's own
 * record of the person is linked by the verified NHS number; the registered GP reads the whole
 * record through the FHIR API and gets the practice's data and none of the council's, with the
 * withheld marker; a later extract where the person agreed shows it. Synthetic person only.
 */

const COUNCIL = 'https://social-care.consent-borough.gov.uk/carefirst';
const PRACTICE = 'https://fhir.nhs.uk/Id/ods-organization-code|Y90001';
const NHS_NUMBER = '9990000026';
const GP_SYSTEM = 'https://gp.consent-practice.example/fhir';

const extract = (decision: string, extractedAt: string): string =>
  writeExtract(
    {
      'persons.csv': [{ PERSON_ID: '500', NHS_NUMBER, NHS_NUMBER_VERIFIED: 'Y', SURNAME: 'Testconsent', FORENAME: 'Alex', DATE_OF_BIRTH: '03/04/1938', GP_PRACTICE_CODE: 'Y90001' }],
      'services.csv': [{ SERVICE_ID: 'S1', PERSON_ID: '500', SERVICE_TYPE: 'HOME_CARE', START_DATE: '01/01/2026', QUANTITY: '7', UNIT: 'HOURS_PER_WEEK', STATUS: 'ACTIVE' }],
      'alerts.csv': [{ ALERT_ID: 'AL1', PERSON_ID: '500', ALERT_TYPE: 'FALLS_RISK', START_DATE: '01/01/2026', SENSITIVE: 'N' }],
      'consents.csv': [{ CONSENT_ID: 'C1', PERSON_ID: '500', CONSENT_TYPE: 'SHARE_WITH_HEALTH', DECISION: decision, DECISION_DATE: extractedAt.slice(0, 10).split('-').reverse().join('/'), HAS_CAPACITY: 'Y', DECISION_MAKER: 'PERSON' }],
    },
    { source: COUNCIL, extractedAt },
  );

describe('a council\'s consent decision, imported, is what the record obeys', () => {
  let dir: string;
  let gateway: RunningGateway;
  let baseUrl: string;
  let gp: string;
  let patientId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-consent-obeyed-'));
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, DEMO_DATA: 'false', LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    baseUrl = `http://127.0.0.1:${String(gateway.httpPort)}`;
    const keys = await loadOrCreateDevKeyPair(devAuthDir(dir));
    const practiceRecord = { ...sourcePatient('gp-consent-1', GP_SYSTEM, NHS_NUMBER, { verified: true, birthDate: '1938-04-03', family: 'Testconsent' }), generalPractitioner: [{ reference: 'Organization/Y90001', identifier: { system: ODS_ORGANIZATION_SYSTEM, value: 'Y90001' } }] };
    await ingestResources(gateway.store, [practiceRecord]);
    patientId = 'gp-consent-1';
    gp = `Bearer ${await mintToken(keys, { sub: 'gp-consent', name: 'Dr Test', role: 'gp', org: PRACTICE }, { audience: DEFAULT_AUDIENCE, expiresInSeconds: 3600 })}`;
  });
  afterAll(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Source of each resource of the person's whole record as the GP sees it, and whether a withheld marker came with it. */
  async function whatTheGpSees(): Promise<{ councilTypes: string[]; withheldMarker: boolean }> {
    const res = await request(baseUrl).get(`/fhir/Patient/${patientId}/$everything`).set('Authorization', gp);
    expect(res.status).toBe(200);
    const resources = ((res.body as Bundle).entry ?? []).map((e) => e.resource as Resource);
    const outcome = resources.find((r): r is OperationOutcome => r.resourceType === 'OperationOutcome');
    return {
      councilTypes: [...new Set(resources.filter((r) => r.meta?.source === COUNCIL && r.resourceType !== 'Patient').map((r) => r.resourceType))].sort(),
      withheldMarker: (outcome?.issue ?? []).some((i) => /withheld/i.test(i.details?.text ?? '')),
    };
  }

  test('refused: the GP sees none of the council\'s care data, and is told something was withheld', async () => {
    const summary = await runImport(gateway.store, extract('REFUSED', '2026-11-20T02:00:00Z'));
    expect(summary.status).toBe('done');
    // The council's record of the person is linked to the practice's (same verified number and birth date).
    const linked = await gateway.store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource WHERE resource_type = 'Patient' AND content->'meta'->>'source' = $1`, [COUNCIL]);
    expect(linked.rows[0]?.n).toBe(1);
    expect((await request(baseUrl).post(`/access/Patient/${patientId}/permission-to-view`).set('Authorization', gp).send({ decision: 'given' })).status).toBe(201);
    expect(await whatTheGpSees()).toEqual({ councilTypes: [], withheldMarker: true });
  });

  test('given in a later extract: the care package and the alert are shown', async () => {
    const summary = await runImport(gateway.store, extract('GIVEN', '2026-11-27T02:00:00Z'));
    expect(summary.status).toBe('done');
    const seen = await whatTheGpSees();
    expect(seen.councilTypes).toEqual(expect.arrayContaining(['CarePlan', 'Flag']));
  });
});
