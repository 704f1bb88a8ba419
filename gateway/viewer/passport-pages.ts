import type { Patient } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { BAG_STATE_TEXT, BagState } from '../../mappings/passport/journey';
import { readTransferForm } from '../../mappings/passport/transfer-form';
import { PassportKind } from '../../mappings/passport/view';
import { Interaction, type Requester } from '../access/hooks';
import type { SecureReader } from '../access/secure-reader';
import { HttpOutcomeError } from '../api/errors';
import { passportHtml, passportPdf } from '../passport/present';
import type { BagSummary, PassportService } from '../passport/service';
import { requestIdOf, type RecordLink, type SignedInUser, type ViewerPageKit, type ViewerPages } from './page-kit';
import { formatDate } from './render';
import { fieldErrors, nestTransferForm, transferFormPage, type FlatForm } from './transfer-form-fields';

/**
 * The red bag passport in the viewer (issues "viewer" and "passport"), as the signed-in user:
 *   GET  /record/{id}/red-bag                        the person's red bags: journey, passport versions
 *   GET  /record/{id}/red-bag/new                    care home staff: the transfer form
 *   POST /record/{id}/red-bag                        the form checked, then a transfer passport issued
 *   GET  /record/{id}/passport/{passportId}/{version}[/pdf]   the reader's copy, printable or as PDF
 * The record page links to the red bag page for those who may open passports (and for care home
 * staff, to send the person to hospital). Access, withholding and audit are the PassportService's.
 */
export interface PassportPagesOptions {
  readonly service: PassportService;
  readonly reader: SecureReader;
  /** Whether the reader must first record permission to view, and whether they may open the record. */
  readonly decide: (requester: Requester, patientId: string) => Promise<{ readonly effect: 'permit' | 'deny'; readonly needsPermissionToView: boolean }>;
  /** The address the QR code's verification page is under (configured, or this request's host). */
  readonly publicBaseUrl: (req: Request) => string;
  readonly now?: () => Date;
}

const ID = /^[A-Za-z0-9.-]{1,64}$/;
const KIND_TEXT: Readonly<Record<string, string>> = { [PassportKind.TRANSFER]: 'Transfer passport', [PassportKind.DISCHARGE]: 'Discharge passport' };
const CARE_HOME_STAFF = 'care_home_staff';

/** Text of an OperationOutcome-carrying error, for the message page. */
function outcomeText(err: HttpOutcomeError): string {
  return err.outcome.issue[0]?.details?.text ?? 'The request could not be completed.';
}

function flat(body: unknown): FlatForm {
  const out: Record<string, string | readonly string[]> = {};
  if (typeof body !== 'object' || body === null) return out;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
  }
  return out;
}

