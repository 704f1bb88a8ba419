import { randomUUID } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { ClientInfo, Requester } from '../access/hooks';
import { HttpOutcomeError } from '../api/errors';
import { clientInfoOf } from '../auth/middleware';
import { ID_PATTERN } from '../api/search-parser';
import type { SqlEngine } from '../store/engine';
import {
  AlertAlreadyReviewedError,
  AlertInputError,
  AlertKind,
  AlertNotFoundError,
  AlertReviewOutcome,
  AlertStatus,
  getAlert,
  listAlerts,
  type Alert,
} from './alerts';
import { reviewAlertAudited } from './alert-review';
import { AuditDecision, AuditOperation } from './audit-event';
import type { AuditTrail } from './audit-trail';
import { exportCheckpoints } from './checkpoint-file';
import type { CheckpointKeySet } from './signing';
import { accessReport, searchTrail } from './trail-search';

/**
 * The privacy officer's API, to mount at /audit: searches of the trail, a person's access report,
 * the alerts and their review, and the signed checkpoints for export. Every request that shows a
 * person's access history or an alert about them is itself audited, and a review is recorded in
 * the same transaction as its audit entry.
 *
 * Authorisation is handed in (`requireRole`, e.g. requireRole('privacy_officer') from the token
 * middleware). Without one every request is refused, so the trail is never open by accident.
 */
export interface AuditRouterOptions {
  readonly engine: SqlEngine;
  readonly trail: AuditTrail;
  /** Who is asking (from the verified token). Called after requireRole has passed. */
  readonly requester: (req: Request, res: Response) => Requester;
  /** Lets only privacy officers through; omitted, the router refuses everything with 403. */
  readonly requireRole?: RequestHandler;
  /** For GET /checkpoints: the public keys published beside the exported checkpoints. */
  readonly keys?: CheckpointKeySet;
  /** All the patient ids that are one person with this one (identity linking); [id] if omitted. */
  readonly linkedPatientIds?: (patientId: string) => Promise<readonly string[]>;
  readonly clock?: () => Date;
}

const refuseAll: RequestHandler = (_req, _res, next) => {
  next(new HttpOutcomeError(403, 'forbidden', 'The audit API has no authorisation check configured, so it refuses every request'));
};

const MAX_COUNT = 200;
const DEFAULT_COUNT = 50;
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function single(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HttpOutcomeError(400, 'invalid', `${name} may be given once`, name);
  return value;
}

function count(req: Request): number {
  const text = single(req, '_count');
  if (text === undefined) return DEFAULT_COUNT;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_COUNT) throw new HttpOutcomeError(400, 'invalid', `_count must be a whole number from 1 to ${String(MAX_COUNT)}`, '_count');
  return n;
}

function date(req: Request, name: string): Date | undefined {
  const text = single(req, name);
  if (text === undefined) return undefined;
  const parsed = DATE.test(text) ? new Date(text) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime())) throw new HttpOutcomeError(400, 'invalid', `${name} must be a date (YYYY-MM-DD) or a date-time with a time zone`, name);
  return parsed;
}

function oneOf<T extends string>(req: Request, name: string, allowed: Record<string, T>): T | undefined {
  const text = single(req, name);
  if (text === undefined) return undefined;
  const values = Object.values(allowed) as string[];
  if (!values.includes(text)) throw new HttpOutcomeError(400, 'invalid', `${name} must be one of ${values.join(', ')}`, name);
  return text as T;
}

function seqCursor(req: Request): number | undefined {
  const text = single(req, 'before');
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text)) throw new HttpOutcomeError(400, 'invalid', 'before must be a sequence number from a previous page', 'before');
  return Number(text);
}

function alertCursor(req: Request): { raisedAt: string; id: string } | undefined {
  const text = single(req, 'before');
  if (text === undefined) return undefined;
  const [raisedAt, id] = Buffer.from(text, 'base64url').toString('utf8').split(' ');
  if (!raisedAt || !id || Number.isNaN(Date.parse(raisedAt)) || !/^[0-9a-f-]{36}$/.test(id)) throw new HttpOutcomeError(400, 'invalid', 'before must be the cursor from a previous page', 'before');
  return { raisedAt, id };
}

const alertCursorOf = (a: Alert): string => Buffer.from(`${a.raisedAt} ${a.id}`, 'utf8').toString('base64url');

function patientParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (!ID_PATTERN.test(value)) throw new HttpOutcomeError(400, 'invalid', `${name} is not a valid patient id`, name);
  return value;
}

function text(body: unknown, field: string): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpOutcomeError(400, 'invalid', `${field} must be a string`, field);
  return value;
}

