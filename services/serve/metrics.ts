// Prometheus metrics of the API, on their own registry: requests by route and status, latency,
// lookups, refusals by reason. Route labels are the route patterns (never a raw URL), so a
// client cannot grow the label set. The who-saw index's gauges are read from the DuckDB store's
// index slot when scraped (absent over ClickHouse, or with the index turned off).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
// The module itself, not the DuckDB barrel: it loads no DuckDB (serve over ClickHouse never does).
import { whoSawIndexStatus } from '../store/duckdb/who-saw-index.js';

export interface ServeMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  duration: Histogram<'route'>;
  lookups: Counter<'action'>;
  refusals: Counter<'reason'>;
}

export function createServeMetrics(): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'leakscope_serve_' });
  // prom-client names three gauges `…_total`, which `promtool check metrics` refuses (that
  // suffix is for counters); the handle and request counts they give are not worth a lint error.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(`leakscope_serve_${name}`);
  }
  registerWhoSawIndexMetrics(registry);
  return {
    registry,
    requests: new Counter({
      name: 'leakscope_http_requests_total', help: 'API requests answered, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'], registers: [registry],
    }),
    duration: new Histogram({
      name: 'leakscope_http_request_duration_seconds', help: 'Time to answer an API request, by route pattern',
      labelNames: ['route'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
    }),
    lookups: new Counter({
      name: 'leakscope_lookups_total', help: 'Audited lookups answered (who-saw, affected)', labelNames: ['action'], registers: [registry],
    }),
    refusals: new Counter({
      name: 'leakscope_refusals_total', help: 'API requests refused, by reason (unauthenticated, forbidden, bad_request, rate_limited, …)',
      labelNames: ['reason'], registers: [registry],
    }),
  };
}

const INDEX_STATES = ['none', 'building', 'ready', 'too_large', 'failed'] as const;

/** The in-memory who-saw index (README, "Speed of the API"): its state, size, generation and where answers came from. */
function registerWhoSawIndexMetrics(registry: Registry): void {
  const gauge = (name: string, help: string, value: (s: NonNullable<ReturnType<typeof whoSawIndexStatus>>) => number) => new Gauge({
    name, help, registers: [registry],
    collect() {
      const status = whoSawIndexStatus();
      if (status !== null) this.set(value(status));
    },
  });
  gauge('leakscope_who_saw_index_rows', 'Narrow who-saw rows held in memory by the ready index (0: none)', (s) => s.rows);
  gauge('leakscope_who_saw_index_bytes', 'Memory held by the ready who-saw index, in bytes (estimate)', (s) => s.bytes);
  gauge('leakscope_who_saw_index_generation', 'Store generation the ready who-saw index was read at (-1: none ready)', (s) => s.generation);
  gauge('leakscope_who_saw_index_build_seconds', 'Time the ready who-saw index took to read, in seconds', (s) => s.buildMs / 1000);
  new Gauge({
    name: 'leakscope_who_saw_index_state', help: 'State of the who-saw index: 1 for the current state (none, building, ready, too_large, failed)',
    labelNames: ['state'], registers: [registry],
    collect() {
      const status = whoSawIndexStatus();
      if (status === null) return;
      for (const state of INDEX_STATES) this.set({ state }, status.state === state ? 1 : 0);
    },
  });
  let counted = { index: 0, store: 0 };
  new Counter({
    name: 'leakscope_who_saw_answers_total', help: 'who-saw answers by where their rows came from (index: memory; store: DuckDB)',
    labelNames: ['source'], registers: [registry],
    collect() {
      const status = whoSawIndexStatus();
      if (status === null) return;
      // Never negative: another store's slot (a test process opening several) starts from 0 again.
      this.inc({ source: 'index' }, Math.max(0, status.answersFromIndex - counted.index));
      this.inc({ source: 'store' }, Math.max(0, status.answersFromStore - counted.store));
      counted = { index: status.answersFromIndex, store: status.answersFromStore };
    },
  });
}
