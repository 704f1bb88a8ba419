import { randomBytes } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { composeAccess } from '../gateway/access/compose';
import { Interaction, type AccessHook, type AuditHook, type ReadRequest } from '../gateway/access/hooks';
import { SecureReader } from '../gateway/access/secure-reader';
import { Authenticator, loadAuthConfig } from '../gateway/auth';
import { sourceNames } from '../gateway/auth/source-names';
import type { Config } from '../gateway/config';
import { createLogger } from '../gateway/logger';
import { loadPassportConfig, openPassportKeys } from '../gateway/passport/passport-config';
import { PassportService } from '../gateway/passport/service';
import type { SqlClient, SqlEngine } from '../gateway/store/engine';
import type { Store } from '../gateway/store/store';
import { navigationFor } from '../gateway/viewer/navigation';
import { buildRecordView } from '../gateway/viewer/record-view';
import { createRenderer } from '../gateway/viewer/render';
import { findSession } from '../gateway/viewer/sessions';
import { untimedAccessParts } from './access-passthrough';
import { summariseTimings, type TimingSummary } from './passport-bench';
import { msSince, yieldToEventLoop } from './stats';

/**
 * Where a record page's server time goes: the steps of GET /record/{id} (viewer-router.ts
 * showRecord, with requireSignIn before it and the passport pages' record link), replayed one at a
 * time with the gateway's own functions, composed as server.ts composes them (composeAccess: the
 * Caldicott access hook, the audit trail) on the same store and data directory, while the server
 * is idle. The reader's access hook and audit hook are wrapped only to time them. What this leaves
 * out is Express, helmet and the socket: the one-client HTTP figure minus this total.
 */
export const Step = {
  SESSION: 'session: find the session row, verify its token',
  DECIDE: "access decision (the page's one, before reading)",
  SCOPE: "reader: access scope (from the page's decision)",
  READ: 'reader: the compartment SELECT + referenced resources, parse',
  CHECK: 'reader: per-resource check and redaction',
  AUDIT: 'reader: audit entry committed (group commit)',
  VIEW: 'buildRecordView (sections, sorting)',
  LINKS: "record link: red bags (the page's decision; its bags' queries)",
  RENDER: 'render record.njk (nunjucks)',
} as const;
export type Step = (typeof Step)[keyof typeof Step];

export interface StageBreakdown {
  readonly rounds: number;
  readonly steps: Readonly<Record<Step, TimingSummary>>;
  /** SQL statements each step sent, per page (the same every round). */
  readonly statements: Readonly<Record<Step, number>>;
  readonly total: TimingSummary;
  readonly htmlBytes: number;
}

/** The store as the steps see it, with every statement counted against the step running (they run one at a time). */
function countingStore(store: Store, count: () => void): Store {
  const client = (db: SqlClient): SqlClient => ({
    query: (sql, params) => {
      count();
      return db.query(sql, params);
    },
  });
  const engine: SqlEngine = {
    kind: store.engine.kind,
    query: (sql, params) => client(store.engine).query(sql, params),
    transaction: (fn) => {
      count();
      return store.engine.transaction((tx) => fn(client(tx)));
    },
    exec: (sql) => store.engine.exec(sql),
    close: () => store.engine.close(),
  };
  return Object.create(store, { engine: { value: engine, enumerable: true } }) as Store;
}

