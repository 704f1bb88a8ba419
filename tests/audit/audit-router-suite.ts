import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import express, { type Express, type RequestHandler } from 'express';
import request from 'supertest';
import { Interaction, PurposeOfUse, type Requester } from '../../gateway/access/hooks';
import { outcomeErrorHandler } from '../../gateway/api/fhir-router';
import { AlertKind, raiseAlert, type Alert } from '../../gateway/audit/alerts';
import { auditColumns } from '../../gateway/audit/audit-event';
import { auditRouter } from '../../gateway/audit/audit-router';
import { AuditTrail } from '../../gateway/audit/audit-trail';
import { CheckpointKeySet, generateSigningKeyPem, signerFromPem } from '../../gateway/audit/signing';
import type { AccessReport } from '../../gateway/audit/trail-search';
import { verifyAuditTrail } from '../../gateway/audit/verify';
import { createLogger } from '../../gateway/logger';
import type { Store } from '../../gateway/store/store';
import { GP_PRACTICE, HOSPITAL, PRIVACY_OFFICER, readRecord, requester } from './support';
import { resetTrail } from './tamper';

/**
 * The privacy officer API over HTTP. The role check is the lead's token middleware in the app; here a
 * stand-in lets through requests that say they are the privacy officer, which is all the router sees.
 */
const asPrivacyOfficer: RequestHandler = (req, _res, next) => {
  if (req.get('x-test-role') === 'privacy_officer') next();
  else next(Object.assign(new Error('forbidden'), { status: 403 }));
};

const NURSE: Requester = { userId: 'nurse-7', displayName: 'Nurse Test', role: 'hospital_clinician', organisation: HOSPITAL, teams: ['https://pas.test/team|WARD9'], purposeOfUse: PurposeOfUse.TREAT };

function appWith(store: Store, trail: AuditTrail, requireRole?: RequestHandler, keys?: CheckpointKeySet): Express {
  const app = express();
  app.use((_req, res, next) => {
    res.locals['requestId'] = 'po-req';
    next();
  });
  app.use(
    '/audit',
    auditRouter({
      engine: store.engine,
      trail,
      requester: () => PRIVACY_OFFICER,
      ...(requireRole ? { requireRole } : {}),
      ...(keys ? { keys } : {}),
      linkedPatientIds: (id) => Promise.resolve(id === 'pat-1' ? ['pat-1', 'pat-1b'] : [id]),
      clock: () => new Date('2026-11-23T12:00:00Z'),
    }),
  );
  app.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if ((err as { status?: number }).status === 403 && !(err as { outcome?: unknown }).outcome) res.status(403).json({ refused: true });
    else next(err);
  });
  app.use(outcomeErrorHandler(createLogger('silent')));
  return app;
}

