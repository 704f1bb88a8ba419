import type { Logger } from 'pino';
import type { SqlEngine } from '../store/engine';
import { loadAuditConfig, openAuditKeys, type AuditConfig } from './audit-config';
import { AuditTrail } from './audit-trail';
import type { CheckpointKeySet } from './signing';

/**
 * The audit trail's public face for the composition root (server.ts, app.ts, the CLI).
 *
 *   const audit = await openAuditTrail(store.engine, { dataDir: config.dataDir, production: config.production }, logger);
 *   createApp({ …, audit: audit.trail });                                   // SecureReader's AuditHook
 *   app.use('/audit', auditRouter({ engine: store.engine, trail: audit.trail, keys: audit.keys,
 *     requester: (req, res) => …, requireRole: requireRole('privacy_officer'),
 *     linkedPatientIds: (id) => samePersonIds(store.engine, id) }));
 *   await raiseAlert(tx, { kind: AlertKind.BREAK_GLASS, requester, patientId, reason, requestId });
 *   await audit.trail.appendWithin(tx, [{ requestId, requester, operation: AuditOperation.BREAK_GLASS, … }]);
 *   …
 *   await audit.close();                                                    // before store.close()
 */
export interface OpenedAuditTrail {
  readonly trail: AuditTrail;
  readonly keys: CheckpointKeySet;
  readonly config: AuditConfig;
  close(): Promise<void>;
}

/** Reads the AUDIT_* configuration, opens (in development creates) the signing key, starts the checkpoint timer. */
export async function openAuditTrail(engine: SqlEngine, context: { dataDir: string; production: boolean }, logger?: Logger, env: NodeJS.ProcessEnv = process.env): Promise<OpenedAuditTrail> {
  const config = loadAuditConfig(env, context);
  const { signer, keys } = await openAuditKeys(config, { create: true });
  const trail = new AuditTrail({
    engine,
    node: config.node,
    ...(signer ? { signer } : {}),
    checkpointEvery: config.checkpointEvery,
    checkpointIntervalMs: config.checkpointIntervalMs,
    ...(logger ? { logger } : {}),
  });
  trail.start();
  return { trail, keys, config, close: () => trail.close() };
}

export { AlertKind, AlertReviewOutcome, AlertStatus, getAlert, listAlerts, raiseAlert, reviewAlert, type Alert, type RaiseAlertInput } from './alerts';
export { AuditDecision, AuditOperation, buildAuditEvent, type OperationRecord } from './audit-event';
export { auditRouter, type AuditRouterOptions } from './audit-router';
export { AuditTrail, type AuditTrailOptions } from './audit-trail';
export { exportCheckpoints, parseCheckpointFile } from './checkpoint-file';
export { CheckpointKeySet, signerFromPem } from './signing';
export { accessReport, searchTrail } from './trail-search';
export { verifyAuditTrail, type VerifyReport } from './verify';
