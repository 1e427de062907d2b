// Prometheus metrics of `leakscope notify`, in a registry of their own (one per process or test).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../observability/metrics.js';

export interface NotifyMetrics {
  readonly registry: Registry;
  /** Alerts settled per route: delivered or dead_lettered. */
  readonly deliveries: Counter<'route' | 'outcome'>;
  /** HTTP attempts that failed and were retried, per route. */
  readonly retries: Counter<'route'>;
  /** From an alert's arrival in notify to its delivery (the 2xx), per route, seconds. */
  readonly deliverySeconds: Histogram<'route'>;
  /** Alerts read from leak-alerts (and those that could not be read). */
  readonly alertsIn: Counter<'outcome'>;
}

export function createNotifyMetrics(oldestUndeliveredMs: () => number | null, options: { processMetrics?: boolean } = {}): NotifyMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectProcessMetrics(registry);
  const registers = [registry];
  new Gauge({
    name: 'leakscope_notify_oldest_undelivered_seconds',
    help: 'Age of the oldest alert not yet delivered or dead-lettered on some route (0 when none)',
    registers,
    collect() {
      const oldest = oldestUndeliveredMs();
      this.set(oldest === null ? 0 : Math.max(0, Date.now() - oldest) / 1000);
    },
  });
  return Object.freeze({
    registry,
    deliveries: new Counter({ name: 'leakscope_notify_deliveries_total', help: 'Alerts settled per route, by outcome (delivered, dead_lettered)', labelNames: ['route', 'outcome'] as const, registers }),
    retries: new Counter({ name: 'leakscope_notify_retries_total', help: 'HTTP attempts that failed and were retried', labelNames: ['route'] as const, registers }),
    deliverySeconds: new Histogram({
      name: 'leakscope_notify_delivery_seconds',
      help: 'From an alert arriving in notify to its delivery',
      labelNames: ['route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    alertsIn: new Counter({ name: 'leakscope_notify_alerts_in_total', help: 'Messages read from leak-alerts, by outcome (read, unreadable)', labelNames: ['outcome'] as const, registers }),
  });
}
