import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Store } from '../store/store';
import { relationshipAndNoRestrictedLabel, type NotificationAccessCheck } from './access';
import { sendDueControls } from './control';
import { DEFAULT_RETRY, DeliveryWorker, overdueDeliveries, type DeliveryTiming, type RetryPolicy } from './delivery';
import { dispatchOutbox, type DispatchScan } from './dispatcher';
import type { Mailer } from './email';
import { NotifyMetrics } from './metrics';
import { BullMqDeliveryQueue, InProcessDeliveryQueue, type DeliveryQueue } from './queue';

/**
 * Notifications in one process: the dispatcher (outbox → deliveries, worklist items) and the
 * delivery workers, in-process or on BullMQ. API-only processes run neither (runWorkers false)
 * and only serve the routers.
 */
export interface NotifyServiceOptions {
  readonly store: Store;
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly redisUrl?: string;
  readonly runWorkers: boolean;
  /** e.g. https://carebridge.example.nhs.uk (PUBLIC_BASE_URL); references and links are built from it. */
  readonly publicBaseUrl: string;
  /** Who may be told. Default: a recipient the record names, nothing restricted; production composes consentNotificationAccess (consent-access.ts). */
  readonly access?: NotificationAccessCheck;
  readonly retry?: RetryPolicy;
  readonly mailer?: Mailer;
  /** How often the outbox is read (ms). */
  readonly dispatchIntervalMs?: number;
  /** How often overdue deliveries are looked for, and how late they must be (ms). */
  readonly overduePollMs?: number;
  readonly overdueGraceMs?: number;
  /** How often handshakes and heartbeats that are due are looked for (ms). */
  readonly controlPollMs?: number;
  readonly concurrency?: number;
}

export interface NotifyService {
  readonly metrics: NotifyMetrics;
  /** Cumulative time per phase in this process (dispatch; claim, send, record of deliveries). */
  timing(): DeliveryTiming & { dispatchMs: number };
  /** Reads the outbox now (the feed may call this after applying an event). */
  wake(): void;
  /** Dispatches everything in the outbox now; resolves with how many events it dispatched. */
  dispatchNow(): Promise<number>;
  /** Resolves when in-process delivery has nothing waiting or in flight (tests, benchmarks). */
  settled(): Promise<void>;
  queueDepth(): Promise<number>;
  close(): Promise<void>;
}

export function startNotifications(options: NotifyServiceOptions): NotifyService {
  const { store, logger } = options;
  const metrics = new NotifyMetrics(options.registry ?? new Registry(), options.registry ? store.engine : undefined);
  const retry = options.retry ?? DEFAULT_RETRY;
  const worker = new DeliveryWorker({
    engine: store.engine,
    logger,
    retry,
    fhirBase: `${options.publicBaseUrl}/fhir`,
    publicBaseUrl: options.publicBaseUrl,
    mailer: options.mailer,
    metrics,
  });
  const access = options.access ?? relationshipAndNoRestrictedLabel;
  let queue: DeliveryQueue | undefined;
  let inProcess: InProcessDeliveryQueue | undefined;
  if (options.runWorkers) {
    if (options.redisUrl) {
      const bull = new BullMqDeliveryQueue(options.redisUrl, logger);
      bull.startWorkers((ids) => worker.processBatch(ids), options.concurrency);
      queue = bull;
    } else {
      inProcess = new InProcessDeliveryQueue((ids) => worker.processBatch(ids), logger, options.concurrency);
      queue = inProcess;
    }
  }

  // Where this process's dispatcher has got to: each pass looks above it, and from the cursor once a second.
  const scan: DispatchScan = { highWater: 0n, fullScanAt: 0 };
  let running: Promise<number> | undefined;
  let again = false;
  const readAgain = (): boolean => again;
  let closed = false;
  let dispatchMs = 0;
  const dispatchAll = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const started = process.hrtime.bigint();
      const result = await dispatchOutbox(store.engine, { access, scan });
      dispatchMs += Number(process.hrtime.bigint() - started) / 1e6;
      total += result.events;
      metrics.observeWithheld(result.withheld);
      if (result.deliveryIds.length > 0) await queue?.enqueue(result.deliveryIds);
      if (result.events === 0 || closed) return total;
    }
  };
  const dispatch = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async (): Promise<number> => {
      let total = 0;
      try {
        do {
          again = false;
          total += await dispatchAll();
          // A wake() during the run asks for one more pass.
        } while (readAgain() && !closed);
      } catch (err) {
        logger.error({ err }, 'notification dispatch failed');
      } finally {
        running = undefined;
      }
      return total;
    })();
    return running;
  };
  const timers: NodeJS.Timeout[] = [];
  // The round of handshakes and heartbeats in flight, one at a time (close() waits for it).
  let controlling: Promise<void> | undefined;
  if (options.runWorkers) {
    timers.push(setInterval(() => void dispatch(), options.dispatchIntervalMs ?? 100).unref());
    const grace = options.overdueGraceMs ?? 5_000;
    timers.push(
      setInterval(() => {
        overdueDeliveries(store.engine, grace, 1000)
          .then((ids) => queue?.enqueue(ids))
          .catch((err: unknown) => logger.warn({ err }, 'overdue notification poll failed'));
      }, options.overduePollMs ?? 2_000).unref(),
    );
    timers.push(
      setInterval(() => {
        controlling ??= sendDueControls({ engine: store.engine, logger, retry, fhirBase: `${options.publicBaseUrl}/fhir` })
          .then((result) => {
            metrics.observeControls(result);
            return queue?.enqueue(result.released);
          })
          .catch((err: unknown) => logger.warn({ err }, 'subscription handshake and heartbeat poll failed'))
          .finally(() => {
            controlling = undefined;
          });
      }, options.controlPollMs ?? 1_000).unref(),
    );
  }

  return {
    metrics,
    timing: () => ({ ...worker.timing, dispatchMs }),
    wake: () => void dispatch(),
    dispatchNow: dispatch,
    settled: async () => {
      while (running) await running;
      await inProcess?.settled();
    },
    queueDepth: () => queue?.depth() ?? Promise.resolve(0),
    async close(): Promise<void> {
      closed = true;
      for (const t of timers) clearInterval(t);
      while (running) await running;
      await controlling;
      await queue?.close();
      options.mailer?.close();
    },
  };
}
