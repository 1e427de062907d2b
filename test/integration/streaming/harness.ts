// Shared set-up of the streaming integration tests: a unique topic prefix and ClickHouse
// database per test file, the CLI run in-process with captured output, and the incident
// fixture's ground truth.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../../services/cli/main.js';
import { migrateClickHouse } from '../../../services/store/clickhouse/index.js';
import { REPO_ROOT, clickhouseQuery, clickhouseTargets, requireKafka, uniqueName, type ClickHouseTarget } from '../support/servers.js';

export const INCIDENT = join(REPO_ROOT, 'test/fixtures/incident');
export const HASH_KEY = '11'.repeat(32);
export const ENC_KEY = '22'.repeat(32);

export interface StreamEnv {
  brokers: string[];
  clickhouseBase: string;
  database: string;
  clickhouseUrl: string;
  prefix: string;
  env: Record<string, string>;
}

/**
 * Fails with the fix-it message when the stack is not up (never skips). The store is the
 * stack's ClickHouse server unless `target` names another (chdb in-process, or the server of a
 * stack the test started and may restart, with that stack's `servers.brokers`).
 */
export async function streamEnv(name: string, target: ClickHouseTarget = clickhouseTargets()[0]!, servers?: { brokers: string[] }): Promise<StreamEnv> {
  const brokers = servers?.brokers ?? requireKafka();
  const clickhouseBase = target.base;
  const database = uniqueName(`lk_${name}`);
  const clickhouseUrl = target.url(database);
  await migrateClickHouse(clickhouseUrl);
  const prefix = `${uniqueName(name)}.`;
  return {
    brokers, clickhouseBase, database, clickhouseUrl, prefix,
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: brokers.join(','),
      CLICKHOUSE_URL: clickhouseUrl,
      LEAKSCOPE_TOPIC_PREFIX: prefix,
      LEAKSCOPE_HASH_KEY: HASH_KEY,
      LEAKSCOPE_ENC_KEY: ENC_KEY,
      LEAKSCOPE_LOG_LEVEL: process.env.LEAKSCOPE_TEST_LOG_LEVEL ?? 'silent',
    },
  };
}

export async function dropDatabase(s: StreamEnv): Promise<void> {
  await clickhouseQuery(s.clickhouseBase, `DROP DATABASE IF EXISTS ${s.database}`).catch(() => undefined);
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { chunks.push(Buffer.from(chunk)); cb(); } });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Runs `leakscope ARGV…` in this process with the test's environment. */
export async function cli(s: StreamEnv, argv: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> {
  const out = collector();
  const err = collector();
  const stdin = new PassThrough();
  stdin.end();
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, stdin, env: { ...s.env, ...extraEnv }, cwd: REPO_ROOT });
  return { code, stdout: out.text(), stderr: err.text() };
}

export async function cliOk(s: StreamEnv, argv: string[]): Promise<string> {
  const r = await cli(s, argv);
  if (r.code !== 0) throw new Error(`leakscope ${argv.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function truthWhoSawNumbers(): string[] {
  return readdirSync(join(INCIDENT, 'truth/who-saw')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** report (month window) and every who-saw of the fixture, from ClickHouse, as parsed JSON. */
export async function answers(s: StreamEnv): Promise<{ report: unknown; whoSaw: Record<string, unknown> }> {
  const truth = readJson<{ window: { from: string; to: string } }>(join(INCIDENT, 'truth/report.json'));
  const report = JSON.parse(await cliOk(s, ['report', '--from', truth.window.from, '--to', truth.window.to, '--format', 'json', '--clickhouse', s.clickhouseUrl]));
  const whoSaw: Record<string, unknown> = {};
  for (const n of truthWhoSawNumbers()) whoSaw[n] = JSON.parse(await cliOk(s, ['who-saw', n, '--reason', 'truth check', '--format', 'json', '--clickhouse', s.clickhouseUrl]));
  return { report, whoSaw };
}

export function truthAnswers(): { report: unknown; whoSaw: Record<string, unknown> } {
  const whoSaw: Record<string, unknown> = {};
  for (const n of truthWhoSawNumbers()) whoSaw[n] = readJson(join(INCIDENT, `truth/who-saw/${n}.json`));
  return { report: readJson(join(INCIDENT, 'truth/report.json')), whoSaw };
}

// ---- In-process detectors ---------------------------------------------------------------

import { Detector, type DetectorOptions } from '../../../services/detector/index.js';
import { createLogger, createMetrics, silentLogger, type StreamMetrics } from '../../../services/observability/index.js';
import { openClickHouseStore } from '../../../services/store/clickhouse/index.js';
import { topicNames } from '../../../services/kafka/index.js';
import type { DisclosureStore } from '../../../services/store/index.js';
import type { PrivacyKeys } from '../../../services/core/privacy/index.js';

export const KEYS: PrivacyKeys = Object.freeze({ hashKey: Buffer.from(HASH_KEY, 'hex'), encKey: Buffer.from(ENC_KEY, 'hex') });

/** Group timings short enough for tests: joins and rebalances in a second or two. */
export const FAST_GROUP = Object.freeze({ sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, heartbeatIntervalMs: 500, caughtUpCheckMs: 200 });

export interface RunningDetector {
  detector: Detector;
  store: DisclosureStore;
  metrics: StreamMetrics;
}

export async function startDetector(
  s: StreamEnv,
  options: Partial<Omit<DetectorOptions, 'brokers' | 'topics' | 'store' | 'keys' | 'logger' | 'metrics'>> = {},
  wrapStore: (store: DisclosureStore) => DisclosureStore = (store) => store,
): Promise<RunningDetector> {
  const store = wrapStore(await openClickHouseStore(s.clickhouseUrl));
  const metrics = createMetrics({ processMetrics: false });
  const level = process.env.LEAKSCOPE_TEST_LOG_LEVEL;
  const detector = new Detector({
    brokers: s.brokers,
    topics: topicNames(s.prefix),
    store,
    keys: KEYS,
    logger: level ? createLogger({ level }) : silentLogger(),
    metrics,
    ...options,
    settings: { ...FAST_GROUP, ...(options.settings ?? {}) },
  });
  await detector.start();
  return { detector, store, metrics };
}

export async function stopDetector(d: RunningDetector): Promise<void> {
  await d.detector.stop();
  await d.store.close();
}

/** Polls `probe` until it returns true, or fails after `timeoutMs` with `what` (a function: read at the failure, to say what was seen). */
export async function waitFor(what: string | (() => string), probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
