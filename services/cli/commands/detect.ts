// `leakscope detect`: the detector service. Joins gateway-requests with the partner registry
// as of each request's time, writes disclosures to ClickHouse, commits after the write, and
// raises alerts on leak-alerts. `--once` exits when caught up (backfill and replay).
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { ENC_KEY_MISMATCH, encKeyDiffers, keyCheckOf, loadKeys } from '../../keys/index.js';
import { openClickHouseStore } from '../../store/clickhouse/index.js';
import { STREAM_FLAGS_USAGE, STREAM_FLAG_OPTIONS, checkBrokers, streamConnection } from '../../kafka/index.js';
import { Detector, type DetectorSettings } from '../../detector/index.js';
import { METRICS_PORT_FLAG, componentLogger, createLogger, createMetrics, startTelemetryServer } from '../../observability/index.js';
import { CLICKHOUSE_URL_ENV, redactUrl, requireClickHouseUrl } from '../store-option.js';

const DETECT_FLAGS = {
  ...STREAM_FLAG_OPTIONS,
  clickhouse: { type: 'string' },
  once: { type: 'boolean' },
  group: { type: 'string', nonEmpty: true },
  'key-file': { type: 'string', nonEmpty: true },
  concurrency: { type: 'integer', minimum: 1 },
  'spread-sites': { type: 'integer', minimum: 1 },
  'spread-window-ms': { type: 'integer', minimum: 1 },
  'spread-quiet-ms': { type: 'integer', minimum: 1 },
  'drain-timeout-ms': { type: 'integer', minimum: 1 },
  'fetch-min-bytes': { type: 'integer', minimum: 1 },
  'fetch-max-wait-ms': { type: 'integer', minimum: 1 },
  'metrics-port': METRICS_PORT_FLAG,
  json: { type: 'boolean' },
  check: { type: 'boolean' },
} as const;

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
    `  --clickhouse URL      ClickHouse, e.g. http://127.0.0.1:8123/leakscope or chdb:PATH (default $${CLICKHOUSE_URL_ENV}); run leakscope migrate first`,
    '  --once                exit when caught up with the end of gateway-requests and everything is written',
    '  --group ID            consumer group (default leakscope-detector)',
    '  --key-file FILE       privacy keys file (when LEAKSCOPE_HASH_KEY is not set)',
    '  --concurrency N       partitions processed at once (default 4)',
    '  --spread-sites N      first-violation sites in one window that raise a spread alert (default 20)',
    '  --spread-window-ms N  that window, in request time (default 600000)',
    '  --drain-timeout-ms N  on SIGTERM/SIGINT, stop within N ms whatever Kafka and ClickHouse do;',
    '                        what was not written is not committed (default 10000)',
    '  --spread-quiet-ms N   an incident resolves after this much request time with no new site (default 3600000)',
    '  --fetch-min-bytes N   bytes a fetch waits for, up to --fetch-max-wait-ms (default 1)',
    '  --fetch-max-wait-ms N longest a fetch waits for them, ms: the most it adds to an alert at low traffic (default 250)',
    '  --metrics-port N      serve /metrics and /healthz on 127.0.0.1:N (default 0: off)',
    '  --json                print the final summary as one JSON object',
    '  --check               check the flags, the keys, that ClickHouse answers with its schema migrated',
    '                        and these keys, and that the brokers answer; then exit (0: ok)',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('detect', argv, DETECT_FLAGS);
    if (positionals.length > 0) throw new LeakscopeError('USAGE', `detect takes no arguments, got ${positionals.join(' ')}`);
    const conn = streamConnection(values, io.env);
    const url = requireClickHouseUrl(values.clickhouse, io.env, 'detect');
    // Flags map onto the detector's own settings, which its schema checks again (detector/config.ts).
    const settings: Partial<DetectorSettings> = {
      once: values.once,
      groupId: values.group,
      partitionsConsumedConcurrently: values.concurrency,
      spreadSites: values['spread-sites'],
      spreadWindowMs: values['spread-window-ms'],
      spreadQuietMs: values['spread-quiet-ms'],
      drainTimeoutMs: values['drain-timeout-ms'],
      minBytes: values['fetch-min-bytes'],
      maxWaitTimeMs: values['fetch-max-wait-ms'],
    };
    const metricsPort = values['metrics-port'];
    const loaded = await loadKeys({ env: io.env, keyFile: values['key-file'] ?? null, createIfMissing: false });
    if (values.check) {
      for (const warning of loaded.warnings) io.stderr.write(`warning: ${warning}\n`);
      const checkStore = await openClickHouseStore(url);
      try {
        const meta = await checkStore.readMeta();
        if (meta.keyCheck !== null && meta.keyCheck !== keyCheckOf(loaded.keys)) {
          throw new LeakscopeError('KEY_INVALID',
            `${redactUrl(url)} holds disclosures written with another hash key; give the detector the same LEAKSCOPE_HASH_KEY (or --key-file) as every other writer of this store`);
        }
        if (encKeyDiffers(meta, loaded.keys)) throw new LeakscopeError('KEY_INVALID', ENC_KEY_MISMATCH);
      } finally {
        await checkStore.close();
      }
      const brokers = await checkBrokers(conn.brokers);
      io.stdout.write(`detect: configuration ok (ClickHouse ${redactUrl(url)} migrated, keys from ${loaded.source === 'env' ? 'the environment' : loaded.keyFile}, ` +
        `${brokers} broker${brokers === 1 ? '' : 's'} at ${conn.brokers.join(',')})\n`);
      return 0;
    }
    const root = createLogger({ level: io.env.LEAKSCOPE_LOG_LEVEL ?? 'info' });
    for (const warning of loaded.warnings) componentLogger(root, 'detector').warn({ warning }, 'key warning');
    const metrics = createMetrics();
    const store = await openClickHouseStore(url);
    componentLogger(root, 'sink.clickhouse').info({ url: redactUrl(url) }, 'store opened');
    const detector = new Detector({ brokers: conn.brokers, topics: conn.topics, store, keys: loaded.keys, logger: root, metrics, settings });
    const server = metricsPort === 0 ? null : await startTelemetryServer(metrics, () => detector.health(), { port: metricsPort });
    let signalled = false;
    const stop = (): void => {
      signalled = true;
      void detector.stop();
      // stop() returns within the drain time; should a client library still hold the event
      // loop after that, the process exits anyway (with the code run() returned, if it did).
      setTimeout(() => {
        io.stderr.write('leakscope detect: still running after the drain time; exiting\n');
        process.exit(process.exitCode ?? 1);
      }, detector.settings.drainTimeoutMs + EXIT_GRACE_MS).unref();
    };
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
      // A client that could not disconnect in time (its broker is down), or whose call was
      // abandoned, keeps retrying by itself and would hold the process: on a signal, exit as
      // soon as this command has returned.
      if (signalled && detector.leftBehind.length > 0) setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
    }
  },
};

/** After the drain time, how long the process may take to exit by itself before it is made to. */
const EXIT_GRACE_MS = 2000;
