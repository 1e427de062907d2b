// `leakscope watch DIR...`: real-time monitoring on one machine with no servers. Each
// directory is tailed as `ship --follow` tails it (services/shipper/follow.ts); every batch
// of new lines is judged and protected by the scan's batch step, raises the detector's alerts
// (the same AlertTracker: same kinds, same ids), delivers them through the notify routes, and
// is stored in the embedded store. The order is the detector's: alerts settle (delivered or
// dead-lettered) before the batch is stored, and the checkpoint moves only after the store
// write; a crash in between delivers the alerts again with the same ids (at least once).
// Scanning the same logs later leaves the same disclosures (ids are deterministic).
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { AvroLeakAlert } from '../avro/index.js';
import type { PrivacyKeys } from '../core/privacy/index.js';
import { safeJson } from '../core/visible-text.js';
import { buildSnapshot } from '../core/registry/index.js';
import type { LogFormat, Registry } from '../core/types.js';
import type { LogProfile } from '../core/parse/index.js';
import { AlertTracker, type AlertConfig } from '../detector/alerts.js';
import { RouteWorker, postWithFetch, type NotifyConfig, type Post } from '../notify/index.js';
import { componentLogger, redactNumbers, type Logger } from '../observability/index.js';
import { RejectsFile, checkAndRecordMeta, checkRegistryVersion, processBatch } from '../scan/index.js';
import { tailDirectory, type FollowTotals } from '../shipper/index.js';
import { checkExistingName, openForWriting } from '../files/safe-file.js';
import { Protector } from '../store/index.js';
import type { DisclosureStore, RegistryLedger } from '../store/types.js';
import { createWatchTelemetry, type WatchTelemetry } from './telemetry.js';

export interface WatchOptions {
  dirs: readonly string[];
  registry: Registry;
  keys: PrivacyKeys;
  /** Judged batches are written to it; its registry ledger catches a changed registry (services/store/types.ts). */
  store: DisclosureStore & RegistryLedger;
  /** Where the store lives: the checkpoints, rejects and alert dead letters are kept next to it. */
  dbPath: string;
  format: LogFormat | 'auto';
  /** How the writer's fields map onto leakscope's (README "Other writers: log profiles"); null for NDJSON and W3C. */
  profile?: LogProfile | null;
  /** Routes to deliver alerts to; null: alerts are only stored (and logged). */
  notify: Readonly<NotifyConfig> | null;
  logger: Logger;
  signal: AbortSignal;
  alerts?: Partial<AlertConfig>;
  /** How often each directory is looked at, ms; default 250. */
  pollIntervalMs?: number;
  post?: Post;
  /** Metrics and health, served by `watch --metrics-port` (telemetry.ts); default a private set. */
  telemetry?: WatchTelemetry;
  now?: () => number;
}

export interface WatchTotals extends FollowTotals {
  disclosures: number;
  violations: number;
  alerts: number;
}

/** The checkpoint of one watched directory: next to the store, named after the directory. */
export function watchCheckpointPath(dbPath: string, dir: string): string {
  return `${dbPath}.watch-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 12)}.json`;
}

