// watch over a directory the test writes into line by line, with a rotation and a restart:
// the store ends equal to a scan of the same lines, and the alerts delivered are those of
// the lines (one first_disclosure per violating site; repeats after the restart carry the same id).
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AvroLeakAlert } from '../../../services/avro/index.js';
import { alertId } from '../../../services/detector/index.js';
import { readProfileFile, readRegistryFile } from '../../../services/files/index.js';
import { notifyConfig, verifySignature } from '../../../services/notify/index.js';
import { silentLogger } from '../../../services/observability/index.js';
import { scanFiles } from '../../../services/scan/index.js';
import { openDuckDbStore, type DuckDbStore } from '../../../services/store/duckdb/index.js';
import { buildReport, buildWhoSaw } from '../../../services/store/answers.js';
import { subscriberHash } from '../../../services/core/privacy/index.js';
import { runWatch, watchCheckpointPath, watchDeadLetterPath, type WatchTotals } from '../../../services/watch/index.js';
import { startWebhook } from '../../integration/support/webhook.js';

const FIXTURE = join(import.meta.dirname, '../../fixtures/incident');
const KEYS = Object.freeze({ hashKey: Buffer.from('11'.repeat(32), 'hex'), encKey: Buffer.from('22'.repeat(32), 'hex') });
const SECRET = 'watch-test-secret-of-32-bytes!!!';
const WINDOW = { from: Date.parse('2012-01-01T00:00:00Z'), to: Date.parse('2012-02-01T00:00:00Z') };
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

