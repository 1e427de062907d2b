// `leakscope detect`: the detector service. Joins gateway-requests with the partner registry
// as of each request's time, writes disclosures to ClickHouse, commits after the write, and
// raises alerts on leak-alerts. `--once` exits when caught up (backfill and replay).
import type { Command } from '../command.js';
import { parseFlags } from '../command.js';
import { LeakscopeError } from '../../core/errors.js';
import { loadKeys } from '../../keys/index.js';
import { openClickHouseStore } from '../../store/clickhouse/index.js';
import { STREAM_FLAGS_USAGE, STREAM_FLAG_OPTIONS, streamConnection } from '../../kafka/index.js';
import { Detector, type DetectorSettings } from '../../detector/index.js';
import { componentLogger, createLogger, createMetrics, parseMetricsPort, startTelemetryServer } from '../../observability/index.js';
import { CLICKHOUSE_URL_ENV, redactUrl } from '../store-option.js';

export const detectCommand: Command = {
  name: 'detect',
  summary: 'the detector service: Kafka gateway-requests → verdicts → ClickHouse, alerts to leak-alerts',
  usage: [
    'Usage: leakscope detect [--brokers LIST] [--clickhouse URL] [--once] [--group ID] [options]',
    '',
    'Reads the partner registry topic from its beginning (and follows it), then consumes',
    'gateway-requests in a consumer group; offsets are committed only after the disclosures',
    'are in ClickHouse. Keys: LEAKSCOPE_HASH_KEY / LEAKSCOPE_ENC_KEY, or --key-file.',
    '',
    STREAM_FLAGS_USAGE,
    `  --clickhouse URL      ClickHouse, e.g. http://127.0.0.1:8123/leakscope (default $${CLICKHOUSE_URL_ENV}); run leakscope migrate first`,
    '  --once                exit when caught up with the end of gateway-requests and everything is written',
    '  --group ID            consumer group (default leakscope-detector)',
    '  --key-file FILE       privacy keys file (when LEAKSCOPE_HASH_KEY is not set)',
    '  --concurrency N       partitions processed at once (default 4)',
    '  --spread-sites N      first-violation sites in one window that raise a spread alert (default 20)',
    '  --spread-window-ms N  that window, in request time (default 600000)',
    '  --spread-quiet-ms N   an incident resolves after this much request time with no new site (default 3600000)',
    '  --metrics-port N      serve /metrics and /healthz on 127.0.0.1:N (default 0: off)',
    '  --json                print the final summary as one JSON object',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseFlags('detect', argv, {
      ...STREAM_FLAG_OPTIONS,
      clickhouse: { type: 'string' },
      once: { type: 'boolean' },
      group: { type: 'string' },
      'key-file': { type: 'string' },
      concurrency: { type: 'string' },
      'spread-sites': { type: 'string' },
      'spread-window-ms': { type: 'string' },
      'spread-quiet-ms': { type: 'string' },
      'metrics-port': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new LeakscopeError('USAGE', `detect takes no arguments, got ${positionals.join(' ')}`);
    const conn = streamConnection(values, io.env);
    const url = values.clickhouse ?? io.env[CLICKHOUSE_URL_ENV];
    if (url === undefined || url.trim() === '') throw new LeakscopeError('USAGE', `detect needs --clickhouse URL (or ${CLICKHOUSE_URL_ENV})`);
    const settings: Partial<DetectorSettings> = {
      once: values.once === true,
      ...(values.group !== undefined ? { groupId: values.group } : {}),
      ...intFlag(values.concurrency, '--concurrency', 'partitionsConsumedConcurrently'),
      ...intFlag(values['spread-sites'], '--spread-sites', 'spreadSites'),
      ...intFlag(values['spread-window-ms'], '--spread-window-ms', 'spreadWindowMs'),
      ...intFlag(values['spread-quiet-ms'], '--spread-quiet-ms', 'spreadQuietMs'),
    };
    const metricsPort = parseMetricsPort(values['metrics-port']);
    const loaded = await loadKeys({ env: io.env, keyFile: values['key-file'] ?? null, createIfMissing: false });
    const root = createLogger({ level: io.env.LEAKSCOPE_LOG_LEVEL ?? 'info' });
    for (const warning of loaded.warnings) componentLogger(root, 'detector').warn({ warning }, 'key warning');
    const metrics = createMetrics();
    const store = await openClickHouseStore(url.trim());
    componentLogger(root, 'sink.clickhouse').info({ url: redactUrl(url.trim()) }, 'store opened');
    const detector = new Detector({ brokers: conn.brokers, topics: conn.topics, store, keys: loaded.keys, logger: root, metrics, settings });
    const server = metricsPort === 0 ? null : await startTelemetryServer(metrics, () => detector.health(), { port: metricsPort });
    const stop = (): void => void detector.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await detector.start();
      const end = await detector.done();
      if (end.kind === 'failed') throw end.error;
      const t = detector.totals;
      io.stdout.write(values.json ? `${JSON.stringify(t)}\n`
        : `detector stopped: ${t.records} requests, ${t.disclosures} disclosures (${t.violations} violations), ${t.poison} rejected, ${t.alerts} alerts\n`);
      return 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await detector.stop();
      await server?.close();
      await store.close();
    }
  },
};

function intFlag<K extends keyof DetectorSettings>(value: string | undefined, flag: string, key: K): Partial<DetectorSettings> {
  if (value === undefined) return {};
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new LeakscopeError('USAGE', `${flag} ${JSON.stringify(value)}: expected a positive integer`);
  return { [key]: n } as Partial<DetectorSettings>;
}