export function passportPages(options: PassportPagesOptions): ViewerPages {
  const { service } = options;
  const now = options.now ?? ((): Date => new Date());

  return (router, kit: ViewerPageKit) => {
    const message = (res: Response, user: SignedInUser, status: number, title: string, text: string, back: string): void => {
      res.status(status);
      kit.page(res, 'message.njk', { ...kit.base(res, user), title, message: text, back });
    };

    /** The person's id from the path, or a 404 page. */
    const patientOf = (req: Request, res: Response, user: SignedInUser): string | undefined => {
      const id = String(req.params['id'] ?? '');
      if (ID.test(id)) return id;
      message(res, user, 404, 'Not found', 'There is no such record.', '/');
      return undefined;
    };

    /** The record must be open to the user now; permission to view is asked on the record page. */
    const mayProceed = async (res: Response, user: SignedInUser, patientId: string): Promise<boolean> => {
      const decision = await options.decide(user.requester, patientId);
      if (decision.needsPermissionToView) {
        res.redirect(303, `/record/${patientId}`);
        return false;
      }
      if (decision.effect !== 'permit') {
        message(res, user, 403, 'No access', 'You do not have access to this person\'s record.', `/record/${patientId}`);
        return false;
      }
      return true;
    };

    const personName = async (res: Response, user: SignedInUser, patientId: string): Promise<string> => {
      const read = await options.reader.read(kit.readRequest(res, user.requester, Interaction.READ, { resourceType: 'Patient', resourceId: patientId, patientId }), 'Patient', patientId);
      const patient = read.found ? (read.resource as Patient) : undefined;
      const name = patient?.name?.[0];
      return name ? [name.family?.toUpperCase(), ...(name.given ?? []).slice(0, 1)].filter(Boolean).join(', ') : 'This person';
    };

    const handled = async (res: Response, user: SignedInUser, back: string, work: () => Promise<void>): Promise<void> => {
      try {
        await work();
      } catch (err) {
        if (!(err instanceof HttpOutcomeError)) throw err;
        message(res, user, err.status, err.status === 403 ? 'Not available' : err.status === 404 ? 'Not found' : 'There is a problem', outcomeText(err), back);
      }
    };

    const bagView = (patientId: string, { bag, versions }: BagSummary): Record<string, unknown> => ({
      id: bag.id,
      careHome: bag.careHomeName ?? bag.careHome,
      state: BAG_STATE_TEXT[bag.journey.state],
      awaiting: bag.journey.state === BagState.AWAITING_DISCHARGE,
      expectedDischarge: bag.journey.expectedDischarge,
      steps: bag.journey.steps.map((s) => ({ text: BAG_STATE_TEXT[s.state], at: s.at })),
      versions: [...versions]
        .sort((a, b) => b.issuedAt.localeCompare(a.issuedAt) || b.version - a.version)
        .map((v) => ({
          kind: KIND_TEXT[v.kind] ?? v.kind,
          version: v.version,
          issuedAt: v.issuedAt,
          issuedBy: v.issuedBy,
          reason: v.reason,
          href: `/record/${patientId}/passport/${v.id}/${String(v.version)}`,
        })),
    });

    kit.addRecordLinks(async (requester, patientId, decided): Promise<readonly RecordLink[]> => {
      const bags = await service.bagsFor(requester, patientId, { decided });
      const latest = bags[0];
      if (requester.role === CARE_HOME_STAFF) {
        return [{ href: `/record/${patientId}/red-bag`, text: bags.length > 0 ? 'Red bag: passports, or send to hospital' : 'Red bag: send to hospital', ...(latest ? { detail: `${BAG_STATE_TEXT[latest.bag.journey.state]}, ${formatDate(latest.bag.journey.steps.at(-1)?.at, true)}` } : {}) }];
      }
      if (!latest) return [];
      return [{ href: `/record/${patientId}/red-bag`, text: `Red bag passports (${String(bags.reduce((n, b) => n + b.versions.length, 0))})`, detail: `${BAG_STATE_TEXT[latest.bag.journey.state]}, ${formatDate(latest.bag.journey.steps.at(-1)?.at, true)}` }];
    });

    router.get(
      '/record/:id/red-bag',
      kit.requireSignIn(async (req, res, user) => {
        const patientId = patientOf(req, res, user);
        if (!patientId || !(await mayProceed(res, user, patientId))) return;
        await handled(res, user, `/record/${patientId}`, async () => {
          const bags = await service.bagsFor(user.requester, patientId, { audited: { requestId: requestIdOf(res) } });
          const name = await personName(res, user, patientId);
          kit.page(res, 'red-bag.njk', {
            ...kit.base(res, user),
            title: `Red bag: ${name}`,
            name,
            patientId,
            canSend: user.requester.role === CARE_HOME_STAFF,
            bags: bags.map((b) => bagView(patientId, b)),
          });
        });
      }),
    );

    const showForm = async (res: Response, user: SignedInUser, patientId: string, form: FlatForm, errors: ReturnType<typeof fieldErrors>): Promise<void> => {
      const name = await personName(res, user, patientId);
      if (errors.length > 0) res.status(400);
      kit.page(res, 'transfer-form.njk', { ...kit.base(res, user), title: `${errors.length > 0 ? 'Error: ' : ''}Transfer to hospital: ${name}`, name, patientId, ...transferFormPage(form, errors) });
    };

    const careHomeOnly = (res: Response, user: SignedInUser, patientId: string): boolean => {
      if (user.requester.role === CARE_HOME_STAFF) return true;
      message(res, user, 403, 'Not available', 'Only care home staff fill in the transfer form, for their own residents.', `/record/${patientId}`);
      return false;
    };

    router.get(
      '/record/:id/red-bag/new',
      kit.requireSignIn(async (req, res, user) => {
        const patientId = patientOf(req, res, user);
        if (!patientId || !careHomeOnly(res, user, patientId) || !(await mayProceed(res, user, patientId))) return;
        await showForm(res, user, patientId, {}, []);
      }),
    );

    router.post(
      '/record/:id/red-bag',
      kit.requireSignIn(async (req, res, user) => {
        const patientId = patientOf(req, res, user);
        if (!patientId || !careHomeOnly(res, user, patientId) || !(await mayProceed(res, user, patientId))) return;
        const form = flat(req.body);
        const nested = nestTransferForm(form);
        const read = readTransferForm(nested.input, now());
        if ('problems' in read || nested.timeProblems.size > 0) {
          await showForm(res, user, patientId, form, fieldErrors(nested, 'problems' in read ? read.problems : []));
          return;
        }
        await handled(res, user, `/record/${patientId}`, async () => {
          const issued = await service.issueTransfer({ patientId, form: read.form, requester: user.requester, requestId: requestIdOf(res) });
          res.redirect(303, `/record/${patientId}/passport/${issued.passportId}/${String(issued.version)}`);
        });
      }),
    );

    const copyOf = async (req: Request, res: Response, user: SignedInUser): Promise<Awaited<ReturnType<PassportService['readerDocument']>> | undefined> => {
      const patientId = patientOf(req, res, user);
      if (!patientId) return undefined;
      const passportId = String(req.params['passportId'] ?? '');
      const version = String(req.params['version'] ?? '');
      if (!ID.test(passportId) || !/^\d{1,6}$/.test(version)) {
        message(res, user, 404, 'Not found', 'There is no such passport.', `/record/${patientId}/red-bag`);
        return undefined;
      }
      let doc: Awaited<ReturnType<PassportService['readerDocument']>> | undefined;
      await handled(res, user, `/record/${patientId}`, async () => {
        doc = await service.readerDocument({ passportId, version: Number(version), requester: user.requester, requestId: requestIdOf(res) });
      });
      return doc;
    };

    router.get(
      '/record/:id/passport/:passportId/:version',
      kit.requireSignIn(async (req, res, user) => {
        const doc = await copyOf(req, res, user);
        if (!doc) return;
        const nonce = String(res.locals['cspNonce'] ?? '');
        const html = await passportHtml(doc.view, options.publicBaseUrl(req), { nonce });
        // The printable page has its own stylesheet, inline under this response's nonce.
        const csp = res.getHeader('Content-Security-Policy');
        if (typeof csp === 'string') res.setHeader('Content-Security-Policy', csp.replace(/style-src 'self'/, `style-src 'self' 'nonce-${nonce}'`));
        const patientId = String(req.params['id']);
        const pdf = `/record/${patientId}/passport/${doc.view.passportId}/${String(doc.view.version)}/pdf`;
        const back =
          `<style nonce="${nonce}">.cb-passport-nav{font-family:Arial,sans-serif;max-width:190mm;margin:0 auto;padding:4mm 0 0;display:flex;gap:8mm}` +
          `.cb-passport-nav a{color:#005eb8}@media print{.cb-passport-nav{display:none}}</style>` +
          `<nav class="cb-passport-nav" aria-label="Passport"><a href="/record/${patientId}/red-bag">Back to the red bag</a><a href="${pdf}">Download PDF</a>` +
          (doc.latestVersion > doc.view.version ? `<a href="/record/${patientId}/passport/${doc.view.passportId}/${String(doc.latestVersion)}">A newer version (${String(doc.latestVersion)}) was issued</a>` : '') +
          `</nav>`;
        res.type('html').send(html.replace('<body>', `<body>\n${back}`));
      }),
    );

    router.get(
      '/record/:id/passport/:passportId/:version/pdf',
      kit.requireSignIn(async (req, res, user) => {
        const doc = await copyOf(req, res, user);
        if (!doc) return;
        const pdf = await passportPdf(doc.view, options.publicBaseUrl(req));
        res.setHeader('Content-Disposition', `inline; filename="passport-${doc.view.passportId.slice(0, 8)}-v${String(doc.view.version)}.pdf"`);
        res.type('application/pdf').send(pdf);
      }),
    );
  };
}
