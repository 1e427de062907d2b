// The real servers integration tests run against, as started by deploy/local/stack.
//
// Tests never skip when a server is missing: requireKafka()/requireClickHouse() throw with
// the command that fixes it. `npm test` (scripts/test.sh) starts the stack and exports
// KAFKA_BROKERS and CLICKHOUSE_URL; by hand: eval "$(deploy/local/stack up)".
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import kafkajs from 'kafkajs';
import type { Admin, ITopicConfig, Kafka as KafkaClient, KafkaConfig } from 'kafkajs';
import { chdbConnection, chdbDir } from '../../../services/store/clickhouse/chdb.js';
import { clickhouseConfig } from '../../../services/store/clickhouse/config.js';

const { Kafka, logLevel } = kafkajs;

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const STACK_SCRIPT = path.join(REPO_ROOT, 'deploy/local/stack');

const FIX_IT = 'run: eval "$(deploy/local/stack up)" or `npm test`';

function requireEnv(name: string, what: string): string {
  const value = process.env[name]?.trim();
  if (!value) {
    throw new Error(`${name} is not set: this test needs the real ${what}. To start it, ${FIX_IT}`);
  }
  return value;
}

/** Broker list of the stack's Kafka (KAFKA_BROKERS, comma-separated host:port). */
export function requireKafka(): string[] {
  const brokers = requireEnv('KAFKA_BROKERS', 'Kafka broker')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  for (const b of brokers) {
    if (!/^[^\s:]+:\d+$/.test(b)) {
      throw new Error(`KAFKA_BROKERS has "${b}", not host:port. To start the stack, ${FIX_IT}`);
    }
  }
  return brokers;
}

/** Base URL of the stack's ClickHouse (CLICKHOUSE_URL, e.g. http://127.0.0.1:38123/leakscope). */
export function requireClickHouse(): string {
  const url = requireEnv('CLICKHOUSE_URL', 'ClickHouse server');
  try {
    new URL(url);
  } catch {
    throw new Error(`CLICKHOUSE_URL is "${url}", not a URL. To start the stack, ${FIX_IT}`);
  }
  return url;
}

/**
 * ClickHouse in-process (chdb, a current release) for this test process: `chdb:<folder>`, one
 * folder per process (the engine is per process), removed when the process exits. Fails with
 * the command that installs chdb when it is not there.
 */
export function requireChdb(): string {
  const dir = chdbDir();
  if (dir === null || !existsSync(join(dir, 'node_modules/chdb/package.json'))) {
    throw new Error(`chdb (ClickHouse in-process) is not installed in ${dir ?? '(no folder)'}: these tests need it to run the SQL on a current ClickHouse. `
      + `To install it, run: bash deploy/local/stack provision (or \`npm test\`), or set LEAKSCOPE_CHDB_DIR to a folder where it is installed`);
  }
  const data = join(tmpdir(), `leakscope-chdb-test-${process.pid}`);
  const g = globalThis as { [CHDB_CLEANUP]?: true };
  if (!g[CHDB_CLEANUP]) {
    g[CHDB_CLEANUP] = true;
    mkdirSync(data, { recursive: true });
    process.once('exit', () => rmSync(data, { recursive: true, force: true }));
  }
  return `chdb:${data}`;
}
const CHDB_CLEANUP = Symbol.for('leakscope.test.chdb-cleanup');

/** A ClickHouse the store tests run against: the stack's server (18.16) or chdb in-process (26.x). */
export interface ClickHouseTarget {
  name: string;
  /** The oldest release this target may be: 18 for the stack's server, 26 for chdb (the point of it is a current release). */
  minMajor: number;
  /** A URL of the target for statements outside any database (DROP DATABASE …). */
  base: string;
  /** The store URL of database `db` on the target. */
  url(db: string): string;
}

