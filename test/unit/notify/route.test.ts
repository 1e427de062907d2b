import { describe, expect, it } from 'vitest';
import type { AvroLeakAlert } from '../../../services/avro/index.js';
import { createNotifyMetrics, notifyConfig, RouteWorker, type AttemptOutcome, type OutgoingRequest } from '../../../services/notify/index.js';
import { silentLogger } from '../../../services/observability/index.js';
import { firstDisclosure, spread } from './fixtures.js';

const T = Date.parse('2012-01-10T09:31:02.123Z');

function route(extra: Record<string, unknown> = {}) {
  return notifyConfig({ routes: [{ name: 'r', url: 'https://r.example/', format: 'leakscope', secret_env: 'S', group_interval_ms: 200, retry: { initial_ms: 10, max_ms: 40, budget_ms: 5000, max_attempts: 6 }, ...extra }] }, { S: 'a-secret-of-32-bytes-for-the-soc' }).routes[0]!;
}

function worker(answers: AttemptOutcome[], extra: Record<string, unknown> = {}) {
  const requests: OutgoingRequest[] = [];
  const dead: Array<{ ids: string[]; reason: string; attempts: number }> = [];
  const metrics = createNotifyMetrics(() => null, { processMetrics: false });
  const w = new RouteWorker(route(extra), {
    post: async (req) => {
      requests.push(req);
      return answers.shift() ?? { kind: 'delivered', status: 200 };
    },
    deadLetter: async (alerts, _route, reason, attempts) => { dead.push({ ids: alerts.map((a) => a.id), reason, attempts }); },
    metrics,
    logger: silentLogger(),
  });
  return { w, requests, dead, metrics, alertsOf: (i: number) => (JSON.parse(requests[i]!.body) as { alerts: AvroLeakAlert[] }).alerts };
}

const fail = (status: number): AttemptOutcome => ({ kind: 'failed', retry: status === 408 || status === 429 || status >= 500, reason: `HTTP ${status}`, status, retryAfterMs: null });

describe('RouteWorker', () => {
  it('sends the first alert at once and groups the ones arriving within the group interval, incident first', async () => {
    const { w, requests, alertsOf } = worker([]);
    await w.submit(firstDisclosure('first.example', T));
    const storm = [firstDisclosure('b.example', T + 2), firstDisclosure('a.example', T + 1), spread(T, ['a.example', 'b.example'])].map((a) => w.submit(a));
    await Promise.all(storm);
    expect(requests).toHaveLength(2);
    expect(alertsOf(0).map((a) => a.site)).toEqual(['first.example']);
    expect(alertsOf(1).map((a) => a.site ?? a.kind)).toEqual(['spread', 'a.example', 'b.example']);
  });

  it('retries 500 three times, then delivers everything, with a fresh signature each attempt', async () => {
    const { w, requests, dead, metrics } = worker([fail(500), fail(503), fail(500)]);
    await Promise.all([w.submit(firstDisclosure('a.example', T)), w.submit(firstDisclosure('b.example', T))]);
    expect(requests).toHaveLength(4);
    expect(dead).toEqual([]);
    expect(w.deliveries).toEqual([{ alerts: 2, attempts: 4, outcome: 'delivered' }]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('leakscope_notify_retries_total{route="r"} 3');
    expect(text).toContain('leakscope_notify_deliveries_total{route="r",outcome="delivered"} 2');
  });

  it('dead-letters at once on a 400, with the reason', async () => {
    const { w, requests, dead } = worker([fail(400)]);
    await w.submit(firstDisclosure('a.example', T));
    expect(requests).toHaveLength(1);
    expect(dead).toEqual([{ ids: [firstDisclosure('a.example', T).id], reason: 'refused: HTTP 400', attempts: 1 }]);
  });

  it('dead-letters when the attempts are spent, saying so', async () => {
    const { w, requests, dead } = worker(Array.from({ length: 10 }, () => fail(503)), { retry: { initial_ms: 5, max_ms: 10, budget_ms: 5000, max_attempts: 3 } });
    await w.submit(firstDisclosure('a.example', T));
    expect(requests).toHaveLength(3);
    expect(dead[0]!.reason).toMatch(/^gave up after 3 attempts in [0-9]+ ms: HTTP 503$/);
  });

  it('stops retrying once the retry budget would be exceeded', async () => {
    const { w, requests, dead } = worker(Array.from({ length: 50 }, () => fail(429)), { retry: { initial_ms: 40, max_ms: 80, budget_ms: 150, max_attempts: 50 } });
    await w.submit(firstDisclosure('a.example', T));
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.length).toBeLessThan(50);
    expect(dead[0]!.reason).toContain('gave up');
  });

  it('on stop, leaves waiting alerts unsettled (rejected), so nothing is committed for them', async () => {
    const { w } = worker([fail(503), fail(503), fail(503), fail(503)], { retry: { initial_ms: 1000, max_ms: 1000, budget_ms: 60_000, max_attempts: 10 } });
    const p = w.submit(firstDisclosure('a.example', T));
    await new Promise((r) => setTimeout(r, 50));
    expect(w.oldestPending()).not.toBeNull();
    w.stop();
    await expect(p).rejects.toThrow(/stopped/);
  });
});

describe('plannedDeliveries (the grouping rule, as npm start shows it)', () => {
  it('sends the first alert at once, then one delivery per group interval while alerts keep coming', async () => {
    const { plannedDeliveries } = await import('../../../services/notify/index.js');
    const r = { groupIntervalMs: 10_000, groupWaitMs: 0, maxAlertsPerDelivery: 500 };
    // 60 alerts, one per second: 1 at once, then groups every 10 s.
    const planned = plannedDeliveries(Array.from({ length: 60 }, (_, i) => i * 1000), r);
    expect(planned.map((p) => [p.at, p.alerts])).toEqual([[0, 1], [10_000, 10], [20_000, 10], [30_000, 10], [40_000, 10], [50_000, 10], [60_000, 9]]);
    // A quiet route sends at once again.
    expect(plannedDeliveries([0, 100_000], r).map((p) => p.at)).toEqual([0, 100_000]);
  });
});
