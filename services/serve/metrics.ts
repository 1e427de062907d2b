// Prometheus metrics of the API, on their own registry: requests by route and status, latency,
// lookups, refusals by reason. Route labels are the route patterns (never a raw URL), so a
// client cannot grow the label set.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
