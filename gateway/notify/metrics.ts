import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SqlClient } from '../store/engine';
import { timelinessSummary } from './timeliness';

/**
 * Notification metrics on /metrics: deliveries by channel and outcome, the time from an event
 * being applied to its notification being delivered, recipients not told by the access rules (by
 * reason), and the timeliness of discharge notice
 * (computed from the database at scrape time, so every process reports the same figures).
 */
export class NotifyMetrics {
  private readonly deliveries: Counter;
  private readonly latency: Histogram;
  private readonly withheld: Counter;
  private readonly controls: Counter;

  constructor(registry: Registry, db?: SqlClient) {
    this.deliveries = new Counter({ name: 'carebridge_notify_deliveries_total', help: 'Notification delivery attempts by channel and outcome', labelNames: ['channel', 'outcome'], registers: [registry] });
    this.latency = new Histogram({
      name: 'carebridge_notify_delivery_latency_seconds',
      help: 'From the event applied (outbox row written) to its notification delivered',
      labelNames: ['channel'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600],
      registers: [registry],
    });
    this.controls = new Counter({ name: 'carebridge_notify_subscription_checks_total', help: 'Handshakes and heartbeats sent to subscribers, by type and outcome', labelNames: ['type', 'outcome'], registers: [registry] });
    this.withheld = new Counter({ name: 'carebridge_notify_withheld_total', help: 'Recipients not told of an event because the access rules withheld it, by reason', labelNames: ['reason'], registers: [registry] });
    if (db) {
      new Gauge({
        name: 'carebridge_notify_discharge_notice_median_seconds',
        help: 'Median time between the first notification delivered to the GP practice or community team and the discharge, per hospital and ward, last 30 days (positive: before the discharge)',
        labelNames: ['hospital', 'ward', 'recipient', 'notice'],
        registers: [registry],
        async collect(): Promise<void> {
          this.reset();
          const to = new Date();
          const summary = await timelinessSummary(db, new Date(to.getTime() - 30 * 86_400_000), to);
          for (const row of summary) {
            if (row.medianLeadSeconds !== undefined) this.set({ hospital: row.hospital, ward: row.ward, recipient: row.recipientRole, notice: row.notice }, row.medianLeadSeconds);
          }
        },
      });
      new Gauge({
        name: 'carebridge_notify_discharges_told_late',
        help: 'Discharges of the last 30 days where the GP practice or community team was told after the discharge or not at all, per hospital and ward',
        labelNames: ['hospital', 'ward', 'recipient', 'notice'],
        registers: [registry],
        async collect(): Promise<void> {
          this.reset();
          const to = new Date();
          const summary = await timelinessSummary(db, new Date(to.getTime() - 30 * 86_400_000), to);
          for (const row of summary) this.set({ hospital: row.hospital, ward: row.ward, recipient: row.recipientRole, notice: row.notice }, row.late + row.notTold);
        },
      });
    }
  }

  observeDelivered(channel: string, seconds: number): void {
    this.deliveries.inc({ channel, outcome: 'delivered' });
    this.latency.observe({ channel }, Math.max(0, seconds));
  }

  observeFailed(channel: string): void {
    this.deliveries.inc({ channel, outcome: 'failed' });
  }

  /** A round of handshakes and heartbeats (control.ts). */
  observeControls(result: { handshakes: number; heartbeats: number; failedHandshakes: number; failedHeartbeats: number }): void {
    if (result.handshakes) this.controls.inc({ type: 'handshake', outcome: 'delivered' }, result.handshakes);
    if (result.failedHandshakes) this.controls.inc({ type: 'handshake', outcome: 'failed' }, result.failedHandshakes);
    if (result.heartbeats) this.controls.inc({ type: 'heartbeat', outcome: 'delivered' }, result.heartbeats);
    if (result.failedHeartbeats) this.controls.inc({ type: 'heartbeat', outcome: 'failed' }, result.failedHeartbeats);
  }

  observeWithheld(counts: Partial<Record<string, number>>): void {
    for (const [reason, n] of Object.entries(counts)) if (n) this.withheld.inc({ reason }, n);
  }
}
