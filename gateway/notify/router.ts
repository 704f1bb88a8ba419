import type { Bundle, BundleEntry, OperationOutcome } from '@medplum/fhirtypes';
import express, { type Request, type Response, type Router } from 'express';
import { NotificationType, SubscriptionState, subscriptionStatus } from '../../mappings/notify/notification';
import { ChannelType, readSubscription } from '../../mappings/notify/subscription';
import { ALL_TOPICS, TOPIC_DESCRIPTIONS, topicCanonical } from '../../mappings/notify/topics';
import { ODS_ORGANIZATION_SYSTEM, qualifiedId } from '../../mappings/identifiers';
import type { Requester } from '../access/hooks';
import { HttpOutcomeError } from '../api/errors';
import type { SqlClient } from '../store/engine';
import {
  nobody,
  noAcknowledgementAudit,
  ownOrganisationSystemsOnly,
  ownPartiesOnly,
  WorklistScope,
  type AcknowledgementAudit,
  type RequesterResolver,
  type SubscriptionPermission,
  type WorklistPermission,
} from './access';
import { dischargeNotices } from './timeliness';
import { summariseTimeliness } from '../../mappings/notify/timeliness';
import { createSubscription, deleteSubscription, getSubscription, listSubscriptions, subscriptionBacklogs, subscriptionResource, type StoredSubscription, type SubscriptionBacklog } from './subscriptions';
import { acknowledgeWorklistItem } from './acknowledge';
import { worklist, WorklistView } from './worklist';

/**
 * HTTP for notifications. Mounted by the lead in app.ts:
 *   /fhir/Subscription  subscriptionRouter: POST (the one FHIR write a system may make), GET, DELETE, $status
 *   /worklist           worklistRouter: the views, and acknowledgement of items
 *   /notify             notifyRouter: the topic list, the timeliness measure
 * Each takes the requester resolver and permission functions; the defaults refuse.
 */

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

function send(res: Response, status: number, body: unknown): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

async function requireRequester(resolve: RequesterResolver, req: Request): Promise<Requester> {
  const requester = await resolve(req);
  if (!requester) throw new HttpOutcomeError(401, 'login', 'Authentication is required');
  return requester;
}

function problemsOutcome(problems: readonly { expression: string; text: string }[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: problems.map((p) => ({ severity: 'error', code: 'invalid', details: { text: p.text }, expression: [p.expression] })) };
}

export interface SubscriptionRouterOptions {
  readonly db: SqlClient;
  readonly requester?: RequesterResolver;
  readonly permission?: SubscriptionPermission;
  /** http:// endpoints allowed (development only). */
  readonly allowHttp: boolean;
  /** Whether an SMTP relay is configured: e-mail subscriptions are refused without one. */
  readonly emailEnabled: boolean;
  readonly publicBaseUrl?: string;
}

