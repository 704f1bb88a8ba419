import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics for /metrics: per-process, labelled by route pattern (never by URL or query). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: 'carebridge_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: 'carebridge_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly authRefusals = new Counter({ name: 'carebridge_auth_refusals_total', help: 'Bearer tokens refused, by reason (a token rejection code, or forbidden: valid but refused by the directory)', labelNames: ['reason'], registers: [this.registry] });
  readonly resourcesWritten = new Counter({ name: 'carebridge_resources_written_total', help: 'Resource versions written by type', labelNames: ['resource_type'], registers: [this.registry] });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'carebridge_' });
  }
}
