import type { AuditEvent } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, normaliseNhsNumber } from '../../mappings/identity/nhs-number';
import type { ClientInfo } from '../access/hooks';
import { ID_PATTERN } from '../api/search-parser';
import { reviewAlertAudited } from '../audit/alert-review';
import { AlertAlreadyReviewedError, AlertInputError, AlertNotFoundError, AlertReviewOutcome, getAlert, noteRequired, type Alert } from '../audit/alerts';
import { AuditDecision, AuditOperation } from '../audit/audit-event';
import type { AuditTrail } from '../audit/audit-trail';
import { accessReport, accessReportEntry, searchTrail, type AccessReportEntry } from '../audit/trail-search';
import { CareRole, clientInfoOf } from '../auth';
import type { SqlEngine } from '../store/engine';
import { requestIdOf, type SignedInHandler, type SignedInUser, type ViewerPageKit, type ViewerPages } from './page-kit';

/**
 * The privacy officer's pages beside the open alerts: one alert with its review form, the audit
 * trail's search, and a person's access report. They call the audit module's own functions (the
 * audit API's), and each page is itself audited as the API's reads are. The trail holds who,
 * when, why and references with counts, never clinical content, and so do these pages.
 */
export interface PrivacyPagesOptions {
  readonly engine: SqlEngine;
  readonly trail: Pick<AuditTrail, 'recordOperation' | 'appendWithin'>;
  /** All the patient ids that are one person with this one (identity linking). */
  readonly linkedPatientIds: (patientId: string) => Promise<readonly string[]>;
  readonly organisationName: (organisation: string | undefined) => string;
  readonly now?: () => Date;
}

const PAGE_SIZE = 25;

const OUTCOME_TEXT: Readonly<Record<AlertReviewOutcome, string>> = {
  appropriate: 'Appropriate: the access was justified',
  'inappropriate-advised': 'Inappropriate: the user has been advised',
  'inappropriate-escalated': 'Inappropriate: escalated (line manager, HR, Caldicott guardian or incident report)',
};

const KIND_TEXT: Readonly<Record<string, string>> = {
  'self-claim': 'Self-claimed relationship',
  'break-glass': 'Emergency access (break-glass)',
  'refusal-override': 'Override of a refusal',
  'very-restricted-access': 'Access to very restricted information',
};

const PURPOSE_TEXT: Readonly<Record<string, string>> = { TREAT: 'Direct care', BTG: 'Emergency (break-glass)', HOPERAT: 'Service management', PATADMIN: 'Administration' };

const INTERACTION_TEXT: Readonly<Record<string, string>> = {
  read: 'Read',
  vread: 'Read a version',
  'history-instance': 'History',
  'search-type': 'Search',
  everything: 'Whole record',
  [AuditOperation.ALERT_REVIEW]: 'Alert review',
  [AuditOperation.AUDIT_SEARCH]: 'Audit search',
  [AuditOperation.ACCESS_REPORT]: 'Access report',
  [AuditOperation.BREAK_GLASS]: 'Emergency access',
  [AuditOperation.SELF_CLAIM]: 'Relationship claim',
  [AuditOperation.PERMISSION_TO_VIEW]: 'Permission to view',
  [AuditOperation.CONSENT_RECORD]: 'Consent recorded',
  [AuditOperation.IDENTITY_DECISION]: 'Identity decision',
  [AuditOperation.WORKLIST_ACKNOWLEDGE]: 'Worklist acknowledgement',
  [AuditOperation.AUTHENTICATION]: 'Token refused',
  [AuditOperation.SIGN_IN]: 'Sign-in',
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;


function queryText(req: Request): string {
  const i = req.originalUrl.indexOf('?');
  return i >= 0 ? req.originalUrl.slice(i + 1) : '';
}

function param(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === 'string' ? value.trim().slice(0, 100) : '';
}

function field(body: unknown, name: string, max: number): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.trim().slice(0, max) : '';
}