/** Every ClickHouse the store tests must pass on, each failing with its fix-it when missing. */
export function clickhouseTargets(): ClickHouseTarget[] {
  // Resolved when a test uses them, so a missing one fails that test with its fix-it, not the file's collection.
  return [
    {
      name: 'ClickHouse server (stack)',
      minMajor: 18,
      get base(): string { return requireClickHouse(); },
      url: (db: string): string => new URL(`/${db}`, requireClickHouse()).toString(),
    },
    {
      name: 'ClickHouse in-process (chdb)',
      minMajor: 26,
      get base(): string { return requireChdb(); },
      url: (db: string): string => `${requireChdb()}?database=${db}`,
    },
  ];
}

/**
 * A fresh name for a per-test topic or database: `prefix_<time>_<random>`, only
 * [a-z0-9_] so that it is both a valid Kafka topic name and a ClickHouse identifier.
 */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^([^a-z_])/, '_$1') || 't';
  return `${clean}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

// ----------------------------------------------------------------------------------------
// ClickHouse, through @clickhouse/client (the server's HTTP interface, or chdb in-process)

/** The database named by a ClickHouse URL's path (`/leakscope` → `leakscope`); default `leakscope`. */
export function clickhouseDatabase(url: string): string {
  return clickhouseConfig(url).database;
}

export interface ClickHouseQueryOptions {
  /** Run in this database (it must exist). Default: the server's default database. HTTP only. */
  database?: string;
}

const clients = new Map<string, ClickHouseClient>();

/** One client per server (and database), kept for the test file; chdb URLs share the process's engine. */
function clientFor(url: string, options: ClickHouseQueryOptions): ClickHouseClient {
  const config = clickhouseConfig(url);
  if (config.kind === 'chdb' && options.database) throw new Error('clickhouseQuery: the database option is for HTTP URLs; qualify table names for chdb');
  const key = `${config.endpoint ?? config.chdbPath}|${options.database ?? ''}`;
  let client = clients.get(key);
  if (!client) {
    client = config.kind === 'chdb'
      ? createClient({ connection: chdbConnection(config.chdbPath!) })
      : createClient({ url: config.endpoint!, ...(options.database ? { database: options.database } : {}) });
    clients.set(key, client);
  }
  return client;
}

/**
 * Runs one SQL statement on ClickHouse and returns the answer as text. The URL's database is
 * not used: pass `database` to run inside one. Throws with ClickHouse's own message on an error.
 */
export async function clickhouseQuery(url: string, sql: string, options: ClickHouseQueryOptions = {}): Promise<string> {
  try {
    const result = await clientFor(url, options).exec({ query: sql });
    const chunks: Buffer[] = [];
    for await (const chunk of result.stream) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    throw new Error(`ClickHouse failed ${JSON.stringify(sql.slice(0, 200))}: ${(err as Error).message}`, { cause: err });
  }
}

/** Runs a SELECT and returns its rows as objects (as JSONEachRow). */
export async function clickhouseRows<T = Record<string, unknown>>(
  url: string,
  sql: string,
  options: ClickHouseQueryOptions = {},
): Promise<T[]> {
  try {
    const result = await clientFor(url, options).query({ query: sql.trim().replace(/;$/, ''), format: 'JSONEachRow' });
    return await result.json<T>();
  } catch (err) {
    throw new Error(`ClickHouse failed ${JSON.stringify(sql.slice(0, 200))}: ${(err as Error).message}`, { cause: err });
  }
}

// ----------------------------------------------------------------------------------------
// Kafka

/**
 * A kafkajs client for tests: short retries, and silent unless LEAKSCOPE_TEST_KAFKA_LOG=1
 * (kafkajs logs every retried coordinator-loading answer as an ERROR; failures still throw).
 */
export function kafkaClient(brokers: string[], clientId = 'leakscope-test', extra: Partial<KafkaConfig> = {}): KafkaClient {
  return new Kafka({
    clientId,
    brokers,
    logLevel: process.env.LEAKSCOPE_TEST_KAFKA_LOG ? logLevel.INFO : logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2000 },
    ...extra,
  });
}

/** Runs fn with a connected admin client, and disconnects it. */
export async function withAdmin<T>(brokers: string[], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient(brokers, 'leakscope-test-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export interface CreateTopicOptions {
  replicationFactor?: number;
  /** Topic configs, e.g. { 'cleanup.policy': 'compact' }. */
  config?: Record<string, string>;
}

/**
 * Creates a topic with `partitions` partitions (the stack does not auto-create topics) and
 * waits until every partition has a leader. Fails if the topic already exists.
 */
export async function createTopic(
  brokers: string[],
  topic: string,
  partitions = 4,
  options: CreateTopicOptions = {},
): Promise<void> {
  const spec: ITopicConfig = {
    topic,
    numPartitions: partitions,
    replicationFactor: options.replicationFactor ?? 1,
    configEntries: Object.entries(options.config ?? {}).map(([name, value]) => ({ name, value })),
  };
  await withAdmin(brokers, async (admin) => {
    const created = await admin.createTopics({ topics: [spec], waitForLeaders: false, timeout: 30000 });
    if (!created) throw new Error(`topic ${topic} already exists`);
    // kafkajs's own waitForLeaders asks one broker, which in a multi-broker KRaft cluster may
    // not have the new topic's metadata yet (UNKNOWN_TOPIC_OR_PARTITION is not retried there).
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        const ps = meta.topics[0]?.partitions ?? [];
        if (ps.length === partitions && ps.every((p) => p.leader >= 0)) return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic}: partitions have no leaders after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
}

/** Runs `deploy/local/stack ARGS…` and returns its stdout's KEY=value lines. */
export async function runStack(args: string[], timeoutMs = 300_000): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)('bash', [STACK_SCRIPT, ...args], {
    cwd: REPO_ROOT,
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  const env: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** The three-broker Kafka and the ClickHouse cluster of `deploy/local/stack cluster-up`. */
export interface ClusterServers {
  brokers: string[];
  /** A ClickHouse node's URL (…/leakscope); other nodes are in `nodes`. */
  clickhouseUrl: string;
  /** The cluster's name in the nodes' remote_servers. */
  clickhouseCluster: string;
  /** Every ClickHouse node's base URL (http://host:port/): s1r1, s1r2 (shard 1), s2r1 (shard 2). */
  nodes: string[];
}

const CLUSTER_FIX_IT = 'run: eval "$(bash deploy/local/stack cluster-up)" or `npm test`';

/**
 * The clusters, from KAFKA_CLUSTER_BROKERS / CLICKHOUSE_CLUSTER_URL / CLICKHOUSE_CLUSTER /
 * CLICKHOUSE_CLUSTER_NODES, which `npm test` (scripts/test.sh) sets after starting them.
 */
export function requireClusters(): ClusterServers {
  const list = (name: string, what: string) => {
    const values = requireEnvFix(name, what).split(',').map((v) => v.trim()).filter(Boolean);
    if (values.length === 0) throw new Error(`${name} is empty. To start the clusters, ${CLUSTER_FIX_IT}`);
    return values;
  };
  const clickhouseCluster = requireEnvFix('CLICKHOUSE_CLUSTER', 'ClickHouse cluster');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(clickhouseCluster)) throw new Error(`CLICKHOUSE_CLUSTER is "${clickhouseCluster}", not a cluster name. ${CLUSTER_FIX_IT}`);
  return {
    brokers: list('KAFKA_CLUSTER_BROKERS', 'three-broker Kafka'),
    clickhouseUrl: requireEnvFix('CLICKHOUSE_CLUSTER_URL', 'ClickHouse cluster'),
    clickhouseCluster,
    nodes: list('CLICKHOUSE_CLUSTER_NODES', 'ClickHouse cluster').map((u) => new URL('/', u).toString()),
  };
}

function requireEnvFix(name: string, what: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set: this test needs the real ${what}. To start it, ${CLUSTER_FIX_IT}`);
  return value;
}

/** The ClickHouse cluster as a store-test target: migrated with --cluster, dropped ON CLUSTER. */
export interface ClusterTarget extends ClickHouseTarget {
  cluster: string;
}

export function clusterTarget(): ClusterTarget {
  return {
    name: 'ClickHouse cluster (2 shards)',
    minMajor: 18,
    get base(): string { return requireClusters().clickhouseUrl; },
    get cluster(): string { return requireClusters().clickhouseCluster; },
    url: (db: string): string => new URL(`/${db}`, requireClusters().clickhouseUrl).toString(),
  };
}
