// leakscope notify against the real Kafka and a real Alertmanager, with webhook receivers the
// test runs: retries until delivered (signatures verify), refusals and a dead route to the DLQ
// without holding back the other routes, Alertmanager grouping and resolution, and a notify
// process killed with SIGKILL mid-delivery that loses nothing when restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka as KafkaClient } from 'kafkajs';
import { AvroCodec, type AvroLeakAlert } from '../../../services/avro/index.js';
import { StreamProducer, createKafkaClient, prepareTopics, topicNames, type TopicNames } from '../../../services/kafka/index.js';
import { ALERT_DLQ_HEADERS, Notifier, alertsDlqTopic, notifyConfig, verifySignature } from '../../../services/notify/index.js';
import { silentLogger } from '../../../services/observability/index.js';
import { alertId } from '../../../services/detector/index.js';
import { REPO_ROOT, kafkaClient, requireKafka, uniqueName } from '../support/servers.js';
import { startWebhook, type Received, type Webhook } from '../support/webhook.js';
import { startAlertmanager } from '../support/alertmanager.js';

const SECRET = 'integration-secret-of-32-bytes!!';
const T = Date.parse('2012-01-10T09:31:02.123Z');
const codec = new AvroCodec();

function firstDisclosure(site: string, i: number): AvroLeakAlert {
  return {
    id: alertId('first_disclosure', site), kind: 'first_disclosure', site, host: `www.${site}`, verdict: 'unauthorized_recipient', partner_id: null,
    channels: ['header:x-up-calling-line-id'], subscriber_masked: '+4477009****23', sites: [], first_seen: T + i * 1000, count: 1,
    detected_at: Date.now(), registry_version: '2012-01-31.1', status: 'firing', resolves: null, ends_at: null,
  };
}

function spread(sites: string[], status: 'firing' | 'resolved'): AvroLeakAlert {
  const firing = alertId('spread', String(T));
  return {
    id: status === 'firing' ? firing : alertId('spread.resolved', String(T)), kind: 'spread', site: null, host: null, verdict: null, partner_id: null,
    channels: [], subscriber_masked: null, sites, first_seen: T, count: sites.length, detected_at: Date.now(), registry_version: '2012-01-31.1',
    status, resolves: status === 'firing' ? null : firing, ends_at: status === 'firing' ? null : T + 3_600_000,
  };
}

let brokers: string[];
let kafka: KafkaClient;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => {
  brokers = requireKafka();
  kafka = kafkaClient(brokers, 'notify-test');
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function freshTopics(name: string): Promise<TopicNames> {
  const topics = topicNames(`${uniqueName(name)}.`);
  await prepareTopics(createKafkaClient({ brokers, clientId: 'notify-test-admin', logger: silentLogger() }), topics);
  return topics;
}

async function produce(topics: TopicNames, alerts: AvroLeakAlert[]): Promise<void> {
  const p = new StreamProducer(createKafkaClient({ brokers, clientId: 'notify-test-producer', logger: silentLogger() }), codec);
  await p.connect();
  try {
    await p.send([{ topic: topics.alerts, messages: alerts.map((a) => p.alertMessage(a)) }]);
  } finally {
    await p.disconnect();
  }
}

async function webhook(): Promise<Webhook> {
  const w = await startWebhook();
  cleanups.push(() => w.close());
  return w;
}

async function notifier(topics: TopicNames, routes: unknown[], groupId = uniqueName('notify')): Promise<Notifier> {
  const n = new Notifier({ brokers, topics, config: notifyConfig({ routes }, { SOC: SECRET }), logger: silentLogger(), groupId, sessionTimeoutMs: 10_000 });
  await n.start();
  cleanups.push(() => n.stop());
  return n;
}

async function committed(topics: TopicNames, groupId: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topics.alerts] });
    return offsets[0]?.partitions[0]?.offset ?? '-1';
  } finally {
    await admin.disconnect();
  }
}

