// Prometheus metrics of the streaming services, in one registry per process (or per test), so
// two detectors in one test process do not share counters. Units are in the names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface StreamMetrics {
  readonly registry: Registry;
  /** Gateway requests read (from files by ship, from Kafka by detect). */
  readonly recordsIn: Counter<'source'>;
  /** Lines or messages sent to the dead-letter topic, by where they were refused. */
  readonly rejects: Counter<'source'>;
  /** Disclosures written to the store, by verdict. */
  readonly disclosures: Counter<'verdict'>;
  /** Records per consumed or produced batch. */
  readonly batchSize: Histogram<'source'>;
  /** Wall time of one store insert (successful attempts and failures alike). */
  readonly insertSeconds: Histogram<'outcome'>;
  /** Messages behind the high watermark, per topic and partition, as last seen by this consumer. */
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  /** Store writes that failed and were retried. */
  readonly insertRetries: Counter<never>;
  /** Registry updates applied / refused (a refused one never replaces the snapshot). */
  readonly registryUpdates: Counter<'outcome'>;
  /** Alerts produced to leak-alerts, by kind. */
  readonly alerts: Counter<'kind'>;
  /** Records acknowledged by Kafka (ship). */
  readonly recordsProduced: Counter<'topic'>;
}

export interface MetricsOptions {
  /** Also collect Node process metrics (CPU, heap, event loop lag). Default true. */
  processMetrics?: boolean;
}

/**
 * prom-client's process and Node metrics, less the three gauges it names `…_total`, which
 * `promtool check metrics` refuses (that suffix is for counters): a service's /metrics must lint clean.
 */
export function collectProcessMetrics(registry: Registry, prefix = 'leakscope_'): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(`${prefix}${name}`);
  }
}

export function createMetrics(options: MetricsOptions = {}): StreamMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectProcessMetrics(registry);
  const registers = [registry];
  return Object.freeze({
    registry,
    recordsIn: new Counter({ name: 'leakscope_records_in_total', help: 'Gateway requests read', labelNames: ['source'] as const, registers }),
    rejects: new Counter({ name: 'leakscope_rejects_total', help: 'Lines or messages sent to the dead-letter topic', labelNames: ['source'] as const, registers }),
    disclosures: new Counter({ name: 'leakscope_disclosures_total', help: 'Disclosures written to the store', labelNames: ['verdict'] as const, registers }),
    batchSize: new Histogram({
      name: 'leakscope_batch_size',
      help: 'Records per batch',
      labelNames: ['source'] as const,
      buckets: [1, 10, 100, 500, 1000, 5000, 10_000, 50_000, 100_000],
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'leakscope_insert_seconds',
      help: 'Wall time of one store insert',
      labelNames: ['outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    consumerLag: new Gauge({ name: 'leakscope_consumer_lag', help: 'Messages behind the high watermark', labelNames: ['topic', 'partition'] as const, registers }),
    insertRetries: new Counter({ name: 'leakscope_insert_retries_total', help: 'Store writes that failed and were retried', registers }),
    registryUpdates: new Counter({ name: 'leakscope_registry_updates_total', help: 'Registry updates applied or refused', labelNames: ['outcome'] as const, registers }),
    alerts: new Counter({ name: 'leakscope_alerts_total', help: 'Alerts produced to leak-alerts', labelNames: ['kind'] as const, registers }),
    recordsProduced: new Counter({ name: 'leakscope_records_produced_total', help: 'Records acknowledged by Kafka', labelNames: ['topic'] as const, registers }),
  });
}