export async function runWatch(options: WatchOptions): Promise<WatchTotals> {
  const { store, registry, keys, signal } = options;
  const log = componentLogger(options.logger, 'watch');
  const now = options.now ?? Date.now;
  await checkAndRecordMeta(store, registry, keys);
  await checkRegistryVersion(store, registry);
  const snapshot = buildSnapshot(registry);
  const protector = new Protector(keys);
  const tracker = new AlertTracker(options.alerts ?? {});
  tracker.seed(await store.alertedSites());
  tracker.seedAlerts(await store.recentAlerts({ limit: 1_000_000 }));
  const rejects = new RejectsFile(`${options.dbPath}.rejects.ndjson`);
  const dlqPath = watchDeadLetterPath(options.dbPath);
  // Refused now, before any line is read, rather than when the first alert is dead-lettered.
  if ((options.notify?.routes ?? []).length > 0) await checkExistingName(dlqPath, DEAD_LETTER_PURPOSE);
  const telemetry = options.telemetry ?? createWatchTelemetry({ processMetrics: false });
  const metrics = telemetry.notify;
  const live = telemetry.totals;
  const stream = telemetry.stream;
  const routes = (options.notify?.routes ?? []).map((route) => new RouteWorker(route, {
    post: options.post ?? postWithFetch,
    metrics,
    logger: componentLogger(options.logger, 'notify.route', { route: route.name }),
    // No Kafka here: dead letters go to a file next to the store, one JSON line per alert (owner-only).
    deadLetter: (alerts, name, reason, attempts) =>
      appendDeadLetters(dlqPath, alerts.map((alert) => safeJson({ route: name, reason, attempts, alert }))),
  }));
  telemetry.oldestPending = () => {
    let oldest: number | null = null;
    for (const r of routes) {
      const t = r.oldestPending();
      if (t !== null && (oldest === null || t < oldest)) oldest = t;
    }
    return oldest;
  };
  signal.addEventListener('abort', () => { telemetry.running = false; for (const r of routes) r.stop(); }, { once: true });
  const totals: WatchTotals = { requests: 0, rejects: 0, lines: 0, disclosures: 0, violations: 0, alerts: 0 };

  // The directories share the store and the alert state: their batches take turns.
  let turn: Promise<unknown> = Promise.resolve();
  const deliver = (batch: Parameters<Parameters<typeof tailDirectory>[0]['deliver']>[0]): Promise<void> => {
    const readAt = process.hrtime.bigint();
    const mine = turn.then(async () => {
      const judged = processBatch(batch, snapshot, protector, false);
      const stored = judged.stored ?? [];
      const pending = tracker.consider(stored, now());
      try {
        await settle(routes, pending.alerts);
        await rejects.append(judged.rejects);
        const t0 = process.hrtime.bigint();
        try {
          await store.write(stored);
          await store.writeAlerts(pending.alerts);
        } catch (err) {
          stream.insertSeconds.observe({ outcome: 'failed' }, Number(process.hrtime.bigint() - t0) / 1e9);
          throw err;
        }
        stream.insertSeconds.observe({ outcome: 'ok' }, Number(process.hrtime.bigint() - t0) / 1e9);
      } catch (err) {
        pending.abandon();
        throw err;
      }
      pending.commit();
      for (const a of pending.alerts) log.warn({ kind: a.kind, status: a.status, site: a.site, verdict: a.verdict, count: a.count, alert_id: a.id }, 'alert raised');
      for (const r of judged.rejects) log.warn({ source: r.source, line: r.line, reason: redactNumbers(r.reason) }, 'record rejected');
      totals.disclosures += judged.disclosures;
      totals.violations += judged.violations;
      totals.alerts += pending.alerts.length;
      live.lines += judged.lines;
      live.requests += judged.requests;
      live.disclosures += judged.disclosures;
      live.violations += judged.violations;
      live.rejects += judged.rejects.length;
      live.alerts += pending.alerts.length;
      live.batches++;
      stream.recordsIn.inc({ source: 'files' }, judged.requests);
      stream.batchSize.observe({ source: 'files' }, judged.requests);
      if (judged.rejects.length > 0) stream.rejects.inc({ source: 'files' }, judged.rejects.length);
      for (const d of stored) stream.disclosures.inc({ verdict: d.verdict });
      for (const a of pending.alerts) stream.alerts.inc({ kind: a.kind });
      telemetry.batchSeconds.observe(Number(process.hrtime.bigint() - readAt) / 1e9);
      telemetry.lastBatchTime.set(Date.now() / 1000);
    });
    turn = mine.catch(() => undefined);
    return mine;
  };

  log.info({ dirs: options.dirs, db: options.dbPath, routes: routes.map((r) => r.route.name), known_sites: tracker.knownSites }, 'watch started');
  telemetry.running = !signal.aborted;
  const followed = await Promise.all(options.dirs.map((dir) => tailDirectory({
    dir, checkpointFile: watchCheckpointPath(options.dbPath, dir), format: options.format, profile: options.profile ?? null, logger: log, deliver, signal,
    pollIntervalMs: options.pollIntervalMs ?? 250,
  }).catch((err: unknown): FollowTotals => {
    // Stopped mid-batch: that batch is neither stored nor checkpointed; a restart reads it again.
    if (signal.aborted) return { requests: 0, rejects: 0, lines: 0 };
    throw err;
  })));
  for (const f of followed) {
    totals.requests += f.requests;
    totals.rejects += f.rejects;
    totals.lines += f.lines;
  }
  telemetry.running = false;
  log.info({ ...totals }, 'watch stopped');
  return totals;
}

const DEAD_LETTER_PURPOSE = 'the alerts dead-letter file';

/** Where watch puts the alerts a route gave up on: next to the store, one JSON line each. */
export function watchDeadLetterPath(dbPath: string): string {
  return `${dbPath}.alerts-dlq.ndjson`;
}

/**
 * Appends dead-lettered alerts through the safe open (never through a symlink, never another
 * user's file, owner-only: README "File safety") and syncs them before the batch counts as
 * settled, so an alert is on a route, in the file, or read again after a restart.
 */
async function appendDeadLetters(path: string, lines: readonly string[]): Promise<void> {
  const handle = await openForWriting(path, { mode: 'append', purpose: DEAD_LETTER_PURPOSE });
  try {
    await handle.appendFile(`${lines.join('\n')}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Every alert delivered or dead-lettered on every route that takes its kind. */
async function settle(routes: readonly RouteWorker[], alerts: readonly AvroLeakAlert[]): Promise<void> {
  const waits: Array<Promise<void>> = [];
  for (const a of alerts) for (const r of routes) if (r.accepts(a)) waits.push(r.submit(a));
  await Promise.all(waits);
}
