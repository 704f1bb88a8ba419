import type { Express } from 'express';
import type { SqlClient } from '../store/engine';
import type { AcknowledgementAudit, RequesterResolver, SubscriptionPermission, WorklistPermission } from './access';
import type { Requester } from '../access/hooks';
import { notifyRouter, subscriptionRouter, worklistRouter } from './router';

/**
 * The notification routes on the app, before the read-only /fhir router (which refuses every
 * write): /fhir/Subscription, /worklist, /notify. The seams default to refusing; the
 * access-control work passes its requester resolver, permissions and audit.
 */
export interface NotifyHttpOptions {
  readonly requester?: RequesterResolver;
  readonly subscriptionPermission?: SubscriptionPermission;
  readonly worklistPermission?: WorklistPermission;
  readonly acknowledgementAudit?: AcknowledgementAudit;
  readonly mayViewTimeliness?: (requester: Requester) => boolean;
  /** http:// webhook endpoints allowed: development only. */
  readonly allowHttp: boolean;
  readonly emailEnabled: boolean;
  readonly publicBaseUrl?: string;
}

export function mountNotifications(app: Express, db: SqlClient, options: NotifyHttpOptions): void {
  app.use(
    '/fhir/Subscription',
    subscriptionRouter({ db, requester: options.requester, permission: options.subscriptionPermission, allowHttp: options.allowHttp, emailEnabled: options.emailEnabled, publicBaseUrl: options.publicBaseUrl }),
  );
  const worklistApi = worklistRouter({ db, requester: options.requester, permission: options.worklistPermission, audit: options.acknowledgementAudit });
  // The viewer's worklist pages share the path: a browser's request without a bearer token (it
  // signs in with a session cookie) and asking for HTML goes on to the viewer; API clients are answered here.
  app.use('/worklist', (req, res, next) => {
    if (req.get('authorization') === undefined && req.accepts(['application/json', 'text/html']) === 'text/html') next();
    else worklistApi(req, res, next);
  });
  app.use('/notify', notifyRouter({ db, requester: options.requester, mayViewTimeliness: options.mayViewTimeliness }));
}
