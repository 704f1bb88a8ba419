import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { base64url, SignJWT } from 'jose';
import request from 'supertest';
import { decisionOf } from '../../gateway/audit/audit-event';
import { DEFAULT_AUDIENCE, DEV_ISSUER } from '../../gateway/auth';
import { devAuthDir, generateDevKeyPair, loadOrCreateDevKeyPair, mintToken, type DevKeyPair } from '../../gateway/auth/dev-keys';
import { loadConfig } from '../../gateway/config';
import { createLogger } from '../../gateway/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';

/**
 * Refused bearer tokens are audited (the access model audits every request that touches a person's
 * data, and a refused one is what a privacy officer most wants to see), against the real gateway
 * (startGateway: PGlite in DATA_DIR, the Caldicott access, the hash-chained audit trail): each
 * refusal becomes an `authentication` entry with outcome deny, the reason, the subject the token
 * claims (marked unverified), the method and path, the person the path names, and the client;
 * never any part of the token. The privacy officer finds them through the audit API.
 */

const PATIENT_ID = 'pat-refused-1';
const GP_PRACTICE = 'https://fhir.nhs.uk/Id/ods-organization-code|Y90001';

interface Refused {
  readonly user: string;
  readonly reasons: string[];
  readonly query: string;
  readonly patients: string[];
  readonly outcome: string | undefined;
  readonly address: string | undefined;
  readonly userAgent: string | undefined;
}

const enc = (o: object): string => base64url.encode(JSON.stringify(o));