export async function recordPageStages(options: { store: Store; config: Config; cookie: string; patientIds: readonly string[]; rounds: number }): Promise<StageBreakdown> {
  const { config } = options;
  let current: Step = Step.SESSION;
  let counted: Partial<Record<Step, number>> = {};
  const store = countingStore(options.store, () => {
    counted[current] = (counted[current] ?? 0) + 1;
  });
  const logger = createLogger('silent');
  const authConfig = loadAuthConfig(process.env, config);
  const auth = await Authenticator.create(authConfig);
  const components = await composeAccess(store, auth, authConfig, { dataDir: config.dataDir, production: config.production, logger });
  const passportKeys = await openPassportKeys(loadPassportConfig(process.env, { dataDir: config.dataDir, production: config.production }), { create: true });
  if (!passportKeys.signer) throw new Error('viewer bench: no passport signer in the data directory');
  const names = sourceNames(auth.directory);
  const passports = new PassportService({
    store,
    signer: passportKeys.signer,
    decide: (requester, patientId) => components.access.decide({ requester }, patientId),
    audit: (record) => components.trail.recordOperation(record),
    sourceName: names.sourceName,
    fhirBase: 'http://127.0.0.1/fhir',
    logger,
  });
  const renderer = createRenderer();
  const sessionId = decodeURIComponent(options.cookie.split('=').slice(1).join('='));

  let round: Partial<Record<Step, number>> = {};
  const add = (step: Step, value: number): void => {
    round[step] = (round[step] ?? 0) + value;
  };
  const timedAccess: AccessHook = {
    scope: async (request) => {
      const t = process.hrtime.bigint();
      current = Step.SCOPE;
      try {
        return await components.access.scope(request);
      } finally {
        add(Step.SCOPE, msSince(t));
        current = Step.READ;
      }
    },
    check: (request, resource) => {
      const t = process.hrtime.bigint();
      const out = components.access.check(request, resource);
      add(Step.CHECK, msSince(t));
      return out;
    },
    ...untimedAccessParts(components.access),
  };
  const timedAudit: AuditHook = {
    record: async (entry) => {
      const t = process.hrtime.bigint();
      current = Step.AUDIT;
      await components.audit.record(entry);
      add(Step.AUDIT, msSince(t));
      current = Step.READ;
    },
  };
  const reader = new SecureReader(store.engine, timedAccess, timedAudit);

  const rounds: Partial<Record<Step, number>>[] = [];
  let statements: Partial<Record<Step, number>> = {};
  const warmup = Math.min(10, options.rounds);
  let htmlBytes = 0;
  try {
    for (let i = 0; i < warmup + options.rounds; i++) {
      round = {};
      counted = {};
      const patientId = options.patientIds[i % options.patientIds.length] as string;
      const step = async <T>(name: Step, fn: () => Promise<T> | T): Promise<T> => {
        current = name;
        const t = process.hrtime.bigint();
        const out = await fn();
        add(name, msSince(t));
        return out;
      };
      const requester = await step(Step.SESSION, async () => {
        const session = await findSession(store.engine, sessionId, new Date());
        if (!session) throw new Error('viewer bench: the session is gone');
        const outcome = await auth.authenticate(`Bearer ${session.token}`);
        if (outcome.status !== 'authenticated' || outcome.identity.kind !== 'person') throw new Error('viewer bench: the session token no longer verifies');
        return outcome.identity.requester;
      });
      const request: ReadRequest = { requestId: randomBytes(8).toString('hex'), requester, interaction: Interaction.EVERYTHING, resourceType: 'Patient', patientId, resourceId: patientId };
      const decided = await step(Step.DECIDE, () => components.access.decideRequest(request));
      const { decision, personIds } = decided;
      if (decision.effect !== 'permit' || decision.needsPermissionToView) throw new Error('viewer bench: the GP may not open the record');
      const before = { ...round };
      current = Step.READ;
      const t = process.hrtime.bigint();
      const page = await reader.everything(request, personIds, { count: 1000 });
      if (page.next) throw new Error('viewer bench: the record is more than one page of the reader');
      // The reader's own work is what its hooks did not take.
      const hooks = [Step.SCOPE, Step.CHECK, Step.AUDIT].reduce((n, s) => n + (round[s] ?? 0) - (before[s] ?? 0), 0);
      add(Step.READ, msSince(t) - hooks);
      const resources: Resource[] = page.resources;
      const view = await step(Step.VIEW, () => buildRecordView(patientId, resources, names.sourceName));
      const bags = await step(Step.LINKS, () => passports.bagsFor(requester, patientId, { decided }));
      const html = await step(Step.RENDER, () =>
        renderer.render('record.njk', {
          cspNonce: randomBytes(16).toString('base64'),
          user: { name: requester.displayName ?? requester.userId, role: requester.role, roleLabel: 'GP', organisationName: names.organisationName(requester.organisation), navigation: navigationFor(requester.role) },
          csrf: 'x'.repeat(32),
          title: view.banner.name,
          view,
          withheld: page.withheld,
          breakGlass: decision.breakGlass,
          validUntil: decision.validUntil,
          recordLinks: bags.length > 0 ? [{ href: `/record/${patientId}/red-bag`, text: 'Red bag passports' }] : [],
        }),
      );
      htmlBytes = Buffer.byteLength(html);
      if (i >= warmup) {
        rounds.push(round);
        statements = counted;
      }
      await yieldToEventLoop();
    }
  } finally {
    await components.close();
  }
  const steps = Object.fromEntries(Object.values(Step).map((s) => [s, summariseTimings(rounds.map((r) => r[s] ?? 0))])) as Record<Step, TimingSummary>;
  const total = summariseTimings(rounds.map((r) => Object.values(r).reduce((n, v) => n + v, 0)));
  return { rounds: rounds.length, steps, statements: Object.fromEntries(Object.values(Step).map((s) => [s, statements[s] ?? 0])) as Record<Step, number>, total, htmlBytes };
}