/** The patients a privacy officer's entry names: an NHS number's records, or one record id. */
async function patientsNamed(engine: SqlEngine, text: string): Promise<{ ids: string[]; nhsNumber?: string } | string> {
  const nhs = normaliseNhsNumber(text);
  if (nhs && /^\d{10}$/.test(nhs)) {
    if (!isValidNhsNumber(nhs)) return 'Enter a valid 10-digit NHS number, or a record id';
    const rows = await engine.query<{ id: string }>(`SELECT id FROM resource WHERE resource_type = 'Patient' AND content->'identifier' @> $1::jsonb ORDER BY id`, [
      JSON.stringify([{ system: NHS_NUMBER_SYSTEM, value: nhs }]),
    ]);
    return { ids: rows.rows.map((r) => r.id), nhsNumber: nhs };
  }
  if (!ID_PATTERN.test(text)) return 'Enter a valid 10-digit NHS number, or a record id';
  return { ids: [text] };
}

function dateParam(req: Request, name: string, label: string, errors: { text: string; href: string }[], endOfDay = false): Date | undefined {
  const text = param(req, name);
  if (text === '') return undefined;
  const parsed = DATE.test(text) ? new Date(`${text}T00:00:00Z`) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime())) {
    errors.push({ text: `Enter ${label} as a date, for example 2026-11-23`, href: `#${name}` });
    return undefined;
  }
  // "To" is inclusive on the page; the trail's search takes an exclusive end.
  return endOfDay ? new Date(parsed.getTime() + 86_400_000) : parsed;
}

