import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ExtractReadError, openExtract } from '../../adapters/social-care/extract-files';
import type { Logger } from '../logger';
import { isTransientSqlError } from '../store/engine';
import type { Store } from '../store/store';
import { claimNextImport, failExhaustedImports, finishImport, ImportStatus, releaseForRetry } from './imports';
import { importExtract } from './importer';
import { uploadToTempFile } from './uploads';

/**
 * The worker side of POST /intake/social-care: polls for received uploads, claims one with a lease
 * (FOR UPDATE SKIP LOCKED, one import at a time across all processes, so one source's extracts
 * apply in order), imports it, and records the outcome. An unreadable zip fails for good; a
 * database failure puts the import back for another attempt (up to maxAttempts); a worker that
 * dies mid-import loses its lease and another worker starts the import again (it is idempotent).
 */
export interface SocialCareWorker {
  /** Runs one poll now (tests); resolves with the import it ran, if any. */
  runOnce(): Promise<string | undefined>;
  close(): Promise<void>;
}

export function startSocialCareWorker(store: Store, logger: Logger, options: { pollMs?: number; maxAttempts?: number; batchSize?: number } = {}): SocialCareWorker {
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const maxAttempts = options.maxAttempts ?? 3;
  let running: Promise<string | undefined> = Promise.resolve(undefined);
  let busy = false;
  let closed = false;

  async function runOne(): Promise<string | undefined> {
    await failExhaustedImports(store.engine, maxAttempts);
    const id = await claimNextImport(store.engine, owner, maxAttempts);
    if (!id) return undefined;
    logger.info({ importId: id }, 'social care import started');
    let temp: Awaited<ReturnType<typeof uploadToTempFile>> | undefined;
    try {
      temp = await uploadToTempFile(store.engine, id);
      const files = await openExtract(temp.path);
      try {
        await importExtract(store, files, { importId: id, leaseOwner: owner, logger, batchSize: options.batchSize });
      } finally {
        await files.close();
      }
    } catch (err) {
      if (err instanceof ExtractReadError) {
        await finishImport(store.engine, id, ImportStatus.FAILED, { importId: id, status: 'failed' }, err.message);
        logger.warn({ importId: id }, 'social care upload could not be read');
      } else {
        // The status endpoint shows last_error: no SQL, stack or data from the extract there; the log has the detail.
        const message = isTransientSqlError(err) ? 'database unavailable; will retry' : `import failed; will retry (details in the log under import id ${id})`;
        await releaseForRetry(store.engine, id, message).catch(() => undefined);
        logger.error({ err, importId: id }, 'social care import failed; it will be retried');
      }
    } finally {
      await temp?.cleanup();
    }
    return id;
  }

  const tick = (): Promise<string | undefined> => {
    if (busy || closed) return running;
    busy = true;
    running = runOne()
      .catch((err: unknown) => {
        logger.warn({ err }, 'social care worker poll failed');
        return undefined;
      })
      .finally(() => {
        busy = false;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), options.pollMs ?? 2000);
  timer.unref();
  return {
    runOnce: async () => {
      await running;
      return tick();
    },
    close: async () => {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