/** The privacy officer API's tests, on whichever engine `open` gives (a fresh, migrated store). */
export function auditRouterSuite(open: () => Promise<Store>): void {
  let store: Store;
  let trail: AuditTrail;
  let keys: CheckpointKeySet;
  let app: Express;
  let alerts: Alert[];

  beforeAll(async () => {
    store = await open();
    const signer = await signerFromPem(generateSigningKeyPem());
    keys = await CheckpointKeySet.from({ signers: [signer] });
    trail = new AuditTrail({ engine: store.engine, node: 'test-node', signer, checkpointEvery: 5 });
    app = appWith(store, trail, asPrivacyOfficer, keys);
  });
  afterAll(async () => {
    await trail.close();
    await store.close();
  });
  beforeEach(async () => {
    await resetTrail(store.engine);
    let clock = Date.parse('2026-11-20T09:00:00Z');
    const at = (): Date => new Date((clock += 3_600_000));
    const timed = new AuditTrail({ engine: store.engine, node: 'test-node', clock: at });
    // GP looks at pat-1, nurse at pat-1b (the same person, another record), nurse refused pat-2, GP break-glass on pat-3.
    await timed.record(readRecord(1, { request: { requestId: 'r1', requester: requester(), interaction: Interaction.READ, patientId: 'pat-1' }, returned: ['Patient/pat-1'] }));
    await timed.record(readRecord(2, { request: { requestId: 'r2', requester: NURSE, interaction: Interaction.EVERYTHING, patientId: 'pat-1b', client: { address: '10.1.2.3', userAgent: 'WardPC/2' } }, returned: ['Patient/pat-1b', 'Encounter/e1'], withheld: 2, reasons: ['open encounter at RX100'] }));
    await timed.record(readRecord(3, { request: { requestId: 'r3', requester: NURSE, interaction: Interaction.READ, patientId: 'pat-2' }, outcome: 'deny', returned: [], withheld: 1, reasons: ['no legitimate relationship'] }));
    await timed.record(readRecord(4, { request: { requestId: 'r4', requester: requester({ purposeOfUse: PurposeOfUse.BTG }), interaction: Interaction.READ, patientId: 'pat-3' }, returned: ['Patient/pat-3'] }));
    await timed.close();
    alerts = [
      await raiseAlert(store.engine, { kind: AlertKind.BREAK_GLASS, requester: requester({ purposeOfUse: PurposeOfUse.BTG }), patientId: 'pat-3', reason: 'unconscious in ED, no record access', requestId: 'r4', now: new Date('2026-11-20T13:00:00Z') }),
      await raiseAlert(store.engine, { kind: AlertKind.SELF_CLAIM, requester: NURSE, patientId: 'pat-1b', reason: 'direct care: patient presented', now: new Date('2026-11-20T14:00:00Z') }),
    ];
  });

  async function lastEntry(): Promise<AuditEvent> {
    const row = (await store.engine.query<{ event: AuditEvent }>('SELECT event FROM audit_event ORDER BY seq DESC LIMIT 1')).rows[0];
    if (!row) throw new Error('empty trail');
    return row.event;
  }

  test('without a role check every route refuses with 403, so the trail is never open by accident', async () => {
    const open = appWith(store, trail);
    for (const path of ['/audit/events', '/audit/patients/pat-1/access-report', '/audit/alerts', `/audit/alerts/${alerts[0]?.id ?? ''}`, '/audit/checkpoints']) {
      const res = await request(open).get(path);
      expect(res.status).toBe(403);
      expect((res.body as OperationOutcome).issue[0]?.code).toBe('forbidden');
    }
    expect((await request(open).post(`/audit/alerts/${alerts[0]?.id ?? ''}/review`).send({ outcome: 'appropriate' })).status).toBe(403);
  });

  test('the role check decides: a request it refuses never reaches the trail', async () => {
    const res = await request(app).get('/audit/events');
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ refused: true });
  });

  test('a search by patient covers every record of the person, newest first, and is itself audited', async () => {
    const res = await request(app).get('/audit/events?patient=pat-1').set('x-test-role', 'privacy_officer');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const bundle = res.body as Bundle<AuditEvent>;
    expect(bundle.entry?.map((e) => auditColumns(e.resource as AuditEvent).requestId)).toEqual(['r2', 'r1']);
    const audited = auditColumns(await lastEntry());
    expect(audited).toMatchObject({ userId: 'po-1', role: 'privacy_officer', interaction: 'audit-search', patientIds: ['pat-1', 'pat-1b'], requestId: 'po-req' });
  });

  test.each([
    ['user=nurse-7', ['r3', 'r2']],
    ['organisation=RX100', ['r3', 'r2']],
    [`organisation=${encodeURIComponent(GP_PRACTICE)}`, ['r4', 'r1']],
    ['outcome=deny', ['r3']],
    ['purpose=BTG', ['r4']],
    ['from=2026-11-20T10:30:00Z&to=2026-11-20T12:30:00Z', ['r3', 'r2']],
  ])('search by %s', async (query, expected) => {
    const res = await request(app).get(`/audit/events?${query}`).set('x-test-role', 'privacy_officer');
    expect(res.status).toBe(200);
    expect((res.body as Bundle<AuditEvent>).entry?.map((e) => auditColumns(e.resource as AuditEvent).requestId)).toEqual(expected);
  });

  test('searches page by sequence number through a next link', async () => {
    const first = await request(app).get('/audit/events?_count=3').set('x-test-role', 'privacy_officer');
    const page1 = first.body as Bundle<AuditEvent>;
    expect(page1.entry?.map((e) => auditColumns(e.resource as AuditEvent).requestId)).toEqual(['r4', 'r3', 'r2']);
    const next = page1.link?.find((l) => l.relation === 'next')?.url;
    expect(next).toBe('/audit/events?_count=3&before=2');
    const second = await request(app).get(next as string).set('x-test-role', 'privacy_officer');
    const page2 = second.body as Bundle<AuditEvent>;
    // The first search's own audit entry (seq 5) is newer than the cursor, so it is not on page 2.
    expect(page2.entry?.map((e) => auditColumns(e.resource as AuditEvent).requestId)).toEqual(['r1']);
    expect(page2.link).toBeUndefined();
  });

  test.each([
    ['_count=0', '_count'],
    ['_count=abc', '_count'],
    ['from=yesterday', 'from'],
    ['outcome=maybe', 'outcome'],
    ['before=-1', 'before'],
    ['patient=bad%20id', 'patient'],
  ])('a bad parameter %s is a 400 naming the field', async (query, field) => {
    const res = await request(app).get(`/audit/events?${query}`).set('x-test-role', 'privacy_officer');
    expect(res.status).toBe(400);
    expect((res.body as OperationOutcome).issue[0]?.expression).toEqual([field]);
  });

  test("a person's access report lists who looked, when, from which organisation, role, purpose and what they were shown", async () => {
    const res = await request(app).get('/audit/patients/pat-1/access-report').set('x-test-role', 'privacy_officer').set('user-agent', 'PO-Browser');
    expect(res.status).toBe(200);
    const report = res.body as AccessReport & { generatedAt: string };
    expect(report.generatedAt).toBe('2026-11-23T12:00:00.000Z');
    expect(report.patientIds).toEqual(['pat-1', 'pat-1b']);
    expect(report.entries).toEqual([
      {
        when: '2026-11-20T11:00:00.000Z',
        auditEventId: expect.any(String) as string,
        user: { id: 'nurse-7', name: 'Nurse Test' },
        role: 'hospital_clinician',
        organisation: HOSPITAL,
        teams: ['https://pas.test/team|WARD9'],
        purposeOfUse: 'TREAT',
        interaction: 'everything',
        decision: 'permit',
        reasons: ['open encounter at RX100'],
        returned: ['Patient/pat-1b', 'Encounter/e1'],
        withheld: 2,
        from: { address: '10.1.2.3', userAgent: 'WardPC/2' },
      },
      {
        when: '2026-11-20T10:00:00.000Z',
        auditEventId: expect.any(String) as string,
        user: { id: 'user-gp-1', name: 'Dr Test Example' },
        role: 'gp',
        organisation: GP_PRACTICE,
        teams: ['https://example-gp-system.test/team|T1'],
        purposeOfUse: 'TREAT',
        interaction: 'read',
        decision: 'permit',
        reasons: [],
        returned: ['Patient/pat-1'],
        withheld: 0,
      },
    ]);
    const audited = await lastEntry();
    expect(auditColumns(audited)).toMatchObject({ userId: 'po-1', interaction: 'access-report', patientIds: ['pat-1', 'pat-1b'] });
    expect(audited.agent[0]?.extension?.[0]?.valueString).toBe('PO-Browser');
  });

  test('alerts list open ones newest first; a review records outcome, note and reviewer, once, and is audited', async () => {
    const [breakGlass, selfClaim] = alerts as [Alert, Alert];
    const open = await request(app).get('/audit/alerts?status=open').set('x-test-role', 'privacy_officer');
    expect((open.body as { alerts: Alert[] }).alerts.map((a) => [a.kind, a.patientId, a.status])).toEqual([
      ['self-claim', 'pat-1b', 'open'],
      ['break-glass', 'pat-3', 'open'],
    ]);
    const byPerson = await request(app).get('/audit/alerts?patient=pat-1').set('x-test-role', 'privacy_officer');
    expect((byPerson.body as { alerts: Alert[] }).alerts.map((a) => a.id)).toEqual([selfClaim.id]);

    const bad = await request(app).post(`/audit/alerts/${breakGlass.id}/review`).set('x-test-role', 'privacy_officer').send({ outcome: 'fine' });
    expect(bad.status).toBe(400);
    const noNote = await request(app).post(`/audit/alerts/${breakGlass.id}/review`).set('x-test-role', 'privacy_officer').send({ outcome: 'inappropriate-escalated' });
    expect(noNote.status).toBe(400);
    expect((noNote.body as OperationOutcome).issue[0]?.expression).toEqual(['note']);

    const seqBefore = Number((await store.engine.query<{ seq: string }>('SELECT seq FROM audit_chain_head')).rows[0]?.seq);
    const reviewed = await request(app).post(`/audit/alerts/${breakGlass.id}/review`).set('x-test-role', 'privacy_officer').send({ outcome: 'appropriate', note: 'ED attendance confirmed' });
    expect(reviewed.status).toBe(200);
    expect(reviewed.body).toEqual({
      ...breakGlass,
      status: 'reviewed',
      review: { outcome: 'appropriate', note: 'ED attendance confirmed', reviewer: { userId: 'po-1', displayName: 'Privacy Officer Test', role: 'privacy_officer', organisation: HOSPITAL, purposeOfUse: 'HOPERAT' }, reviewedAt: '2026-11-23T12:00:00.000Z' },
    });
    const audited = auditColumns(await lastEntry());
    expect(audited).toMatchObject({ interaction: 'alert-review', userId: 'po-1', patientIds: ['pat-3'] });
    expect(Number((await store.engine.query<{ seq: string }>('SELECT seq FROM audit_chain_head')).rows[0]?.seq)).toBe(seqBefore + 1);

    const again = await request(app).post(`/audit/alerts/${breakGlass.id}/review`).set('x-test-role', 'privacy_officer').send({ outcome: 'inappropriate-advised', note: 'second look' });
    expect(again.status).toBe(409);
    const missing = await request(app).post('/audit/alerts/00000000-0000-4000-8000-000000000000/review').set('x-test-role', 'privacy_officer').send({ outcome: 'appropriate' });
    expect(missing.status).toBe(404);

    const reviewedList = await request(app).get('/audit/alerts?status=reviewed').set('x-test-role', 'privacy_officer');
    expect((reviewedList.body as { alerts: Alert[] }).alerts.map((a) => a.id)).toEqual([breakGlass.id]);
    // Reviews cannot be changed in the database either.
    await expect(store.engine.query(`UPDATE audit_alert_review SET outcome = 'inappropriate-advised'`)).rejects.toThrow(/append-only/);
  });

  test('two reviews of one alert at once: one is recorded, the other refused with 409, and only one is audited', async () => {
    const alert = alerts[1] as Alert;
    const before = Number((await store.engine.query<{ seq: string }>('SELECT seq FROM audit_chain_head')).rows[0]?.seq);
    const post = (outcome: string): Promise<request.Response> => request(app).post(`/audit/alerts/${alert.id}/review`).set('x-test-role', 'privacy_officer').send({ outcome, note: `${outcome} by one of two` });
    const statuses = (await Promise.all([post('appropriate'), post('inappropriate-advised')])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    const reviews = (await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_alert_review WHERE alert_id = $1::uuid', [alert.id])).rows[0]?.n;
    expect(reviews).toBe(1);
    const reviewEntries = (await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event WHERE seq > $1 AND interaction = 'alert-review'`, [before])).rows[0]?.n;
    expect(reviewEntries).toBe(1);
  });

  test('alerts page with a cursor', async () => {
    const first = await request(app).get('/audit/alerts?_count=1').set('x-test-role', 'privacy_officer');
    const body = first.body as { alerts: Alert[]; next: string };
    expect(body.alerts.map((a) => a.kind)).toEqual(['self-claim']);
    const second = await request(app).get(`/audit/alerts?_count=1&before=${body.next}`).set('x-test-role', 'privacy_officer');
    expect((second.body as { alerts: Alert[]; next?: string }).alerts.map((a) => a.kind)).toEqual(['break-glass']);
    expect((second.body as { next?: string }).next).toBeUndefined();
  });

  test('the checkpoints export verifies, and the chain verifies after all of the above', async () => {
    await trail.checkpointIfDue(true);
    const res = await request(app).get('/audit/checkpoints').set('x-test-role', 'privacy_officer');
    expect(res.status).toBe(200);
    const file = res.body as { format: string; checkpoints: { seq: number; jws: string }[]; keys: { keys: { kid: string }[] } };
    expect(file.format).toBe('carebridge-audit-checkpoints');
    expect(file.keys.keys.map((k) => k.kid)).toEqual(keys.kids);
    expect(file.checkpoints.map((c) => c.seq)).toEqual([4]);
    const report = await verifyAuditTrail(store.engine, keys, { exported: file.checkpoints.map((c, i) => ({ where: `export[${String(i)}]`, jws: c.jws })) });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
}
