import express, { type Request, type Response, type Router } from 'express';
import { readTransferForm } from '../../mappings/passport/transfer-form';
import type { Requester } from '../access/hooks';
import { HttpOutcomeError } from '../api/errors';
import { passportHtml, passportPdf } from './present';
import type { PassportService } from './service';

/**
 * The passport API for people (bearer tokens; the viewer has its own pages):
 *   POST /passport/Patient/{id}/transfer   the care home's transfer form → a transfer passport
 *   GET  /passport/Patient/{id}            the person's red bags, journeys and passport versions
 *   GET  /passport/{passportId}[/{version}] the reader's copy as a FHIR document (latest when no version)
 *   GET  /passport/{passportId}/{version}/html | /pdf   the same copy printable
 * The verification page and endpoint are public (verify-router.ts).
 */
export interface PassportRouterOptions {
  readonly service: PassportService;
  readonly requester: (req: Request, res: Response) => Requester;
  readonly publicBaseUrl: (req: Request) => string;
}

const ID = /^[A-Za-z0-9.-]{1,64}$/;

export function passportRouter(options: PassportRouterOptions): Router {
  const router = express.Router();
  const { service } = options;
  const requestId = (res: Response): string => String(res.locals['requestId'] ?? '');
  const idParam = (req: Request, name: string): string => {
    const value = String(req.params[name] ?? '');
    if (!ID.test(value)) throw new HttpOutcomeError(404, 'not-found', 'There is no such passport or person');
    return value;
  };
  const versionParam = (req: Request): number | undefined => {
    const value = req.params['version'];
    if (value === undefined) return undefined;
    if (!/^\d{1,6}$/.test(String(value))) throw new HttpOutcomeError(400, 'invalid', 'The version is a whole number', 'version');
    return Number(value);
  };

  router.post('/Patient/:id/transfer', express.json({ limit: '256kb', type: ['application/json', 'application/fhir+json'] }), async (req, res) => {
    const patientId = idParam(req, 'id');
    const read = readTransferForm(req.body, new Date());
    if ('problems' in read) {
      res.status(400).type('application/fhir+json').json({
        resourceType: 'OperationOutcome',
        issue: read.problems.map((p) => ({ severity: 'error', code: 'invalid', details: { text: `${p.field} ${p.reason}` }, expression: [p.field] })),
      });
      return;
    }
    const issued = await service.issueTransfer({ patientId, form: read.form, requester: options.requester(req, res), requestId: requestId(res) });
    res.status(201).location(`/passport/${issued.passportId}/${String(issued.version)}`).json({ ...issued, document: `/passport/${issued.passportId}/${String(issued.version)}` });
  });

  router.get('/Patient/:id', async (req, res) => {
    const patientId = idParam(req, 'id');
    const bags = await service.bagsFor(options.requester(req, res), patientId, { audited: { requestId: requestId(res) } });
    res.json({
      redBags: bags.map(({ bag, versions }) => ({
        id: bag.id,
        state: bag.journey.state,
        careHome: bag.careHomeName ?? bag.careHome,
        ...(bag.encounterId ? { encounter: `Encounter/${bag.encounterId}` } : {}),
        ...(bag.journey.expectedDischarge ? { expectedDischarge: bag.journey.expectedDischarge } : {}),
        journey: bag.journey.steps,
        passports: versions.map((v) => ({ id: v.id, version: v.version, kind: v.kind, issuedAt: v.issuedAt, issuedBy: v.issuedBy, ...(v.reason ? { reason: v.reason } : {}), document: `/passport/${v.id}/${String(v.version)}` })),
      })),
    });
  });

  const copy = async (req: Request, res: Response): Promise<Awaited<ReturnType<PassportService['readerDocument']>>> => {
    const passportId = idParam(req, 'passportId');
    const version = versionParam(req);
    return service.readerDocument({ passportId, ...(version === undefined ? {} : { version }), requester: options.requester(req, res), requestId: requestId(res) });
  };

  router.get('/:passportId/:version/html', async (req, res) => {
    const doc = await copy(req, res);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(await passportHtml(doc.view, options.publicBaseUrl(req)));
  });
  router.get('/:passportId/:version/pdf', async (req, res) => {
    const doc = await copy(req, res);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', `inline; filename="passport-${doc.view.passportId.slice(0, 8)}-v${String(doc.view.version)}.pdf"`);
    res.type('application/pdf').send(await passportPdf(doc.view, options.publicBaseUrl(req)));
  });
  const json = async (req: Request, res: Response): Promise<void> => {
    const doc = await copy(req, res);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Passport-Latest-Version', String(doc.latestVersion));
    res.type('application/fhir+json').send(JSON.stringify(doc.bundle));
  };
  router.get('/:passportId/:version', json);
  router.get('/:passportId', json);
  return router;
}
