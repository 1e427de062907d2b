// watch's /metrics and /healthz (what `watch --metrics-port N` serves): the counts agree with
// what watch did and with what the webhook received, and promtool accepts the exposition.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AvroLeakAlert } from '../../../services/avro/index.js';
import { readRegistryFile } from '../../../services/files/index.js';
import { notifyConfig } from '../../../services/notify/index.js';
import { silentLogger, startTelemetryServer } from '../../../services/observability/index.js';
import { openDuckDbStore } from '../../../services/store/duckdb/index.js';
import { createWatchTelemetry, runWatch } from '../../../services/watch/index.js';
import { startWebhook } from '../../integration/support/webhook.js';
import { PROMTOOL, promtoolCheck, sample } from './exposition.js';

const FIXTURE = join(import.meta.dirname, '../../fixtures/incident');
const KEYS = Object.freeze({ hashKey: Buffer.from('11'.repeat(32), 'hex'), encKey: Buffer.from('22'.repeat(32), 'hex') });
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('watch telemetry', () => {
  it('counts lines, disclosures, alerts and deliveries as watch made them, in an exposition promtool accepts, and is healthy only while watching', async () => {
    if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: run deploy/local/tools ensure (installs Debian's prometheus package)`);
    const root = mkdtempSync(join(tmpdir(), 'leakscope-watch-telemetry-'));
    dirs.push(root);
    const logs = join(root, 'logs');
    mkdirSync(logs);
    const db = join(root, 'watch.duckdb');
    const lines = readFileSync(join(FIXTURE, 'logs/gw-lon-01.ndjson'), 'utf8').split('\n').filter((l) => l !== '').slice(0, 400);
    const hook = await startWebhook();
    const notify = notifyConfig({ routes: [{ name: 'soc', url: hook.url, format: 'leakscope', secret_env: 'SOC', group_interval_ms: 50 }] }, { SOC: 'telemetry-test-secret-32-bytes!!' });
    const store = await openDuckDbStore(db);
    const telemetry = createWatchTelemetry();
    const server = await startTelemetryServer(telemetry, () => telemetry.health(), { port: 0 });
    const get = async (path: string): Promise<{ status: number; text: string }> => {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
      return { status: res.status, text: await res.text() };
    };
    const controller = new AbortController();
    try {
      const running = runWatch({ dirs: [logs], registry: await readRegistryFile(join(FIXTURE, 'registry.yaml')), keys: KEYS, store, dbPath: db, format: 'auto', notify, logger: silentLogger(), signal: controller.signal, pollIntervalMs: 20, telemetry });
      appendFileSync(join(logs, 'access.log'), `${lines.join('\n')}\n`);
      const end = Date.now() + 60_000;
      while (telemetry.totals.lines < lines.length && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      const health = await get('/healthz');
      expect(health.status).toBe(200);
      expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', lines: lines.length });

      const metrics = await get('/metrics');
      expect(metrics.status).toBe(200);
      const { totals } = telemetry;
      expect(totals.requests).toBeGreaterThan(0);
      expect(totals.violations).toBeGreaterThan(0);
      expect(sample(metrics.text, 'leakscope_records_in_total', 'source="files"')).toBe(totals.requests);
      const verdicts = ['authorized', 'identifier_not_allowed', 'partner_inactive', 'unauthorized_recipient'].map((v) => sample(metrics.text, 'leakscope_disclosures_total', `verdict="${v}"`) ?? 0);
      expect(verdicts.reduce((a, b) => a + b, 0)).toBe(totals.disclosures);
      expect(verdicts[0]).toBe(totals.disclosures - totals.violations);
      const delivered = hook.received.filter((r) => r.status === 200).flatMap((r) => (JSON.parse(r.body) as { alerts: AvroLeakAlert[] }).alerts);
      expect(delivered.length).toBe(totals.alerts);
      expect(sample(metrics.text, 'leakscope_alerts_total', 'kind="first_disclosure"')).toBe(delivered.filter((a) => a.kind === 'first_disclosure').length);
      expect(sample(metrics.text, 'leakscope_notify_deliveries_total', 'route="soc",outcome="delivered"')).toBe(delivered.length);
      expect(sample(metrics.text, 'leakscope_watch_batch_seconds_count')).toBe(totals.batches);
      expect(sample(metrics.text, 'leakscope_watch_last_batch_timestamp_seconds')).toBeGreaterThan(0);
      expect(sample(metrics.text, 'leakscope_notify_oldest_undelivered_seconds')).toBe(0);
      expect(metrics.text).toMatch(/^leakscope_process_cpu_seconds_total /m);

      const checked = await promtoolCheck(metrics.text, root);
      expect(checked).toEqual({ code: 0, out: '' });

      controller.abort();
      await running;
      expect((await get('/healthz')).status).toBe(503);
    } finally {
      controller.abort();
      await server.close();
      await store.close();
      await hook.close();
    }
  }, 120_000);
});
