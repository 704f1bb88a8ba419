import type { Logger } from 'pino';
import type { AuthConfig, Authenticator } from '../auth';
import { devAuthDir, loadOrCreateDevKeyPair, mintToken } from '../auth/dev-keys';
import { loadAuditConfig, openAuditKeys } from '../audit/audit-config';
import { AuditTrail } from '../audit/audit-trail';
import type { CheckpointKeySet } from '../audit/signing';
import type { Store } from '../store/store';
import { auditWithAccess, grantAuditor } from './access-audit';
import { CaldicottAccess } from './caldicott-access';
import { compactAccessChanges } from './decision-cache';
import type { Grant } from './grants';
import type { AccessHook, AuditHook, Requester } from './hooks';

/**
 * The access side of one API process: the Caldicott access hook, the hash-chained audit trail
 * (with its checkpoint signer), grants audited and alerted, and, with development auth on, the
 * persona tokens the viewer's development sign-in uses.
 */
export interface AccessComponents {
  readonly access: CaldicottAccess & AccessHook;
  readonly audit: AuditHook;
  readonly trail: AuditTrail;
  readonly checkpointKeys: CheckpointKeySet;
  readonly onGrant: (grant: Grant, requester: Requester, requestId: string) => Promise<void>;
  readonly mintPersonaToken?: (claims: Record<string, unknown>) => Promise<string>;
  close(): Promise<void>;
}

/** How often each API process folds the access change notes into one row a patient (decision-cache.ts). */
const COMPACT_ACCESS_CHANGES_MS = 5 * 60_000;

export async function composeAccess(
  store: Store,
  auth: Authenticator,
  authConfig: AuthConfig,
  options: { dataDir: string; production: boolean; logger: Logger; decisionCache?: { maxEntries: number; ttlMs: number } },
): Promise<AccessComponents> {
  const auditConfig = loadAuditConfig(process.env, { dataDir: options.dataDir, production: options.production });
  const keys = await openAuditKeys(auditConfig, { create: true });
  const trail = new AuditTrail({
    engine: store.engine,
    node: auditConfig.node,
    ...(keys.signer ? { signer: keys.signer } : {}),
    checkpointEvery: auditConfig.checkpointEvery,
    checkpointIntervalMs: auditConfig.checkpointIntervalMs,
    logger: options.logger,
  });
  trail.start();
  // The organisation holding each source's data: the directory's systems, then what intakes registered.
  const directorySources = Object.fromEntries(auth.directory.systems.flatMap((s) => (s.organisation ? [[s.sourceUri, s.organisation] as const] : [])));
  const access = new CaldicottAccess(store.engine, { staticSources: directorySources, ...(options.decisionCache ? { decisionCache: options.decisionCache } : {}) });
  // The notes only grow; folding them keeps each person's epoch one indexed row to read. Any process may do it, at any time.
  const compaction = setInterval(() => {
    compactAccessChanges(store.engine).catch((err: unknown) => options.logger.warn({ err }, 'compacting access changes failed; tried again later'));
  }, COMPACT_ACCESS_CHANGES_MS).unref();
  let mintPersonaToken: AccessComponents['mintPersonaToken'];
  if (authConfig.devAuth) {
    const devKeys = await loadOrCreateDevKeyPair(devAuthDir(authConfig.dataDir));
    mintPersonaToken = (claims) => mintToken(devKeys, claims, { audience: authConfig.audience, expiresInSeconds: 8 * 3600 });
  }
  return {
    access,
    audit: auditWithAccess(trail, store.engine, options.logger),
    trail,
    checkpointKeys: keys.keys,
    onGrant: grantAuditor(trail, store.engine),
    ...(mintPersonaToken ? { mintPersonaToken } : {}),
    close: () => {
      clearInterval(compaction);
      return trail.close();
    },
  };
}