function beforeParam(req: Request): number | undefined {
  const text = param(req, 'before');
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

function patientsOf(event: AuditEvent): string[] {
  return (event.entity ?? []).filter((e) => e.role?.code === '1').map((e) => (e.what?.reference ?? '').replace(/^Patient\//, '')).filter((id) => id !== '');
}

export function privacyPages(options: PrivacyPagesOptions): ViewerPages {
  const now = options.now ?? ((): Date => new Date());
  const linked = async (ids: readonly string[]): Promise<string[]> => {
    const all = new Set<string>(ids);
    for (const id of ids) for (const other of await options.linkedPatientIds(id)) all.add(other);
    return [...all].sort();
  };

  return (router, kit: ViewerPageKit) => {
    /** Privacy officers only; anyone else gets the 403 page. */
    const officerOnly = (handler: SignedInHandler): ReturnType<ViewerPageKit['requireSignIn']> =>
      kit.requireSignIn(async (req, res, user) => {
        if (user.requester.role !== CareRole.PRIVACY_OFFICER) {
          res.status(403);
          kit.page(res, 'message.njk', { ...kit.base(res, user), title: 'Not available', message: 'These pages are for the privacy officer.', back: '/' });
          return;
        }
        await handler(req, res, user);
      });

    const audited = (req: Request, res: Response, user: SignedInUser): { requestId: string; requester: SignedInUser['requester']; client: ClientInfo } => ({
      requestId: requestIdOf(res),
      requester: user.requester,
      client: clientInfoOf(req),
    });

    const who = (e: AccessReportEntry): Record<string, unknown> => ({
      when: e.when,
      name: e.user.name ?? e.user.id,
      userId: e.user.id,
      role: e.role,
      organisation: e.organisation ? options.organisationName(e.organisation) : undefined,
      teams: e.teams,
      purpose: e.purposeOfUse ? (PURPOSE_TEXT[e.purposeOfUse] ?? e.purposeOfUse) : undefined,
      operation: INTERACTION_TEXT[e.interaction] ?? e.interaction,
      decision: e.decision,
      reasons: e.reasons,
      returned: e.returned.length,
      withheld: e.withheld,
      address: e.from?.address,
    });

    const showAlert = (res: Response, user: SignedInUser, alert: Alert, form: { outcome?: string; note?: string; error?: { text: string; href: string } } = {}): void => {
      const outcomes = Object.values(AlertReviewOutcome).map((value) => ({ value, text: OUTCOME_TEXT[value], noteRequired: noteRequired(value) }));
      kit.page(res, 'privacy-alert.njk', {
        ...kit.base(res, user),
        title: 'Alert',
        alert,
        kind: KIND_TEXT[alert.kind] ?? alert.kind,
        organisation: alert.requester.organisation ? options.organisationName(alert.requester.organisation) : undefined,
        purpose: PURPOSE_TEXT[alert.requester.purposeOfUse] ?? alert.requester.purposeOfUse,
        outcomes,
        reviewOutcome: alert.review ? OUTCOME_TEXT[alert.review.outcome] : undefined,
        form,
      });
    };

    router.get(
      '/privacy/alerts/:id',
      officerOnly(async (req, res, user) => {
        const alert = await getAlert(options.engine, String(req.params['id']));
        if (!alert) {
          res.status(404);
          kit.page(res, 'message.njk', { ...kit.base(res, user), title: 'Not found', message: 'There is no such alert.', back: '/privacy/alerts' });
          return;
        }
        await options.trail.recordOperation({ ...audited(req, res, user), operation: AuditOperation.AUDIT_SEARCH, outcome: AuditDecision.PERMIT, patientIds: [alert.patientId], reasons: [`alert ${alert.id}`] });
        showAlert(res, user, alert);
      }),
    );

    router.post(
      '/privacy/alerts/:id/review',
      officerOnly(async (req, res, user) => {
        const alertId = String(req.params['id']);
        const outcome = field(req.body, 'outcome', 64);
        const note = field(req.body, 'note', 4000);
        const current = await getAlert(options.engine, alertId);
        if (!current) {
          res.status(404);
          kit.page(res, 'message.njk', { ...kit.base(res, user), title: 'Not found', message: 'There is no such alert.', back: '/privacy/alerts' });
          return;
        }
        if (!(Object.values(AlertReviewOutcome) as string[]).includes(outcome)) {
          res.status(400);
          showAlert(res, user, current, { note, error: { text: 'Choose the outcome of your review', href: `#outcome-${AlertReviewOutcome.APPROPRIATE}` } });
          return;
        }
        try {
          await reviewAlertAudited(options.engine, options.trail, {
            alertId,
            outcome: outcome as AlertReviewOutcome,
            ...(note !== '' ? { note } : {}),
            reviewer: user.requester,
            requestId: requestIdOf(res),
            client: clientInfoOf(req),
            now: now(),
          });
        } catch (err) {
          if (err instanceof AlertInputError) {
            res.status(400);
            showAlert(res, user, current, { outcome, note, error: { text: err.field === 'note' ? 'Write a note: a finding of inappropriate access needs one' : 'Choose the outcome of your review', href: err.field === 'note' ? '#note' : `#outcome-${AlertReviewOutcome.APPROPRIATE}` } });
            return;
          }
          if (err instanceof AlertAlreadyReviewedError || err instanceof AlertNotFoundError) {
            res.status(err instanceof AlertNotFoundError ? 404 : 409);
            kit.page(res, 'message.njk', { ...kit.base(res, user), title: 'Already reviewed', message: 'This alert has already been reviewed.', back: `/privacy/alerts/${alertId}` });
            return;
          }
          throw err;
        }
        res.redirect(303, `/privacy/alerts/${alertId}`);
      }),
    );

    router.get(
      '/privacy/audit',
      officerOnly(async (req, res, user) => {
        const errors: { text: string; href: string }[] = [];
        const q = { patient: param(req, 'patient'), user: param(req, 'user'), from: param(req, 'from'), to: param(req, 'to') };
        let patientIds: string[] | undefined;
        if (q.patient) {
          const named = await patientsNamed(options.engine, q.patient);
          if (typeof named === 'string') errors.push({ text: named, href: '#patient' });
          else patientIds = await linked(named.ids);
        }
        const from = dateParam(req, 'from', 'the first day', errors);
        const to = dateParam(req, 'to', 'the last day', errors, true);
        if (from && to && from >= to) errors.push({ text: 'The first day must be on or before the last day', href: '#from' });
        if (errors.length > 0) {
          res.status(400);
          kit.page(res, 'privacy-audit.njk', { ...kit.base(res, user), title: 'Audit trail', query: q, errors });
          return;
        }
        const page =
          patientIds && patientIds.length === 0
            ? { events: [] }
            : await searchTrail(options.engine, { ...(patientIds ? { patientIds } : {}), ...(q.user ? { userId: q.user } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}), ...(beforeParam(req) !== undefined ? { before: beforeParam(req) } : {}), count: PAGE_SIZE });
        await options.trail.recordOperation({
          ...audited(req, res, user),
          operation: AuditOperation.AUDIT_SEARCH,
          outcome: AuditDecision.PERMIT,
          patientIds: patientIds ?? [...new Set(page.events.flatMap((e) => patientsOf(e.event)))],
          entities: page.events.map((e) => `AuditEvent/${e.event.id ?? ''}`),
          query: queryText(req),
        });
        const next = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== ''));
        if (page.nextBefore !== undefined) next.set('before', String(page.nextBefore));
        kit.page(res, 'privacy-audit.njk', {
          ...kit.base(res, user),
          title: 'Audit trail',
          query: q,
          searched: true,
          entries: page.events.map((e) => ({ seq: e.seq, patients: patientsOf(e.event), ...who(accessReportEntry(e.event)) })),
          older: page.nextBefore !== undefined ? `/privacy/audit?${next.toString()}` : undefined,
          newest: beforeParam(req) !== undefined ? `/privacy/audit?${new URLSearchParams(Object.entries(q).filter(([, v]) => v !== '')).toString()}` : undefined,
        });
      }),
    );

    // The access report of the person an NHS number (or record id) names.
    router.get(
      '/privacy/access-report',
      officerOnly(async (req, res, user) => {
        const text = param(req, 'patient');
        const named = text ? await patientsNamed(options.engine, text) : 'Enter an NHS number or a record id';
        if (typeof named === 'string' || named.ids.length === 0) {
          res.status(typeof named === 'string' ? 400 : 404);
          kit.page(res, 'privacy-audit.njk', { ...kit.base(res, user), title: 'Audit trail', query: {}, reportQuery: text, errors: [{ text: typeof named === 'string' ? named : 'No record has that NHS number', href: '#report-patient' }] });
          return;
        }
        res.redirect(303, `/privacy/patients/${encodeURIComponent(named.ids[0] ?? '')}/access-report`);
      }),
    );

    router.get(
      '/privacy/patients/:id/access-report',
      officerOnly(async (req, res, user) => {
        const id = String(req.params['id']);
        if (!ID_PATTERN.test(id)) {
          res.status(404);
          kit.page(res, 'message.njk', { ...kit.base(res, user), title: 'Not found', message: 'There is no such record.', back: '/privacy/audit' });
          return;
        }
        const patientIds = await linked([id]);
        const before = beforeParam(req);
        const report = await accessReport(options.engine, patientIds, { ...(before !== undefined ? { before } : {}), count: PAGE_SIZE });
        await options.trail.recordOperation({
          ...audited(req, res, user),
          operation: AuditOperation.ACCESS_REPORT,
          outcome: AuditDecision.PERMIT,
          patientIds,
          entities: report.entries.map((e) => `AuditEvent/${e.auditEventId}`),
          query: queryText(req),
        });
        kit.page(res, 'privacy-access-report.njk', {
          ...kit.base(res, user),
          title: 'Access report',
          patientId: id,
          patientIds,
          entries: report.entries.map(who),
          older: report.nextBefore !== undefined ? `/privacy/patients/${encodeURIComponent(id)}/access-report?before=${String(report.nextBefore)}` : undefined,
          newest: before !== undefined ? `/privacy/patients/${encodeURIComponent(id)}/access-report` : undefined,
          generatedAt: now().toISOString(),
        });
      }),
    );
  };
}
