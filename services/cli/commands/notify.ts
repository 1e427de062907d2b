// `leakscope notify`: delivers leak-alerts to the routes of notify.yaml (docs/notify.md).
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { STREAM_FLAGS_USAGE, STREAM_FLAG_OPTIONS, streamConnection } from '../../kafka/index.js';
import { Notifier, loadNotifyConfig } from '../../notify/index.js';
import { METRICS_PORT_FLAG, componentLogger, createLogger, startTelemetryServer } from '../../observability/index.js';

const NOTIFY_FLAGS = {
  ...STREAM_FLAG_OPTIONS,
  config: { type: 'string' },
  group: { type: 'string', nonEmpty: true },
  'metrics-port': METRICS_PORT_FLAG,
  check: { type: 'boolean' },
  // Kafka's group.min.session.timeout.ms is 6000 by default: a lower value is refused by the brokers.
  'session-timeout-ms': { type: 'integer', minimum: 3000 },
} as const;

export const notifyCommand: Command = {
  name: 'notify',
  summary: 'deliver leak-alerts to webhooks, Alertmanager and CloudEvents receivers (notify.yaml)',
  usage: [
    'Usage: leakscope notify --config notify.yaml [--brokers LIST] [--group ID] [--metrics-port N]',
    '',
    'Consumes leak-alerts in its own consumer group and delivers every alert to each route of',
    'the config (formats leakscope, alertmanager, cloudevents), grouped per route, retried with',
    'backoff; refused or undeliverable alerts go to leak-alerts-dlq with the reason. Offsets are',
    'committed only when every route delivered or dead-lettered. Secrets come from the environment',
    'variables the routes name (secret_env), never from the file.',
    '',
    STREAM_FLAGS_USAGE,
    '  --config FILE         notify.yaml (required); checked at start, every problem named',
    '  --group ID            consumer group (default leakscope-notify)',
    '  --metrics-port N      serve /metrics and /healthz on 127.0.0.1:N (default 0: off)',
    '  --session-timeout-ms N  consumer group session timeout (default 30000): how soon a dead instance\'s alerts move to another',
    '  --check               validate the config and exit',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('notify', argv, NOTIFY_FLAGS);
    if (positionals.length > 0) throw new LeakscopeError('USAGE', `notify takes no arguments, got ${positionals.join(' ')}`);
    if (values.config === undefined) throw new LeakscopeError('USAGE', 'notify needs --config notify.yaml. See: leakscope notify --help');
    const config = await loadNotifyConfig(values.config, io.env);
    if (values.check) {
      io.stdout.write(`${values.config}: ${config.routes.length} route${config.routes.length === 1 ? '' : 's'} (${config.routes.map((r) => `${r.name}: ${r.format}`).join(', ')})\n`);
      return 0;
    }
    const sessionTimeoutMs = values['session-timeout-ms'];
    const conn = streamConnection(values, io.env);
    const metricsPort = values['metrics-port'];
    const root = createLogger({ level: io.env.LEAKSCOPE_LOG_LEVEL ?? 'info' });
    const notifier = new Notifier({ brokers: conn.brokers, topics: conn.topics, config, logger: root,
      ...(values.group !== undefined ? { groupId: values.group } : {}), ...(sessionTimeoutMs !== undefined ? { sessionTimeoutMs } : {}) });
    const server = metricsPort === 0 ? null : await startTelemetryServer(notifier.metrics, () => notifier.health(), { port: metricsPort });
    const stop = (): void => void notifier.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await notifier.start();
      const end = await notifier.done();
      if (end.kind === 'failed') throw end.error;
      const t = notifier.totals;
      componentLogger(root, 'notify').info({ ...t }, 'notify stopped');
      io.stdout.write(`notify stopped: ${t.alerts} alerts committed, ${t.unreadable} unreadable\n`);
      return 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await notifier.stop();
      await server?.close();
    }
  },
};
