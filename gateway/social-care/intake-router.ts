import express, { type RequestHandler, type Router } from 'express';
import { HttpOutcomeError, notFoundOutcome } from '../api/errors';
import type { Logger } from '../logger';
import type { SqlClient } from '../store/engine';
import { countIssues, getImport, listIssues } from './imports';
import { NotAZipError, storeUpload, UploadTooLargeError } from './uploads';

/**
 * The social care intake over HTTP:
 * - POST /intake/social-care: the extract as a zip (application/zip or application/octet-stream),
 *   stored durably, answered 202 with the import id and where to follow it; the import runs in a
 *   worker (gateway/social-care/worker.ts).
 * - GET /intake/imports/{id}: status, counts, summary and the report (every rejected or altered row
 *   with file, line, column and reason), paged with `_offset` and `_count` (at most 10,000).
 *
 * Authentication hook: `requireSystem` runs before the upload. Until the access-control work
 * provides system authentication, the default lets every caller through; pass the real
 * middleware from gateway/app.ts when it lands.
 */
export const allowAnySystem: RequestHandler = (_req, _res, next) => {
  next();
};

const ZIP_TYPES = ['application/zip', 'application/x-zip-compressed', 'application/octet-stream'];

export interface SocialCareRouterOptions {
  readonly db: SqlClient;
  readonly logger: Logger;
  readonly maxUploadBytes?: number;
  /** System authentication for uploads (default: allow; see above). */
  readonly requireSystem?: RequestHandler;
  /** Called after an upload is stored, to wake a worker in this process. */
  readonly onReceived?: (importId: string) => void;
}

export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

function pageNumber(value: unknown, fallback: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 0 || n > max) throw new HttpOutcomeError(400, 'invalid', `${name} must be a whole number from 0 to ${max}`, name);
  return n;
}

export function socialCareIntakeRouter(options: SocialCareRouterOptions): Router {
  const router = express.Router();
  const maxBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  router.post('/social-care', options.requireSystem ?? allowAnySystem, async (req, res) => {
    if (!req.is(ZIP_TYPES)) throw new HttpOutcomeError(415, 'not-supported', 'Send the extract as a zip file (Content-Type: application/zip)');
    const declared = Number(req.get('content-length') ?? '0');
    if (declared > maxBytes) throw new HttpOutcomeError(413, 'too-costly', `The extract is larger than the limit of ${maxBytes} bytes`);
    let stored: Awaited<ReturnType<typeof storeUpload>>;
    try {
      const name = req.get('content-disposition')?.match(/filename="?([^";]+)"?/)?.[1];
      stored = await storeUpload(options.db, req, { maxBytes, fileName: name?.slice(0, 200) });
    } catch (err) {
      if (err instanceof UploadTooLargeError) throw new HttpOutcomeError(413, 'too-costly', `The extract is larger than the limit of ${maxBytes} bytes`);
      if (err instanceof NotAZipError) throw new HttpOutcomeError(400, 'invalid', 'The body is not a zip file');
      throw err;
    }
    options.logger.info({ importId: stored.importId, bytes: stored.sizeBytes }, 'social care extract received');
    options.onReceived?.(stored.importId);
    const location = `${req.baseUrl}/imports/${stored.importId}`;
    res.status(202).location(location).json({ importId: stored.importId, status: 'received', sizeBytes: stored.sizeBytes, sha256: stored.sha256, statusUrl: location });
  });
  router.get('/imports/:id', async (req, res) => {
    const id = req.params['id'];
    const record = await getImport(options.db, id);
    if (!record) throw notFoundOutcome(`No import ${id.slice(0, 40)}`);
    const offset = pageNumber(req.query['_offset'], 0, 100_000_000, '_offset');
    const count = pageNumber(req.query['_count'], 1000, 10_000, '_count');
    const total = await countIssues(options.db, record.id);
    const issues = await listIssues(options.db, record.id, offset, count);
    res.json({ ...record, report: { total, offset, count: issues.length, issues } });
  });
  return router;
}
