// `leakscope watch DIR...`: tail gateway log directories, judge, store in the embedded store,
// raise and deliver alerts — continuous monitoring on one machine with no servers (docs/watch.md).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LeakscopeError } from '../../core/errors.js';
import { readRegistryFile } from '../../files/index.js';
import { loadKeys } from '../../keys/index.js';
import { loadNotifyConfig } from '../../notify/index.js';
import { METRICS_PORT_FLAG, createLogger, startTelemetryServer } from '../../observability/index.js';
import { openDuckDbStore } from '../../store/duckdb/index.js';
import { createWatchTelemetry, runWatch } from '../../watch/index.js';
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LOG_FORMAT_FLAGS_USAGE, LOG_FORMAT_FLAG_OPTIONS, resolveLogFormat } from '../log-format-option.js';
import { DEFAULT_DB } from '../store-option.js';
import { DEFAULT_REGISTRY } from './scan.js';

const WATCH_FLAGS = {
  registry: { type: 'string' },
  db: { type: 'string' },
  notify: { type: 'string' },
  ...LOG_FORMAT_FLAG_OPTIONS,
  'poll-ms': { type: 'integer', minimum: 1 },
  'spread-sites': { type: 'integer', minimum: 1 },
  'spread-window-ms': { type: 'integer', minimum: 1 },
  'spread-quiet-ms': { type: 'integer', minimum: 1 },
  'metrics-port': METRICS_PORT_FLAG,
} as const;

export const watchCommand: Command = {
  name: 'watch',
  summary: 'tail log directories: judge, store and alert in real time, with no servers',
  usage: [
    'Usage: leakscope watch DIR... [--registry FILE] [--db PATH] [--notify notify.yaml] [options]',
    '',
    'Tails every plain log file of each DIR (new files, growth, rotation, truncation), judges each',
    'request as it arrives, stores the disclosures in the embedded store, raises the same alerts',
    'as the detector (same kinds, same ids) and delivers them through the routes of notify.yaml.',
    'Positions are kept next to the store (<db>.watch-*.json) and saved only after a batch is',
    'stored: a restart goes on where it stopped. Scanning the same logs later leaves the same store.',
    '',
    `  --registry FILE       the partner registry (default ./${DEFAULT_REGISTRY} when it exists)`,
    `  --db PATH             the DuckDB store, created when missing (default ./${DEFAULT_DB})`,
    '  --notify FILE         notify.yaml: where alerts are delivered (default: stored and logged only)',
    LOG_FORMAT_FLAGS_USAGE,
    '  --poll-ms N           how often the directories are looked at (default 250)',
    '  --spread-sites N      first-violation sites in one window that open an incident (default 20)',
    '  --spread-window-ms N  that window, in request time (default 600000)',
    '  --spread-quiet-ms N   an incident resolves after this much request time with no new site (default 3600000)',
    '  --metrics-port N      serve /metrics and /healthz on 127.0.0.1:N (default 0: off)',
    '',
    'Stops on SIGINT or SIGTERM after the batch in hand; undeliverable alerts go to <db>.alerts-dlq.ndjson.',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('watch', argv, WATCH_FLAGS);
    if (positionals.length === 0) throw new LeakscopeError('USAGE', 'watch: give at least one log directory. See: leakscope watch --help');
    const { format, profile } = await resolveLogFormat('watch', values, io.cwd);
    const dirs = positionals.map((p) => resolve(io.cwd, p));
    for (const d of dirs) if (!existsSync(d)) throw new LeakscopeError('INPUT_UNREADABLE', `watch: ${d} does not exist`);
    const pollIntervalMs = values['poll-ms'];
    const spreadSites = values['spread-sites'];
    const spreadWindowMs = values['spread-window-ms'];
    const spreadQuietMs = values['spread-quiet-ms'];
    const registryPath = values.registry !== undefined ? resolve(io.cwd, values.registry) : resolve(io.cwd, DEFAULT_REGISTRY);
    if (values.registry === undefined && !existsSync(registryPath)) {
      throw new LeakscopeError('USAGE', `watch needs the partner registry: pass --registry FILE (there is no ./${DEFAULT_REGISTRY})`);
    }
    const registry = await readRegistryFile(registryPath);
    const notify = values.notify === undefined ? null : await loadNotifyConfig(resolve(io.cwd, values.notify), io.env);
    const db = resolve(io.cwd, values.db ?? DEFAULT_DB);
    const loaded = await loadKeys({ env: io.env, keyFile: `${db}.keys.json`, createIfMissing: true });
    if (loaded.created) io.stderr.write(`leakscope watch: created the key file ${db}.keys.json (owner-only). Keep it with the store.\n`);
    for (const warning of loaded.warnings) io.stderr.write(`leakscope watch: warning: ${warning}\n`);
    const umask = process.umask(0o077); // the store, its WAL, checkpoints, rejects and dead letters hold subscribers' data
    const store = await openDuckDbStore(db);
    const telemetry = createWatchTelemetry();
    const metricsPort = values['metrics-port'];
    const server = metricsPort === 0 ? null : await startTelemetryServer(telemetry, () => telemetry.health(), { port: metricsPort }).catch(async (err: unknown) => {
      await store.close();
      throw err;
    });
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const totals = await runWatch({
        dirs, registry, keys: loaded.keys, store, dbPath: db, format, profile, notify,
        logger: createLogger({ level: io.env.LEAKSCOPE_LOG_LEVEL ?? 'info' }), signal: controller.signal,
        alerts: { ...(spreadSites ? { spreadSites } : {}), ...(spreadWindowMs ? { spreadWindowMs } : {}), ...(spreadQuietMs ? { spreadQuietMs } : {}) },
        ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}), telemetry,
      });
      io.stdout.write(`watch stopped: ${totals.lines} lines, ${totals.requests} requests, ${totals.disclosures} disclosures (${totals.violations} violations), ${totals.rejects} rejected, ${totals.alerts} alerts\n`);
      return 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.umask(umask);
      await server?.close();
      await store.close();
    }
  },
};
