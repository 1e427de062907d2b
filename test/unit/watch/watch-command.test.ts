// `leakscope watch --metrics-port N` as operators run it: the built CLI in a process of its own.
// While it tails a directory, /healthz answers 200 with its counts and /metrics holds the same
// counts in an exposition promtool accepts, with no subscriber number in either; SIGTERM stops
// it with exit 0 and a summary that agrees with what was scraped.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AvroLeakAlert } from '../../../services/avro/index.js';
import { startWebhook } from '../../integration/support/webhook.js';
import { PROMTOOL, promtoolCheck, sample } from './exposition.js';

const REPO = join(import.meta.dirname, '../../..');
const FIXTURE = join(REPO, 'test/fixtures/incident');
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('leakscope watch --metrics-port, spawned', () => {
  it('serves /healthz and /metrics (accepted by promtool, no numbers in them) that agree with its summary on SIGTERM', async () => {
    if (!existsSync(join(REPO, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: run deploy/local/tools ensure (installs Debian's prometheus package)`);
    const root = mkdtempSync(join(tmpdir(), 'leakscope-watch-command-'));
    dirs.push(root);
    const logs = join(root, 'logs');
    mkdirSync(logs);
    const lines = readFileSync(join(FIXTURE, 'logs/gw-lon-01.ndjson'), 'utf8').split('\n').filter((l) => l !== '').slice(0, 300);
    const numbers = new Set(lines.map((l) => (JSON.parse(l) as { msisdn: string }).msisdn));
    const hook = await startWebhook();
    const notifyFile = join(root, 'notify.yaml');
    writeFileSync(notifyFile, `routes:\n  - name: soc\n    url: ${hook.url}\n    format: leakscope\n    secret_env: SOC_SECRET\n    group_interval_ms: 50\n`);
    const port = await freePort();
    const child = spawn(process.execPath, [join(REPO, 'bin/leakscope.js'), 'watch', logs, '--registry', join(FIXTURE, 'registry.yaml'), '--db', join(root, 'watch.duckdb'),
      '--notify', notifyFile, '--format', 'ndjson', '--poll-ms', '20', '--metrics-port', String(port)], {
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', SOC_SECRET: 'watch-command-test-secret-32-by', LEAKSCOPE_LOG_LEVEL: 'info' },
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    const get = async (path: string): Promise<{ status: number; text: string } | null> => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        return { status: res.status, text: await res.text() };
      } catch {
        return null; // not listening yet
      }
    };
    try {
      // Healthy only once the directory is tailed: wait for it before writing.
      const started = Date.now() + 60_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`watch exited ${child.exitCode}: ${stderr}`);
        const h = await get('/healthz');
        if (h?.status === 200) break;
        if (Date.now() > started) throw new Error(`watch's /healthz was not 200 within 60 s (last: ${h?.status ?? 'no answer'}): ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      appendFileSync(join(logs, 'access.log'), `${lines.join('\n')}\n`);

      let health: Record<string, number> = {};
      const read = Date.now() + 60_000;
      for (;;) {
        const h = await get('/healthz');
        health = h === null ? {} : JSON.parse(h.text) as Record<string, number>;
        const settled = await get('/metrics');
        if (health.lines === lines.length && settled !== null && sample(settled.text, 'leakscope_notify_oldest_undelivered_seconds') === 0
          && hook.received.length > 0) break;
        if (Date.now() > read) throw new Error(`watch did not read the ${lines.length} lines within 60 s: ${JSON.stringify(health)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(health).toMatchObject({ status: 'ok', lines: lines.length });
      expect(health.violations).toBeGreaterThan(0);
      expect(health.alerts).toBeGreaterThan(0);

      const metrics = (await get('/metrics'))!;
      expect(metrics.status).toBe(200);
      expect(sample(metrics.text, 'leakscope_records_in_total', 'source="files"')).toBe(health.requests);
      const verdicts = ['authorized', 'identifier_not_allowed', 'partner_inactive', 'unauthorized_recipient']
        .map((v) => sample(metrics.text, 'leakscope_disclosures_total', `verdict="${v}"`) ?? 0);
      expect(verdicts.reduce((a, b) => a + b, 0)).toBe(health.disclosures);
      const delivered = hook.received.filter((r) => r.status === 200).flatMap((r) => (JSON.parse(r.body) as { alerts: AvroLeakAlert[] }).alerts);
      expect(delivered.length).toBe(health.alerts);
      expect(sample(metrics.text, 'leakscope_notify_deliveries_total', 'route="soc",outcome="delivered"')).toBe(delivered.length);
      expect(sample(metrics.text, 'leakscope_watch_batch_seconds_count')).toBe(health.batches);
      expect(metrics.text).toMatch(/^leakscope_process_cpu_seconds_total /m);

      const checked = await promtoolCheck(metrics.text, root);
      expect(checked).toEqual({ code: 0, out: '' });

      // Nothing a scraper or a log collector sees holds a subscriber's number.
      const leaked = [...numbers].filter((n) => metrics.text.includes(n) || stderr.includes(n) || (JSON.stringify(health)).includes(n));
      expect(leaked).toEqual([]);

      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect({ code, stderr: stderr.split('\n').filter((l) => l.includes('"level":"error"')) }).toEqual({ code: 0, stderr: [] });
      expect(stdout).toContain(`watch stopped: ${lines.length} lines, ${health.requests} requests, ${health.disclosures} disclosures (${health.violations} violations), ${health.rejects} rejected, ${health.alerts} alerts`);
      expect(await get('/healthz')).toBeNull(); // the server went with the process
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await hook.close();
    }
  }, 120_000);
});