export function subscriptionRouter(options: SubscriptionRouterOptions): Router {
  const router = express.Router();
  const resolve = options.requester ?? nobody;
  const may = options.permission ?? ownOrganisationSystemsOnly;
  const base = (req: Request): string => `${options.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`}/fhir`;
  router.use(express.json({ type: ['application/json', 'application/fhir+json'], limit: '64kb' }));

  /** The subscription if it exists and the requester may manage it; 404 otherwise (existence is not disclosed). */
  const own = async (req: Request, requester: Requester): Promise<StoredSubscription> => {
    const sub = await getSubscription(options.db, String(req.params['id']));
    if (!sub || !may(requester, sub.recipient)) throw new HttpOutcomeError(404, 'not-found', 'No such subscription');
    return sub;
  };

  router.post('/', async (req, res) => {
    const requester = await requireRequester(resolve, req);
    const read = readSubscription(req.body, { allowHttp: options.allowHttp });
    if (!read.ok) {
      send(res, 400, problemsOutcome(read.problems));
      return;
    }
    const { terms } = read;
    if (!may(requester, terms.recipient)) throw new HttpOutcomeError(403, 'forbidden', 'A system may subscribe only for its own organisation');
    if (terms.channelType === ChannelType.EMAIL && !options.emailEnabled) throw new HttpOutcomeError(400, 'not-supported', 'E-mail notifications are not configured on this server');
    // A rest-hook subscription starts `requested`: its endpoint is sent a handshake, and events wait for the answer.
    const created = await createSubscription(options.db, terms, { organisation: requester.organisation ?? terms.recipient, createdBy: requester.system ?? requester.userId }, { handshake: true });
    res.setHeader('Location', `${base(req)}/Subscription/${created.id}`);
    send(res, 201, subscriptionResource(created, { includeSecret: true }));
  });

  /**
   * The subscriptions the requester may manage, only those in the `status` query parameter's
   * states (repeated or comma-separated) when it is given, and only those named in `ids` when any are.
   */
  const callersSubscriptions = async (req: Request, requester: Requester, ids: readonly string[] = []): Promise<StoredSubscription[]> => {
    const states = queryList(req, 'status');
    const known = Object.values(SubscriptionState) as string[];
    const unknown = states.find((st) => !known.includes(st));
    if (unknown !== undefined) throw new HttpOutcomeError(400, 'invalid', `status must be one of ${known.join(', ')}`, 'status');
    return (await listSubscriptions(options.db)).filter((s) => may(requester, s.recipient) && (ids.length === 0 || ids.includes(s.id)) && (states.length === 0 || states.includes(s.status)));
  };

  router.get('/', async (req, res) => {
    const requester = await requireRequester(resolve, req);
    const mine = await callersSubscriptions(req, requester);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: mine.length,
      entry: mine.map((s) => ({ fullUrl: `${base(req)}/Subscription/${s.id}`, resource: subscriptionResource(s), search: { mode: 'match' } })),
    };
    send(res, 200, bundle);
  });

  /** The backport's SubscriptionStatus (R4: Parameters) of `$status`, with our delivery bookkeeping. */
  const statusOf = (req: Request, sub: StoredSubscription, backlog: SubscriptionBacklog): BundleEntry => {
    const status = subscriptionStatus({
      fhirBase: base(req),
      subscriptionId: sub.id,
      topic: sub.topic,
      status: sub.status,
      type: NotificationType.QUERY_STATUS,
      eventsSinceSubscriptionStart: sub.eventsSinceStart,
      events: [],
      content: sub.content,
      ...(sub.lastError ? { error: sub.lastError } : {}),
    });
    // Beyond the backport's parameters: delivery bookkeeping for the subscriber's operators.
    status.parameter?.push(
      { name: 'backlog', valueUnsignedInt: backlog.pending },
      { name: 'dead-letters', valueUnsignedInt: backlog.dead },
      // Events the access rules kept from the recipient (the person's decisions, labels): a count, nothing about whom.
      { name: 'withheld', valueUnsignedInt: sub.withheldEvents },
      ...(sub.lastSuccessAt ? [{ name: 'last-success', valueInstant: sub.lastSuccessAt }] : []),
      ...(sub.lastErrorAt ? [{ name: 'last-error', valueInstant: sub.lastErrorAt }] : []),
      ...(sub.status === SubscriptionState.REQUESTED ? [{ name: 'handshake-attempts', valueUnsignedInt: sub.handshakeAttempts }] : []),
      ...(sub.lastHeartbeatAt ? [{ name: 'last-heartbeat', valueInstant: sub.lastHeartbeatAt }] : []),
    );
    return { resource: status, search: { mode: 'match' } };
  };
  const statusBundle = async (req: Request, subs: readonly StoredSubscription[]): Promise<Bundle> => {
    const backlogs = await subscriptionBacklogs(options.db, subs.map((s) => s.id));
    return { resourceType: 'Bundle', type: 'searchset', total: subs.length, entry: subs.map((s) => statusOf(req, s, backlogs.get(s.id) ?? { pending: 0, dead: 0 })) };
  };

  // $status of several at once (the backport's type-level form): every subscription the caller may
  // manage, or those named by `id` (repeated or comma-separated), optionally only those with `status`.
  router.get('/\\$status', async (req, res) => {
    const requester = await requireRequester(resolve, req);
    send(res, 200, await statusBundle(req, await callersSubscriptions(req, requester, queryList(req, 'id'))));
  });

  router.get('/:id/\\$status', async (req, res) => {
    const requester = await requireRequester(resolve, req);
    send(res, 200, await statusBundle(req, [await own(req, requester)]));
  });

  router.get('/:id', async (req, res) => {
    const requester = await requireRequester(resolve, req);
    send(res, 200, subscriptionResource(await own(req, requester)));
  });

  router.delete('/:id', async (req, res) => {
    const requester = await requireRequester(resolve, req);
    const sub = await own(req, requester);
    await deleteSubscription(options.db, sub.id);
    res.status(204).end();
  });

  router.use((req, _res, next) => {
    next(new HttpOutcomeError(405, 'not-supported', `${req.method} is not supported on Subscription`));
  });
  return router;
}

/** A query parameter's values, repeated or comma-separated, without empties. */
function queryList(req: Request, name: string): string[] {
  const value = req.query[name];
  const given = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return given.flatMap((v) => (typeof v === 'string' ? v.split(',') : [])).map((v) => v.trim()).filter((v) => v !== '');
}

/** A query parameter given once as text; undefined when absent, empty or repeated. */
function queryString(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `org=A81001` is an ODS code; anything else is given as `system|value`. */
function party(value: string): string {
  return value.includes('|') ? value : qualifiedId(ODS_ORGANIZATION_SYSTEM, value);
}

export interface WorklistRouterOptions {
  readonly db: SqlClient;
  readonly requester?: RequesterResolver;
  readonly permission?: WorklistPermission;
  readonly audit?: AcknowledgementAudit;
  readonly now?: () => Date;
}

export function worklistRouter(options: WorklistRouterOptions): Router {
  const router = express.Router();
  const resolve = options.requester ?? nobody;
  const may = options.permission ?? ownPartiesOnly;
  const audit = options.audit ?? noAcknowledgementAudit;
  const now = options.now ?? ((): Date => new Date());

  router.get('/', async (req, res) => {
    const requester = await requireRequester(resolve, req);
    const view = queryString(req, 'view') ?? '';
    if (!(Object.values(WorklistView) as string[]).includes(view)) throw new HttpOutcomeError(400, 'invalid', `view must be one of ${Object.values(WorklistView).join(', ')}`, 'view');
    const given = (Object.values(WorklistScope) as string[]).filter((s) => queryString(req, s));
    if (given.length !== 1) throw new HttpOutcomeError(400, 'invalid', 'name exactly one of org, team or worker (system|value; org may be a bare ODS code)');
    const scope = given[0] as WorklistScope;
    const named = queryString(req, scope) ?? '';
    const target = scope === WorklistScope.ORGANISATION ? party(named) : named;
    if (!may(requester, scope, target)) throw new HttpOutcomeError(403, 'forbidden', 'You may see the worklist of your own organisation, teams or caseload only');
    const items = await worklist(options.db, view as WorklistView, target, now());
    res.json({ view, [scope]: target, generatedAt: now().toISOString(), count: items.length, items });
  });

  router.post('/items/:id/acknowledge', async (req, res) => {
    const requester = await requireRequester(resolve, req);
    const requestId = typeof res.locals['requestId'] === 'string' ? res.locals['requestId'] : undefined;
    const acknowledged = await acknowledgeWorklistItem({ db: options.db, requester, itemId: req.params['id'], permission: may, audit, now: now(), ...(requestId ? { requestId } : {}) });
    if (!acknowledged) throw new HttpOutcomeError(404, 'not-found', 'No such worklist item');
    res.json(acknowledged);
  });
  return router;
}

export interface NotifyRouterOptions {
  readonly db: SqlClient;
  readonly requester?: RequesterResolver;
  /** May this requester see the timeliness measure? Default: operations purpose of use only. */
  readonly mayViewTimeliness?: (requester: Requester) => boolean;
}

export function notifyRouter(options: NotifyRouterOptions): Router {
  const router = express.Router();
  const resolve = options.requester ?? nobody;
  const mayView = options.mayViewTimeliness ?? ((r: Requester): boolean => r.purposeOfUse === 'HOPERAT');

  // The topic catalogue is public: canonicals and what raises them, no data.
  router.get('/topics', (_req, res) => {
    res.json({ topics: ALL_TOPICS.map((t) => ({ code: t, canonical: topicCanonical(t), description: TOPIC_DESCRIPTIONS[t], filters: t === 'cancellation' ? ['recipient', 'event'] : ['recipient'] })) });
  });

  router.get('/timeliness', async (req, res) => {
    const requester = await requireRequester(resolve, req);
    if (!mayView(requester)) throw new HttpOutcomeError(403, 'forbidden', 'The timeliness measure is for service management (purpose of use HOPERAT)');
    const toText = queryString(req, 'to');
    const fromText = queryString(req, 'from');
    const to = toText === undefined ? new Date() : new Date(toText);
    const from = fromText === undefined ? new Date(to.getTime() - 30 * 86_400_000) : new Date(fromText);
    if (Number.isNaN(from.getTime())) throw new HttpOutcomeError(400, 'invalid', 'from must be a date or date-time', 'from');
    if (Number.isNaN(to.getTime())) throw new HttpOutcomeError(400, 'invalid', 'to must be a date or date-time', 'to');
    if (from >= to) throw new HttpOutcomeError(400, 'invalid', 'from must be before to', 'from');
    const discharges = await dischargeNotices(options.db, from, to);
    res.json({ from: from.toISOString(), to: to.toISOString(), summary: summariseTimeliness(discharges), discharges });
  });
  return router;
}
