import express, { type Router } from 'express';
import { requesterOf } from '../auth/middleware';
import { listIdentityReviews, recordIdentityDecision } from '../identity/admin';
import { MergeError, mergeSourceRecords, unmergeSourceRecords } from '../identity/merge';
import { ReviewKind } from '../identity/rules';
import type { Store } from '../store/store';
import { HttpOutcomeError } from './errors';
import { ID_PATTERN } from './search-parser';

/**
 * The identity admin API: the review list and an admin's link, unlink, merge and unmerge, each with
 * a reason. The app mounts it behind `authenticate` and `requireRole('admin')`; who decided is the
 * token's user, never a field of the request body.
 */
export interface AdminRouterOptions {
  store: Store;
}

function text(body: unknown, field: string, pattern?: RegExp): string {
  const value = (body as Record<string, unknown> | undefined)?.[field];
  if (typeof value !== 'string' || value.trim() === '') throw new HttpOutcomeError(400, 'required', `${field} is required`, field);
  if (pattern && !pattern.test(value)) throw new HttpOutcomeError(400, 'invalid', `${field} is not a valid id`, field);
  return value.trim();
}

export function adminRouter(options: AdminRouterOptions): Router {
  const router = express.Router();
  router.use(express.json({ limit: '16kb' }));

  router.get('/identity/reviews', async (req, res) => {
    const kinds = typeof req.query['kind'] === 'string' ? req.query['kind'].split(',') : undefined;
    const known = Object.values(ReviewKind) as string[];
    for (const k of kinds ?? []) if (!known.includes(k)) throw new HttpOutcomeError(400, 'invalid', `kind must be one of ${known.join(', ')}`, 'kind');
    res.json(await listIdentityReviews(options.store.engine, kinds));
  });
  router.get('/identity/conflicts', async (_req, res) => {
    res.json(await listIdentityReviews(options.store.engine, [ReviewKind.CONFLICT_BIRTH_DATE, ReviewKind.CONFLICT_SAME_SOURCE]));
  });

  for (const kind of ['link', 'unlink'] as const) {
    router.post(`/identity/${kind}`, async (req, res) => {
      const input = { kind, a: text(req.body, 'a', ID_PATTERN), b: text(req.body, 'b', ID_PATTERN), reason: text(req.body, 'reason'), decidedBy: requesterOf(res).userId };
      try {
        const result = await recordIdentityDecision(options.store, input);
        res.json({ decision: kind, person: result.persons.find((p) => p.members.includes(input.a)) });
      } catch (err) {
        if (err instanceof Error && /must exist|reason is required|same person as itself/.test(err.message)) throw new HttpOutcomeError(400, 'invalid', err.message);
        throw err;
      }
    });
  }

  router.post('/identity/merge', async (req, res) => {
    try {
      res.json(await mergeSourceRecords(options.store, { mergedId: text(req.body, 'mergedId', ID_PATTERN), survivorId: text(req.body, 'survivorId', ID_PATTERN), reason: text(req.body, 'reason'), mergedBy: requesterOf(res).userId }));
    } catch (err) {
      if (err instanceof MergeError) throw new HttpOutcomeError(409, 'conflict', err.message);
      throw err;
    }
  });
  router.post('/identity/unmerge', async (req, res) => {
    try {
      res.json(await unmergeSourceRecords(options.store, { mergedId: text(req.body, 'mergedId', ID_PATTERN) }));
    } catch (err) {
      if (err instanceof MergeError) throw new HttpOutcomeError(409, 'conflict', err.message);
      throw err;
    }
  });
  return router;
}
