// The pipeline on the clusters of deploy/local/stack cluster-up: topics replicated on three
// brokers (RF 3, min.insync.replicas 2), the shipper acknowledged by all in-sync replicas,
// three `leakscope detect` processes in one group, each writing through a different
// ClickHouse node of the two-shard cluster. One detector is SIGKILLed mid-run and one broker
// stopped and restarted while the rest of the logs are shipped; the report, who-saw and the
// notification list read from the cluster are the incident fixture's truth.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, clickhouseQuery, requireClusters, runStack, uniqueName, withAdmin, type ClusterServers } from '../support/servers.js';
import { ENC_KEY, HASH_KEY, INCIDENT, answers, cliOk, readJson, truthAnswers, waitFor, type StreamEnv } from './harness.js';

const BIN = join(REPO_ROOT, 'bin/leakscope.js');
const GROUP = 'cluster-detectors';

interface DetectorProcess {
  child: ChildProcess;
  /** pino events (JSON lines on stderr) seen so far. */
  events: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDetector(s: StreamEnv, clickhouseUrl: string): DetectorProcess {
  const child = spawn(process.execPath, [BIN, 'detect', '--group', GROUP], {
    cwd: REPO_ROOT,
    env: { ...s.env, CLICKHOUSE_URL: clickhouseUrl, LEAKSCOPE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const events: Array<Record<string, unknown>> = [];
  let pending = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        events.push({ msg: 'not json', line });
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, events, exited };
}

/** The partitions a detector holds by its last assignment. */
function assigned(d: DetectorProcess): number[] {
  const last = [...d.events].reverse().find((e) => e.msg === 'partitions assigned');
  return (last?.partitions as number[] | undefined) ?? [];
}

const written = (d: DetectorProcess) => d.events.filter((e) => e.msg === 'batch written' && Number(e.records) > 0).length;

/** The affected subscribers of the window from the fixture's list of disclosures: what export-affected must list. */
function truthAffected(window: { from: string; to: string }): Array<{ msisdn: string; sites: string[]; first: number; last: number; violations: number }> {
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  const bySubscriber = new Map<string, { sites: Set<string>; first: number; last: number; violations: number }>();
  for (const line of readFileSync(join(INCIDENT, 'truth/disclosures.ndjson'), 'utf8').split('\n').filter(Boolean)) {
    const d = JSON.parse(line) as { ts: string; site: string; subscriber: string | null; verdict: string };
    const ts = Date.parse(d.ts);
    if (d.verdict === 'authorized' || d.subscriber === null || ts < from || ts >= to) continue;
    const a = bySubscriber.get(d.subscriber) ?? { sites: new Set(), first: ts, last: ts, violations: 0 };
    a.sites.add(d.site);
    a.first = Math.min(a.first, ts);
    a.last = Math.max(a.last, ts);
    a.violations++;
    bySubscriber.set(d.subscriber, a);
  }
  return [...bySubscriber].map(([msisdn, a]) => ({ msisdn, sites: [...a.sites].sort(), first: a.first, last: a.last, violations: a.violations }))
    .sort((x, y) => (x.msisdn < y.msisdn ? -1 : 1));
}

function parseAffected(csv: string): ReturnType<typeof truthAffected> {
  const [header, ...rows] = csv.trim().split(/\r?\n/);
  expect(header).toBe('msisdn,sites,first_exposure,last_exposure,violations');
  return rows.map((r) => {
    const [msisdn, sites, first, last, violations] = r.split(',');
    return { msisdn: msisdn!, sites: sites!.split(';').sort(), first: Date.parse(first!), last: Date.parse(last!), violations: Number(violations) };
  }).sort((x, y) => (x.msisdn < y.msisdn ? -1 : 1));
}

describe('the pipeline on a three-broker Kafka and a two-shard ClickHouse cluster', () => {
  let servers: ClusterServers;
  let s: StreamEnv;
  const detectors: DetectorProcess[] = [];
  let brokerStopped = false;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) throw new Error('dist/ has no build: run `npm run build` first (npm test does)');
    servers = requireClusters();
    const database = uniqueName('lk_cluster_pipeline');
    const prefix = `${uniqueName('cluster')}.`;
    const clickhouseUrl = new URL(`/${database}`, servers.nodes[0]!).toString();
    s = {
      brokers: servers.brokers, clickhouseBase: servers.nodes[0]!, database, clickhouseUrl, prefix,
      env: {
        PATH: process.env.PATH ?? '', KAFKA_BROKERS: servers.brokers.join(','), CLICKHOUSE_URL: clickhouseUrl, LEAKSCOPE_TOPIC_PREFIX: prefix,
        LEAKSCOPE_HASH_KEY: HASH_KEY, LEAKSCOPE_ENC_KEY: ENC_KEY, LEAKSCOPE_LOG_LEVEL: 'silent',
      },
    };
    // Migrated through the node of shard 2: ON CLUSTER reaches every node.
    await cliOk(s, ['migrate', '--clickhouse', new URL(`/${database}`, servers.nodes[2]!).toString(), '--cluster', servers.clickhouseCluster]);
  }, 180_000);

  afterAll(async () => {
    for (const d of detectors) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    if (brokerStopped) await runStack(['cluster-broker', 'start', '2']);
    if (s) await clickhouseQuery(servers.nodes[0]!, `DROP DATABASE IF EXISTS ${s.database} ON CLUSTER ${servers.clickhouseCluster}`);
  }, 240_000);

  it('survives a SIGKILLed detector and a broker restart, and the cluster holds exactly the truth', async () => {
    const summary = readJson<{ totals: { requests: number }; leak_window: { from: string; to: string } }>(join(INCIDENT, 'truth/summary.json'));
    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    const requests = `${s.prefix}gateway-requests`;
    await withAdmin(s.brokers, async (admin) => {
      const meta = await admin.fetchTopicMetadata({ topics: [requests] });
      expect(meta.topics[0]!.partitions.map((p) => p.replicas.length)).toEqual([3, 3, 3, 3]);
      const configs = await admin.describeConfigs({ resources: [{ type: 2, name: requests, configNames: ['min.insync.replicas'] }], includeSynonyms: false });
      expect(configs.resources[0]!.configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue).toBe('2');
    });

    // Three detectors in one group, each on its own ClickHouse node (two replicas of shard 1, and shard 2).
    servers.nodes.forEach((node) => detectors.push(startDetector(s, new URL(`/${s.database}`, node).toString())));
    await waitFor(() => `the three detectors to share the 4 partitions (have ${detectors.map((d) => JSON.stringify(assigned(d))).join(' ')})`,
      () => detectors.every((d) => assigned(d).length > 0) && detectors.flatMap(assigned).sort().join() === '0,1,2,3', 120_000);

    // The first gateway's logs; the victim is killed after it has written, mid-run.
    await cliOk(s, ['ship', join(INCIDENT, 'logs/gw-lon-01.ndjson')]);
    const victim = detectors[0]!;
    await waitFor('the first detector to write a batch', () => written(victim) > 0, 60_000);
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');

    // One broker down while the other two gateways' logs are shipped (acks from all in-sync replicas: two remain).
    await runStack(['cluster-broker', 'stop', '2']);
    brokerStopped = true;
    await cliOk(s, ['ship', join(INCIDENT, 'logs/gw-man-02.log'), join(INCIDENT, 'logs/gw-gla-03.ndjson.gz')]);
    await runStack(['cluster-broker', 'start', '2']);
    brokerStopped = false;

    // The survivors take the victim's partitions and commit every record.
    const survivors = detectors.slice(1);
    await withAdmin(s.brokers, async (admin) => {
      const ends = await admin.fetchTopicOffsets(requests);
      expect(ends.reduce((n, p) => n + Number(p.high), 0)).toBe(summary.totals.requests);
      await waitFor('the group to commit every partition to its end', async () => {
        const committed = (await admin.fetchOffsets({ groupId: GROUP, topics: [requests] }))[0]!.partitions;
        return ends.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.high);
      }, 150_000);
    });
    expect(survivors.flatMap(assigned).sort().join()).toBe('0,1,2,3');
    for (const d of survivors) d.child.kill('SIGTERM');
    for (const d of survivors) expect((await d.exited).code).toBe(0);
    expect(survivors.every((d) => written(d) > 0)).toBe(true);

    // Read through the second replica of shard 1, which no insert went to first.
    const reader = { ...s, clickhouseUrl: new URL(`/${s.database}`, servers.nodes[1]!).toString() };
    const truth = truthAnswers();
    const got = await answers(reader);
    expect(got.report).toEqual(truth.report);
    expect(got.whoSaw).toEqual(truth.whoSaw);
    const csv = await cliOk(reader, ['export-affected', '--from', summary.leak_window.from, '--to', summary.leak_window.to,
      '--reason', 'cluster pipeline test', '--clickhouse', reader.clickhouseUrl]);
    const affected = parseAffected(csv);
    expect(affected.length).toBeGreaterThan(0);
    expect(affected).toEqual(truthAffected(summary.leak_window));
  });
});
