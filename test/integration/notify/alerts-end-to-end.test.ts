// The incident fixture end to end through alerts: registry publish → ship → detect --once →
// leak-alerts → notify → a webhook receiver, counted against the fixture's truth (computed by
// the generator, not by the detector): one first_disclosure per violating site, partner_drift
// per drifting partner and channel set, partner_inactive per lapsed partner, and the spread
// incident opening in the first hours of the leak (request time). The alerts are also in ClickHouse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvroLeakAlert } from '../../../services/avro/index.js';
import { alertId } from '../../../services/detector/index.js';
import { topicNames } from '../../../services/kafka/index.js';
import { Notifier, notifyConfig, verifySignature } from '../../../services/notify/index.js';
import { silentLogger } from '../../../services/observability/index.js';
import { openClickHouseStore } from '../../../services/store/clickhouse/index.js';
import { INCIDENT, cliOk, dropDatabase, readJson, streamEnv, type StreamEnv } from '../streaming/harness.js';
import { startWebhook, type Webhook } from '../support/webhook.js';

interface TruthRow { ts: string; site: string; verdict: string; partner: string | null; channels: string[] }

const SECRET = 'end-to-end-secret-of-32-bytes!!!';
const SPREAD_SITES = 4;
const SPREAD_WINDOW_MS = 4 * 3_600_000;

describe('alerts end to end against the incident truth', () => {
  let s: StreamEnv;
  let hook: Webhook;
  let notifier: Notifier | null = null;
  beforeAll(async () => {
    s = await streamEnv('alerts_e2e');
    hook = await startWebhook();
  });
  afterAll(async () => {
    await notifier?.stop();
    await hook?.close();
    if (s) await dropDatabase(s);
  });

  it('delivers exactly the alerts the truth calls for, signed, and stores them', async () => {
    const truth = readFileSync(join(INCIDENT, 'truth/disclosures.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TruthRow);
    const leak = readJson<{ leak_window: { from: string } }>(join(INCIDENT, 'truth/summary.json')).leak_window;
    const violations = truth.filter((r) => r.verdict !== 'authorized');
    const sites = [...new Set(violations.map((r) => r.site))].sort();
    const drift = [...new Set(violations.filter((r) => r.verdict === 'identifier_not_allowed').map((r) => `${r.partner}|${[...r.channels].sort().join(',')}`))].sort();
    const lapsed = [...new Set(violations.filter((r) => r.verdict === 'partner_inactive').map((r) => r.partner!))].sort();
    // The incident: the first window of request time in which SPREAD_SITES sites had their first violation.
    const firstOf = new Map<string, number>();
    for (const r of violations) firstOf.set(r.site, Math.min(firstOf.get(r.site) ?? Infinity, Date.parse(r.ts)));
    const perWindow = new Map<number, number>();
    for (const t of firstOf.values()) perWindow.set(Math.floor(t / SPREAD_WINDOW_MS) * SPREAD_WINDOW_MS, (perWindow.get(Math.floor(t / SPREAD_WINDOW_MS) * SPREAD_WINDOW_MS) ?? 0) + 1);
    const incidentStart = Math.min(...[...perWindow].filter(([, n]) => n >= SPREAD_SITES).map(([w]) => w));
    expect(incidentStart).toBeGreaterThanOrEqual(Date.parse(leak.from));

    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    await cliOk(s, ['ship', '--json', join(INCIDENT, 'logs')]);
    // Four partitions, judged one batch after another: out of request-time order across partitions.
    await cliOk(s, ['detect', '--once', '--json', '--group', 'alerts-e2e',
      '--spread-sites', String(SPREAD_SITES), '--spread-window-ms', String(SPREAD_WINDOW_MS), '--spread-quiet-ms', String(12 * 3_600_000)]);

    const topics = topicNames(s.prefix);
    notifier = new Notifier({
      brokers: s.brokers, topics, logger: silentLogger(), groupId: 'alerts-e2e-notify', sessionTimeoutMs: 10_000,
      config: notifyConfig({ routes: [{ name: 'soc', url: hook.url, format: 'leakscope', secret_env: 'SOC', group_interval_ms: 500 }] }, { SOC: SECRET }),
    });
    await notifier.start();
    const expectedFirstTime = sites.length + drift.length + lapsed.length;
    const all = (): AvroLeakAlert[] => hook.received.flatMap((r) => (JSON.parse(r.body) as { alerts: AvroLeakAlert[] }).alerts);
    await hook.waitFor(() => all().filter((a) => a.kind !== 'spread').length >= expectedFirstTime, 60_000, `${expectedFirstTime} first-time alerts`);
    await new Promise((r) => setTimeout(r, 1500)); // anything more would arrive within a group interval or two

    const got = all();
    const ofKind = (k: string) => got.filter((a) => a.kind === k);
    expect(ofKind('first_disclosure').map((a) => a.site).sort()).toEqual(sites);
    expect(ofKind('partner_drift').map((a) => `${a.partner_id}|${[...a.channels].sort().join(',')}`).sort()).toEqual(drift);
    expect(ofKind('partner_inactive').map((a) => a.partner_id).sort()).toEqual(lapsed);
    expect(new Set(got.map((a) => a.id)).size).toBe(got.length); // no repeats on a clean run
    const firing = ofKind('spread').filter((a) => a.status === 'firing').sort((a, b) => a.first_seen - b.first_seen);
    expect(firing[0]).toMatchObject({ id: alertId('spread', String(incidentStart)), first_seen: incidentStart });
    // Every incident but possibly the last open one resolves, naming it.
    const resolved = ofKind('spread').filter((a) => a.status === 'resolved');
    expect(resolved.map((a) => a.resolves)).toEqual(firing.slice(0, resolved.length).map((a) => a.id));
    expect(firing.length - resolved.length).toBeLessThanOrEqual(1);
    for (const r of hook.received) expect(verifySignature(SECRET, String(r.headers['x-leakscope-timestamp']), r.body, String(r.headers['x-leakscope-signature']))).toBe(true);
    // Grouped: far fewer deliveries than alerts.
    expect(hook.received.length).toBeLessThan(got.length);

    const store = await openClickHouseStore(s.clickhouseUrl);
    try {
      const stored = await store.recentAlerts({ limit: 10_000 });
      expect(stored.map((a) => a.id).sort()).toEqual(got.map((a) => a.id).sort());
    } finally {
      await store.close();
    }
  });
});