async function waitCommitted(topics: TopicNames, groupId: string, expected: string): Promise<void> {
  const until = Date.now() + 30_000;
  let last = '';
  while ((last = await committed(topics, groupId)) !== expected) {
    if (Date.now() > until) throw new Error(`group ${groupId}: committed offset ${last}, expected ${expected}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

type DlqRecord = { alert: AvroLeakAlert; headers: Record<string, string>; timestamp: number };

async function readDlq(topics: TopicNames, count: number): Promise<DlqRecord[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader') });
  // Keyed by place in the topic: a rebalance may deliver a record again, and it is still one record.
  const out = new Map<string, DlqRecord>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: alertsDlqTopic(topics), fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`DLQ: ${out.size} of ${count} records within 30 s`)), 30_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          out.set(`${partition}:${message.offset}`, { alert: codec.decodeAs('LeakAlert', message.value!), headers, timestamp: Number(message.timestamp) });
          if (out.size >= count) { clearTimeout(timer); resolve(); }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return [...out.values()];
}

/** A loopback port nothing listens on (connections are refused). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const idsOf = (r: Received): string[] => (JSON.parse(r.body) as { alerts: AvroLeakAlert[] }).alerts.map((a) => a.id);
const delivered = (received: Received[]): Set<string> => new Set(received.filter((r) => r.status === 200).flatMap(idsOf));

describe('leakscope notify (real Kafka)', () => {
  it('a receiver answering 500 three times and then 200 gets every alert, each request signed with the route secret; then the offsets are committed', async () => {
    const topics = await freshTopics('notify_retry');
    const hook = await webhook();
    hook.script.push(500, 500, 500);
    const alerts = ['a.example', 'b.example', 'c.example', 'd.example'].map(firstDisclosure);
    await produce(topics, alerts);
    const n = await notifier(topics, [{ name: 'soc', url: hook.url, format: 'leakscope', secret_env: 'SOC', retry: { initial_ms: 100, max_ms: 400 } }]);
    await hook.waitFor((r) => delivered(r).size === alerts.length, 30_000, 'every alert delivered');
    expect([...delivered(hook.received)].sort()).toEqual(alerts.map((a) => a.id).sort());
    expect(hook.received.map((r) => r.status).slice(0, 4)).toEqual([500, 500, 500, 200]);
    for (const r of hook.received) {
      expect(verifySignature(SECRET, String(r.headers['x-leakscope-timestamp']), r.body, String(r.headers['x-leakscope-signature']))).toBe(true);
      expect(verifySignature('not-the-secret-of-the-route-1234', String(r.headers['x-leakscope-timestamp']), r.body, String(r.headers['x-leakscope-signature']))).toBe(false);
    }
    await waitCommitted(topics, n.groupId, String(alerts.length));
    const metrics = await n.metrics.registry.metrics();
    expect(metrics).toContain('leakscope_notify_retries_total{route="soc"} 3');
    expect(metrics).toMatch(/leakscope_notify_delivery_seconds_count\{route="soc"\} 4/);
  });

  it('a 400 puts the alert on leak-alerts-dlq with the reason, a dead route gives up after its budget, and neither holds back the good route', async () => {
    const topics = await freshTopics('notify_dlq');
    const good = await webhook();
    const refusing = await webhook();
    refusing.script.push(400);
    const alerts = [firstDisclosure('x.example', 0), firstDisclosure('y.example', 1)];
    await produce(topics, alerts);
    const n = await notifier(topics, [
      { name: 'good', url: good.url, format: 'cloudevents' },
      { name: 'refusing', url: refusing.url, format: 'leakscope', secret_env: 'SOC' },
      { name: 'dead', url: `http://127.0.0.1:${await closedPort()}/`, format: 'leakscope', secret_env: 'SOC', timeout_ms: 500, retry: { initial_ms: 200, max_ms: 400, budget_ms: 2500 } },
    ]);
    await good.waitFor((r) => r.length >= 1, 10_000, 'the good route\'s delivery');
    const goodAt = good.received[0]!.at;
    const dlq = await readDlq(topics, 4);
    const byRoute = (route: string) => dlq.filter((d) => d.headers[ALERT_DLQ_HEADERS.route] === route);
    expect(byRoute('refusing').map((d) => d.alert.id).sort()).toEqual(alerts.map((a) => a.id).sort());
    expect(byRoute('refusing')[0]!.headers[ALERT_DLQ_HEADERS.reason]).toBe('refused: HTTP 400: scripted 400');
    expect(byRoute('dead')).toHaveLength(2);
    expect(byRoute('dead')[0]!.headers[ALERT_DLQ_HEADERS.reason]).toMatch(/^gave up after [0-9]+ attempts in [0-9]+ ms: connection failed: ECONNREFUSED$/);
    expect(byRoute('dead')[0]!.headers[ALERT_DLQ_HEADERS.alertId]).toBe(byRoute('dead')[0]!.alert.id);
    // The good route delivered before the dead one gave up (the DLQ record's time).
    expect(goodAt).toBeLessThan(byRoute('dead')[0]!.timestamp);
    const ce = JSON.parse(good.received[0]!.body) as Array<{ id: string; type: string }>;
    expect(ce.map((e) => e.id).sort()).toEqual(alerts.map((a) => a.id).sort());
    await waitCommitted(topics, n.groupId, '2');
    const metrics = await n.metrics.registry.metrics();
    expect(metrics).toContain('leakscope_notify_deliveries_total{route="good",outcome="delivered"} 2');
    expect(metrics).toContain('leakscope_notify_deliveries_total{route="dead",outcome="dead_lettered"} 2');
  });
});