async function until(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`watch test: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Lines watch's checkpoint of `logs` has passed, over all its files (0 before the first). */
function checkpointedLines(db: string, logs: string): number {
  try {
    const cp = JSON.parse(readFileSync(watchCheckpointPath(db, logs), 'utf8')) as { files: Record<string, { line: number }> };
    return Object.values(cp.files).reduce((n, f) => n + f.line, 0);
  } catch {
    return 0;
  }
}

async function answers(store: DuckDbStore): Promise<unknown> {
  const report = buildReport(WINDOW, await store.report(WINDOW));
  return { report, counts: await store.count() };
}

describe('leakscope watch', () => {
  it('ends with the store a scan of the same lines gives, across a rotation and a restart, and delivers their alerts', async () => {
    const root = mkdtempSync(join(tmpdir(), 'leakscope-watch-'));
    dirs.push(root);
    const logs = join(root, 'logs');
    const db = join(root, 'watch.duckdb');
    mkdirSync(logs);
    const lines = readFileSync(join(FIXTURE, 'logs/gw-lon-01.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
    const registry = await readRegistryFile(join(FIXTURE, 'registry.yaml'));
    const hook = await startWebhook();
    const notify = notifyConfig({ routes: [{ name: 'soc', url: hook.url, format: 'leakscope', secret_env: 'SOC', group_interval_ms: 100 }] }, { SOC: SECRET });
    const store = await openDuckDbStore(db);
    const start = (): { stop: () => Promise<WatchTotals> } => {
      const controller = new AbortController();
      const running = runWatch({ dirs: [logs], registry, keys: KEYS, store, dbPath: db, format: 'auto', notify, logger: silentLogger(), signal: controller.signal, pollIntervalMs: 20 });
      return { stop: async () => { controller.abort(); return running; } };
    };
    const checkpointed = (): number => checkpointedLines(db, logs);
    const write = async (from: number, to: number, file: string): Promise<void> => {
      for (let i = from; i < to; i++) {
        appendFileSync(join(logs, file), `${lines[i]}\n`);
        if (i % 97 === 0) await new Promise((r) => setTimeout(r, 5)); // let watch see the file grow mid-way
      }
    };

    const cut1 = 500;
    const cut2 = 800;
    let watch = start();
    await write(0, cut1, 'access.log');
    await until('the first part checkpointed', () => checkpointed() === cut1);
    renameSync(join(logs, 'access.log'), join(logs, 'access.log.1')); // rotation
    await write(cut1, cut2, 'access.log');
    await until('the rotated part checkpointed', () => checkpointed() === cut2);
    await watch.stop(); // restart
    watch = start();
    await write(cut2, lines.length, 'access.log');
    await until('every line checkpointed', () => checkpointed() === lines.length);
    const totals = await watch.stop();
    expect(totals.lines).toBe(lines.length - cut2);

    // The same lines, scanned in one go into another store.
    const all = join(root, 'all.ndjson');
    appendFileSync(all, `${lines.join('\n')}\n`);
    const scanned = await openDuckDbStore(join(root, 'scan.duckdb'));
    try {
      await scanFiles({ inputs: [all], format: 'auto', registry, keys: KEYS, store: scanned, rejectsPath: join(root, 'scan.rejects.ndjson'), workers: 0 });
      expect(await answers(store)).toEqual(await answers(scanned));
      expect((await store.report(WINDOW)).sites.length).toBeGreaterThan(0);
      const truth = readFileSync(join(FIXTURE, 'truth/disclosures.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; subscriber: string | null });
      const numbers = [...new Set(truth.filter((t) => t.file === 'logs/gw-lon-01.ndjson' && t.subscriber !== null).map((t) => t.subscriber!))].slice(0, 5);
      expect(numbers).toHaveLength(5);
      for (const n of numbers) {
        const hashed = subscriberHash(KEYS.hashKey, n);
        const mine = await store.whoSaw(hashed, { from: null, to: null });
        expect(mine.length).toBeGreaterThan(0);
        const open = { from: null, to: null };
        expect(buildWhoSaw(n, open, mine)).toEqual(buildWhoSaw(n, open, await scanned.whoSaw(hashed, open)));
      }
      // Alerts: one first_disclosure per violating site of these lines, signed; a repeat has the same id.
      const sites = (await scanned.report(WINDOW)).sites.map((s) => s.site).sort();
      const delivered = hook.received.filter((r) => r.status === 200).flatMap((r) => (JSON.parse(r.body) as { alerts: AvroLeakAlert[] }).alerts);
      const firsts = delivered.filter((a) => a.kind === 'first_disclosure');
      expect([...new Set(firsts.map((a) => a.site))].sort()).toEqual(sites);
      for (const a of firsts) expect(a.id).toBe(alertId('first_disclosure', a.site!));
      for (const r of hook.received) expect(verifySignature(SECRET, String(r.headers['x-leakscope-timestamp']), r.body, String(r.headers['x-leakscope-signature']))).toBe(true);
      expect(new Set((await store.recentAlerts({ limit: 10_000 })).map((a) => a.id))).toEqual(new Set(delivered.map((a) => a.id)));
    } finally {
      await scanned.close();
      await store.close();
      await hook.close();
    }
  }, 120_000);

  it('reads a writer\'s format through its log profile, as scan does', async () => {
    const root = mkdtempSync(join(tmpdir(), 'leakscope-watch-profile-'));
    dirs.push(root);
    const logs = join(root, 'logs');
    mkdirSync(logs);
    const formats = join(FIXTURE, '../formats');
    const profile = await readProfileFile(join(formats, 'squid-enriched.profile.yaml'));
    const lines = readFileSync(join(formats, 'squid-enriched-access.log'), 'utf8').split('\n').filter((l) => l !== '');
    const registry = await readRegistryFile(join(FIXTURE, 'registry.yaml'));
    const db = join(root, 'watch.duckdb');
    const store = await openDuckDbStore(db);
    const scanned = await openDuckDbStore(join(root, 'scan.duckdb'));
    try {
      const controller = new AbortController();
      const running = runWatch({ dirs: [logs], registry, keys: KEYS, store, dbPath: db, format: profile.syntax, profile, notify: null, logger: silentLogger(), signal: controller.signal, pollIntervalMs: 20 });
      appendFileSync(join(logs, 'access.log'), `${lines.join('\n')}\n`);
      await until('the file checkpointed', () => checkpointedLines(db, logs) === lines.length);
      controller.abort();
      await running;
      await scanFiles({
        inputs: [join(logs, 'access.log')], format: profile.syntax, profile, registry, keys: KEYS, store: scanned,
        rejectsPath: join(root, 'scan.rejects.ndjson'), workers: 0,
      });
      expect((await store.count()).disclosures).toBeGreaterThan(0);
      expect(await answers(store)).toEqual(await answers(scanned));
    } finally {
      await scanned.close();
      await store.close();
    }
  }, 120_000);
  it('puts the alerts a route refuses into the dead-letter file, owner-only and without a number; refuses a planted symlink there before reading a line', async () => {
    const root = mkdtempSync(join(tmpdir(), 'leakscope-watch-dlq-'));
    dirs.push(root);
    const logs = join(root, 'logs');
    mkdirSync(logs);
    const db = join(root, 'watch.duckdb');
    const lines = readFileSync(join(FIXTURE, 'logs/gw-lon-01.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
    const registry = await readRegistryFile(join(FIXTURE, 'registry.yaml'));
    const hook = await startWebhook();
    hook.script.push(...Array<number>(10_000).fill(400)); // the route refuses everything: no retry, dead-lettered
    const notify = notifyConfig({ routes: [{ name: 'soc', url: hook.url, format: 'leakscope', secret_env: 'SOC', group_interval_ms: 50 }] }, { SOC: SECRET });
    const dlq = watchDeadLetterPath(db);

    // A symlink planted where the file goes: refused when watch starts, and its target untouched.
    const target = join(root, 'elsewhere.txt');
    writeFileSync(target, 'not yours\n');
    symlinkSync(target, dlq);
    const store = await openDuckDbStore(db);
    try {
      const refused = await runWatch({ dirs: [logs], registry, keys: KEYS, store, dbPath: db, format: 'auto', notify, logger: silentLogger(), signal: new AbortController().signal, pollIntervalMs: 20 })
        .then(() => null, (e: unknown) => e as { code?: string; message: string });
      expect(refused?.code).toBe('FILE_UNSAFE');
      expect(refused?.message).toContain('dead-letter');
      expect(readFileSync(target, 'utf8')).toBe('not yours\n');
      rmSync(dlq);

      const controller = new AbortController();
      const running = runWatch({ dirs: [logs], registry, keys: KEYS, store, dbPath: db, format: 'auto', notify, logger: silentLogger(), signal: controller.signal, pollIntervalMs: 20 });
      appendFileSync(join(logs, 'access.log'), `${lines.join('\n')}\n`);
      await until('every line checkpointed', () => checkpointedLines(db, logs) === lines.length);
      controller.abort();
      await running;

      const raised = await store.recentAlerts({ limit: 10_000 });
      expect(raised.length).toBeGreaterThan(0);
      expect(statSync(dlq).mode & 0o777).toBe(0o600);
      const text = readFileSync(dlq, 'utf8');
      const dead = text.trim().split('\n').map((l) => JSON.parse(l) as { route: string; reason: string; attempts: number; alert: AvroLeakAlert });
      expect(dead.every((d) => d.route === 'soc' && d.reason.startsWith('refused: ') && d.attempts === 1)).toBe(true);
      // The route took none of the alerts watch raised: every one is in the file.
      expect(new Set(dead.map((d) => d.alert.id))).toEqual(new Set(raised.map((a) => a.id)));
      const truth = readFileSync(join(FIXTURE, 'truth/disclosures.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { subscriber: string | null });
      for (const n of new Set(truth.map((t) => t.subscriber).filter((x): x is string => x !== null))) expect(text).not.toContain(n);
    } finally {
      await store.close();
      await hook.close();
    }
  }, 120_000);
});
