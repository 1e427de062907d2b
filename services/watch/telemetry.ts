// What `leakscope watch --metrics-port N` serves: the streaming services' metric names where
// they mean the same (records in, rejects, disclosures by verdict, alerts by kind, store
// inserts, batch sizes, with source="files"), notify's delivery metrics for its routes, and
// watch's own: how far behind the logs it is. One registry of each kind, merged for /metrics.
import { Gauge, Histogram, Registry } from 'prom-client';
import { createNotifyMetrics, type NotifyMetrics } from '../notify/index.js';
import { createMetrics, type Health, type StreamMetrics } from '../observability/index.js';

export interface WatchTelemetry {
  /** Every metric of watch, for /metrics. */
  readonly registry: Registry;
  readonly stream: StreamMetrics;
  readonly notify: NotifyMetrics;
  /** From a batch of lines being read to its disclosures stored (its alerts settled before), seconds. */
  readonly batchSeconds: Histogram<never>;
  /** When the last batch was stored (epoch seconds; 0 before the first). */
  readonly lastBatchTime: Gauge<never>;
  /** Counts so far, for /healthz (the same as the summary watch prints when it stops). */
  readonly totals: { lines: number; requests: number; disclosures: number; violations: number; rejects: number; alerts: number; batches: number };
  /** Set by runWatch: running once the directories are being tailed, and until it stops. */
  running: boolean;
  /** Set by runWatch: arrival time of the oldest alert some route has not settled (leakscope_notify_oldest_undelivered_seconds). */
  oldestPending: () => number | null;
  health(): Health;
}

export function createWatchTelemetry(options: { processMetrics?: boolean } = {}): WatchTelemetry {
  const stream = createMetrics({ processMetrics: options.processMetrics });
  const own = new Registry();
  const batchSeconds = new Histogram({
    name: 'leakscope_watch_batch_seconds',
    help: 'From a batch of log lines read to its disclosures stored, its alerts settled before',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [own],
  });
  const lastBatchTime = new Gauge({ name: 'leakscope_watch_last_batch_timestamp_seconds', help: 'When the last batch of log lines was stored (0 before the first)', registers: [own] });
  const telemetry: WatchTelemetry = {
    registry: own,
    stream,
    notify: createNotifyMetrics(() => telemetry.oldestPending(), { processMetrics: false }),
    batchSeconds,
    lastBatchTime,
    totals: { lines: 0, requests: 0, disclosures: 0, violations: 0, rejects: 0, alerts: 0, batches: 0 },
    running: false,
    oldestPending: () => null,
    health: () => ({ ok: telemetry.running, details: { ...telemetry.totals } }),
  };
  // Gauges and histograms by reference: the merged registry reads the same metric objects.
  return Object.assign(telemetry, { registry: Registry.merge([stream.registry, telemetry.notify.registry, own]) });
}