describe('leakscope notify → real Alertmanager → webhook', () => {
  it('arrives with the contract labels, grouped as configured, and a resolved incident resolves', async () => {
    const hook = await webhook();
    const am = await startAlertmanager(hook.url, '1s', '2s');
    cleanups.push(() => am.stop());
    const topics = await freshTopics('notify_am');
    const sites = ['s1.example', 's2.example', 's3.example', 's4.example', 's5.example'];
    await produce(topics, [spread(sites, 'firing'), ...sites.map(firstDisclosure)]);
    await notifier(topics, [{ name: 'am', url: am.url, format: 'alertmanager' }]);

    type AmAlert = { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string };
    type AmPayload = { status: string; groupKey: string; groupLabels: Record<string, string>; alerts: AmAlert[] };
    const payloads = (): AmPayload[] => hook.received.map((r) => JSON.parse(r.body) as AmPayload);
    const group = (name: string, status: string) => payloads().find((p) => p.groupLabels.alertname === name && p.status === status);
    // notify sends a group's first alert at once and the rest after its group interval; on a busy
    // machine the rest may reach Alertmanager after its group_wait, so its first notification can
    // hold only some sites and the next (group_interval later) all of them: wait for that one.
    const allFirsts = () => payloads().find((p) => p.groupLabels.alertname === 'LeakscopeFirstDisclosure' && p.status === 'firing' && p.alerts.length === sites.length);
    await hook.waitFor(() => group('LeakscopeSpread', 'firing') !== undefined && allFirsts() !== undefined, 30_000, 'both firing groups, every site in the first-disclosure group');
    const firsts = allFirsts()!;
    expect(firsts.groupLabels).toEqual({ alertname: 'LeakscopeFirstDisclosure', kind: 'first_disclosure' });
    expect(firsts.alerts.map((a) => a.labels.site).sort()).toEqual(sites);
    expect(firsts.alerts[0]!.labels).toMatchObject({ kind: 'first_disclosure', verdict: 'unauthorized_recipient', severity: 'warning' });
    expect(firsts.alerts.every((a) => a.labels.partner === undefined)).toBe(true);
    const incident = group('LeakscopeSpread', 'firing')!;
    expect(incident.alerts).toHaveLength(1);
    expect(incident.alerts[0]!.labels).toEqual({ alertname: 'LeakscopeSpread', kind: 'spread', severity: 'critical', alert_id: alertId('spread', String(T)) });
    expect(incident.alerts[0]!.startsAt).toBe(new Date(T).toISOString());
    expect(incident.alerts[0]!.annotations.sites).toBe(sites.join(', '));
    // Five first disclosures, grouped: one notification, or two when the group grew after
    // Alertmanager's group_wait; never a page per site.
    const firstPages = payloads().filter((p) => p.groupLabels.alertname === 'LeakscopeFirstDisclosure');
    expect(firstPages.length).toBeGreaterThanOrEqual(1);
    expect(firstPages.length).toBeLessThanOrEqual(2);

    await produce(topics, [spread(sites, 'resolved')]);
    await hook.waitFor(() => group('LeakscopeSpread', 'resolved') !== undefined, 30_000, 'the resolved incident');
    const resolved = group('LeakscopeSpread', 'resolved')!;
    expect(resolved.groupKey).toBe(incident.groupKey);
    expect(resolved.alerts[0]).toMatchObject({ status: 'resolved', endsAt: new Date(T + 3_600_000).toISOString() });
    expect(resolved.alerts[0]!.labels).toEqual(incident.alerts[0]!.labels);
  });
});

describe('leakscope notify killed with SIGKILL mid-delivery', () => {
  it('loses nothing when restarted: the alerts come again with the same ids', async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/cli/commands/notify.js'))) throw new Error('dist/ has no notify command: run npm run build (scripts/test.sh builds before the tests)');
    const topics = await freshTopics('notify_kill');
    const hook = await webhook();
    hook.script.push(0); // hold the first delivery: notify is killed while waiting for the answer
    const alerts = ['k1.example', 'k2.example', 'k3.example'].map(firstDisclosure);
    await produce(topics, alerts);
    const dir = mkdtempSync(join(tmpdir(), 'notify-kill-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'notify.yaml');
    writeFileSync(config, `routes:\n  - name: soc\n    url: ${hook.url}\n    format: leakscope\n    secret_env: SOC\n    timeout_ms: 60000\n`);
    const group = uniqueName('notify-kill');
    const prefix = topics.alerts.slice(0, -'leak-alerts'.length);
    const run = (): ChildProcess => {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/leakscope.js'), 'notify', '--config', config, '--group', group, '--session-timeout-ms', '6000'], {
        env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: brokers.join(','), LEAKSCOPE_TOPIC_PREFIX: prefix, SOC: SECRET, LEAKSCOPE_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      cleanups.push(async () => { if (child.exitCode === null) child.kill('SIGKILL'); });
      return child;
    };
    const first = run();
    await hook.waitFor((r) => r.length === 1, 60_000, 'the first (held) delivery');
    const heldIds = idsOf(hook.received[0]!);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(await committed(topics, group)).toBe('-1');

    const second = run();
    await hook.waitFor((r) => delivered(r).size === alerts.length, 60_000, 'every alert after the restart');
    const again = hook.received.filter((r) => r.status === 200).flatMap(idsOf);
    expect(new Set(again)).toEqual(new Set(heldIds));
    expect(heldIds.sort()).toEqual(alerts.map((a) => a.id).sort());
    await waitCommitted(topics, group, '3');
    second.kill('SIGTERM');
    const code = await new Promise((r) => second.once('exit', r));
    expect(code).toBe(0);
  });
});