export function auditRouter(options: AuditRouterOptions): Router {
  const router = express.Router();
  const clock = options.clock ?? ((): Date => new Date());
  const linked = async (id: string): Promise<string[]> => [...new Set([id, ...(options.linkedPatientIds ? await options.linkedPatientIds(id) : [])])].sort();

  router.use(options.requireRole ?? refuseAll);
  router.use(express.json({ limit: '16kb' }));

  const context = (req: Request, res: Response): { requestId: string; requester: Requester; client: ClientInfo } => ({
    requestId: typeof res.locals['requestId'] === 'string' ? res.locals['requestId'] : randomUUID(),
    requester: options.requester(req, res),
    client: clientInfoOf(req),
  });
  const queryText = (req: Request): string => {
    const i = req.originalUrl.indexOf('?');
    return i >= 0 ? req.originalUrl.slice(i + 1) : '';
  };

  router.get('/events', async (req, res) => {
    const ctx = context(req, res);
    const patient = patientParam(single(req, 'patient'), 'patient');
    const patientIds = patient ? await linked(patient) : undefined;
    const page = await searchTrail(options.engine, {
      ...(patientIds ? { patientIds } : {}),
      userId: single(req, 'user'),
      organisation: single(req, 'organisation'),
      from: date(req, 'from'),
      to: date(req, 'to'),
      outcome: oneOf(req, 'outcome', AuditDecision),
      purpose: single(req, 'purpose'),
      before: seqCursor(req),
      count: count(req),
    });
    const touched = patientIds ?? [...new Set(page.events.flatMap((e) => (e.event.entity ?? []).filter((x) => x.role?.code === '1').map((x) => (x.what?.reference ?? '').replace(/^Patient\//, ''))))];
    await options.trail.recordOperation({
      ...ctx,
      operation: AuditOperation.AUDIT_SEARCH,
      outcome: AuditDecision.PERMIT,
      patientIds: touched,
      entities: page.events.map((e) => `AuditEvent/${e.event.id ?? ''}`),
      query: queryText(req),
    });
    const next = new URLSearchParams(queryText(req));
    if (page.nextBefore !== undefined) next.set('before', String(page.nextBefore));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(page.nextBefore !== undefined ? { link: [{ relation: 'next', url: `${req.baseUrl}/events?${next.toString()}` }] } : {}),
      entry: page.events.map((e) => ({ resource: e.event, search: { mode: 'match' } })),
    };
    res.type('application/fhir+json').send(JSON.stringify(bundle));
  });

  router.get('/patients/:id/access-report', async (req, res) => {
    const ctx = context(req, res);
    const id = patientParam(req.params['id'], 'id') as string;
    const patientIds = await linked(id);
    const report = await accessReport(options.engine, patientIds, { from: date(req, 'from'), to: date(req, 'to'), before: seqCursor(req), count: count(req) });
    await options.trail.recordOperation({
      ...ctx,
      operation: AuditOperation.ACCESS_REPORT,
      outcome: AuditDecision.PERMIT,
      patientIds,
      entities: report.entries.map((e) => `AuditEvent/${e.auditEventId}`),
      query: queryText(req),
    });
    res.json({ generatedAt: clock().toISOString(), ...report });
  });

  router.get('/alerts', async (req, res) => {
    const ctx = context(req, res);
    const patient = patientParam(single(req, 'patient'), 'patient');
    const n = count(req);
    const alerts = await listAlerts(options.engine, {
      status: oneOf(req, 'status', AlertStatus),
      kind: oneOf(req, 'kind', AlertKind),
      ...(patient ? { patientIds: await linked(patient) } : {}),
      userId: single(req, 'user'),
      before: alertCursor(req),
      count: n + 1,
    });
    const shown = alerts.slice(0, n);
    await options.trail.recordOperation({
      ...ctx,
      operation: AuditOperation.AUDIT_SEARCH,
      outcome: AuditDecision.PERMIT,
      patientIds: [...new Set(shown.map((a) => a.patientId))],
      entities: [],
      reasons: shown.map((a) => `alert ${a.id}`),
      query: queryText(req),
    });
    const last = shown[shown.length - 1];
    res.json({ alerts: shown, ...(alerts.length > n && last ? { next: alertCursorOf(last) } : {}) });
  });

  router.get('/alerts/:id', async (req, res) => {
    const ctx = context(req, res);
    const alert = await getAlert(options.engine, req.params['id']);
    if (!alert) throw new HttpOutcomeError(404, 'not-found', 'No such alert');
    await options.trail.recordOperation({ ...ctx, operation: AuditOperation.AUDIT_SEARCH, outcome: AuditDecision.PERMIT, patientIds: [alert.patientId], reasons: [`alert ${alert.id}`] });
    res.json(alert);
  });

  router.post('/alerts/:id/review', async (req, res) => {
    const ctx = context(req, res);
    const outcome = text(req.body, 'outcome');
    if (outcome === undefined) throw new HttpOutcomeError(400, 'required', 'outcome is required', 'outcome');
    if (!(Object.values(AlertReviewOutcome) as string[]).includes(outcome)) throw new HttpOutcomeError(400, 'invalid', `outcome must be one of ${Object.values(AlertReviewOutcome).join(', ')}`, 'outcome');
    const note = text(req.body, 'note');
    if (note !== undefined && note.length > 4000) throw new HttpOutcomeError(400, 'invalid', 'note must be at most 4000 characters', 'note');
    try {
      const alert = await reviewAlertAudited(options.engine, options.trail, {
        alertId: req.params['id'],
        outcome: outcome as AlertReviewOutcome,
        ...(note !== undefined ? { note } : {}),
        reviewer: ctx.requester,
        requestId: ctx.requestId,
        client: ctx.client,
        now: clock(),
      });
      res.json(alert);
    } catch (err) {
      if (err instanceof AlertNotFoundError) throw new HttpOutcomeError(404, 'not-found', 'No such alert');
      if (err instanceof AlertAlreadyReviewedError) throw new HttpOutcomeError(409, 'conflict', 'This alert has already been reviewed');
      if (err instanceof AlertInputError) throw new HttpOutcomeError(400, 'invalid', err.message, err.field);
      throw err;
    }
  });

  router.get('/checkpoints', async (_req, res) => {
    if (!options.keys) throw new HttpOutcomeError(404, 'not-found', 'Checkpoint export is not configured on this node');
    res.json(await exportCheckpoints(options.engine, options.keys, clock()));
  });

  return router;
}