describe('refused tokens are audited', () => {
  let dir: string;
  let gateway: RunningGateway;
  let baseUrl: string;
  let keys: DevKeyPair;
  let privacyOfficer: string;

  const mint = (claims: Record<string, unknown>, expiresInSeconds = 600, now?: Date): Promise<string> => mintToken(keys, claims, { audience: DEFAULT_AUDIENCE, expiresInSeconds, ...(now ? { now } : {}) });

  /** The authentication entries of the trail, oldest first, as the privacy officer's audit API returns them. */
  async function refusals(): Promise<Refused[]> {
    const res = await request(baseUrl).get('/audit/events?outcome=deny&_count=100').set('Authorization', privacyOfficer);
    expect(res.status).toBe(200);
    const events = ((res.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent).filter((e) => e.subtype?.some((c) => c.code === 'authentication'));
    return events.reverse().map((e) => {
      const user = e.agent.find((a) => a.requestor);
      const query = e.entity?.find((x) => x.query !== undefined)?.query;
      return {
        user: user?.who?.identifier?.value ?? '',
        reasons: decisionOf(e).reasons,
        query: query ? Buffer.from(query, 'base64').toString('utf8') : '',
        patients: (e.entity ?? []).filter((x) => x.what?.reference?.startsWith('Patient/')).map((x) => x.what?.reference ?? ''),
        outcome: e.outcome,
        address: user?.network?.address,
        userAgent: user?.extension?.find((x) => x.url.endsWith('user-agent'))?.valueString,
      };
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-refused-audit-'));
    gateway = await startGateway(loadConfig({ PORT: '0', MLLP_PORT: '0', DATA_DIR: dir, DEMO_DATA: 'false', LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    baseUrl = `http://127.0.0.1:${String(gateway.httpPort)}`;
    keys = await loadOrCreateDevKeyPair(devAuthDir(dir));
    privacyOfficer = `Bearer ${await mint({ sub: 'po-1', name: 'Pat Officer', role: 'privacy_officer', org: GP_PRACTICE })}`;
  });
  afterAll(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each refusal is one authentication entry saying why, who the token claimed to be, what it asked for, and from where; no part of the token is kept', async () => {
    const good = await mint({ sub: 'gp-tampered', role: 'gp', org: GP_PRACTICE });
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const raised = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = `${header}.${enc({ ...raised, role: 'privacy_officer' })}.${signature}`;
    const expired = await mint({ sub: 'gp-expired', role: 'gp', org: GP_PRACTICE }, 60, new Date(Date.now() - 3_600_000));
    const unsigned = `${enc({ alg: 'none', typ: 'JWT', kid: keys.kid })}.${enc({ sub: 'gp-none', role: 'gp', org: GP_PRACTICE, aud: DEFAULT_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    const stranger = await new SignJWT({ sub: 'gp-stranger', role: 'gp', org: GP_PRACTICE }).setProtectedHeader({ alg: 'ES256', kid: keys.kid }).setIssuer(DEV_ISSUER).setAudience(DEFAULT_AUDIENCE).setExpirationTime('10m').sign((await generateDevKeyPair()).privateKey);
    const unknownRole = await mint({ sub: 'someone-unmapped', role: 'astronaut', org: GP_PRACTICE });

    const asked: [string, string, number][] = [
      [tampered, `/fhir/Patient/${PATIENT_ID}`, 401],
      [expired, `/fhir/Patient/${PATIENT_ID}/$everything`, 401],
      [unsigned, '/fhir/Encounter', 401],
      [stranger, `/access/Patient/${PATIENT_ID}/permission-to-view`, 401],
      [unknownRole, `/fhir/Patient/${PATIENT_ID}`, 403],
      ['not a token at all', '/fhir/Condition', 401],
    ];
    for (const [token, path, status] of asked) {
      const res = await request(baseUrl).get(`${path}?subject=a-query-that-is-not-kept`).set('Authorization', `Bearer ${token}`).set('User-Agent', 'refusal-test/1.0');
      expect([path, res.status]).toEqual([path, status]);
    }
    // A missing token is no token: answered 401, not audited (every browser's first request would be).
    expect((await request(baseUrl).get(`/fhir/Patient/${PATIENT_ID}`)).status).toBe(401);

    const found = await refusals();
    expect(found.map((r) => [r.user, r.reasons, r.query, r.patients, r.outcome])).toEqual([
      ['gp-tampered', ['token not valid: bad-signature', 'subject as the token claims it, not verified'], `GET /fhir/Patient/${PATIENT_ID}`, [`Patient/${PATIENT_ID}`], '4'],
      ['gp-expired', ['token not valid: expired', 'subject as the token claims it, not verified'], `GET /fhir/Patient/${PATIENT_ID}/$everything`, [`Patient/${PATIENT_ID}`], '4'],
      ['gp-none', ['token not valid: algorithm-not-allowed', 'subject as the token claims it, not verified'], 'GET /fhir/Encounter', [], '4'],
      ['gp-stranger', ['token not valid: bad-signature', 'subject as the token claims it, not verified'], `GET /access/Patient/${PATIENT_ID}/permission-to-view`, [`Patient/${PATIENT_ID}`], '4'],
      ['someone-unmapped', [expect.stringMatching(/^token refused by the directory: .*astronaut/) as unknown as string, 'subject verified'], `GET /fhir/Patient/${PATIENT_ID}`, [`Patient/${PATIENT_ID}`], '4'],
      ['unknown', ['token not valid: malformed', 'no subject in the token'], 'GET /fhir/Condition', [], '4'],
    ]);
    expect(found.every((r) => r.address !== undefined && r.userAgent === 'refusal-test/1.0')).toBe(true);

    // Nothing of the tokens themselves is in the trail.
    const trail = (await gateway.store.engine.query<{ event: string }>('SELECT event::text AS event FROM audit_event')).rows.map((r) => r.event).join('\n');
    for (const [token] of asked) for (const part of token.split('.').filter((p) => p.length > 8)) expect(trail.includes(part)).toBe(false);
    expect(trail.includes('a-query-that-is-not-kept')).toBe(false);
  });

  test('the person whose record a refused request named sees it in their access report', async () => {
    const res = await request(baseUrl).get(`/audit/patients/${PATIENT_ID}/access-report`).set('Authorization', privacyOfficer);
    expect(res.status).toBe(200);
    const entries = (res.body as { entries: { user: { id: string }; interaction: string; decision: string }[] }).entries.filter((e) => e.interaction === 'authentication');
    expect(entries.map((e) => [e.user.id, e.decision]).sort()).toEqual([
      ['gp-expired', 'deny'],
      ['gp-stranger', 'deny'],
      ['gp-tampered', 'deny'],
      ['someone-unmapped', 'deny'],
    ]);
  });

  test('refusals are counted by reason on /metrics', async () => {
    const text = (await request(baseUrl).get('/metrics')).text;
    const count = (reason: string): number => Number(new RegExp(`^carebridge_auth_refusals_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 'NaN');
    expect([count('bad-signature'), count('expired'), count('algorithm-not-allowed'), count('malformed'), count('forbidden')]).toEqual([2, 1, 1, 1, 1]);
  });
});
