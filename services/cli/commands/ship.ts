// `leakscope ship`: gateway logs to the gateway-requests topic (Avro), rejects to the
// dead-letter topic. Without --follow it exits once every record is acknowledged; with
// --follow it tails a directory and checkpoints its position after each acknowledged batch.
import { access, constants, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { AvroCodec } from '../../avro/index.js';
import { STREAM_FLAGS_USAGE, STREAM_FLAG_OPTIONS, checkBrokers, createKafkaClient, prepareTopics, streamConnection } from '../../kafka/index.js';
import { StreamProducer } from '../../kafka/index.js';
import { ReadThread, followDirectory, shipInputs } from '../../shipper/index.js';
import { METRICS_PORT_FLAG, componentLogger, createLogger, createMetrics, startTelemetryServer } from '../../observability/index.js';
import { LOG_FORMAT_FLAGS_USAGE, LOG_FORMAT_FLAG_OPTIONS, resolveLogFormat } from '../log-format-option.js';

export const DEFAULT_CHECKPOINT_NAME = '.leakscope-ship.checkpoint.json';

const SHIP_FLAGS = {
  ...STREAM_FLAG_OPTIONS,
  follow: { type: 'boolean' },
  ...LOG_FORMAT_FLAG_OPTIONS,
  checkpoint: { type: 'string', nonEmpty: true },
  'poll-ms': { type: 'integer', minimum: 1, default: 500 },
  'batch-lines': { type: 'integer', minimum: 1, default: 8192 },
  'metrics-port': METRICS_PORT_FLAG,
  json: { type: 'boolean' },
  check: { type: 'boolean' },
} as const;

export const ship: Command = {
  name: 'ship',
  summary: 'send gateway logs to Kafka (gateway-requests), rejects to the dead-letter topic',
  usage: [
    'Usage: leakscope ship [--follow] [--format F | --profile FILE] [--brokers LIST] FILE...|DIR|-',
    '',
    'Reads the logs (plain or gzip, or stdin), produces each request as Avro to gateway-requests',
    '(keyed by MSISDN, or gateway id) and each unreadable line to gateway-requests-dlq with its reason.',
    'Without --follow: exits when every record is acknowledged by Kafka, and prints a summary.',
    '',
    STREAM_FLAGS_USAGE,
    LOG_FORMAT_FLAGS_USAGE,
    '  --follow              tail DIR: new files, growing files, rotation, truncation; until SIGINT/SIGTERM',
    `  --checkpoint FILE     --follow position file (default DIR/${DEFAULT_CHECKPOINT_NAME}), saved after each acknowledged batch`,
    '  --poll-ms N           --follow: how often DIR is looked at (default 500)',
    '  --batch-lines N       lines per produced batch (default 8192)',
    '  --metrics-port N      serve /metrics and /healthz on 127.0.0.1:N (default 0: off)',
    '  --json                print the summary as one JSON object',
    '  --check               check the flags, the format or profile, that each input (or the --follow DIR)',
    '                        is readable and that the brokers answer; then exit (0: ok) without producing',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('ship', argv, SHIP_FLAGS);
    const { format, profile } = await resolveLogFormat('ship', values, io.cwd);
    if (positionals.length === 0) throw new LeakscopeError('USAGE', 'ship needs FILE..., a DIR, or - for stdin');
    if (values.follow && positionals.length !== 1) throw new LeakscopeError('USAGE', 'ship --follow takes exactly one DIR');
    const batchLines = values['batch-lines'];
    const pollMs = values['poll-ms'];
    const metricsPort = values['metrics-port'];
    const conn = streamConnection(values, io.env);
    if (values.check) {
      for (const input of positionals) await checkInput(input === '-' ? null : resolve(io.cwd, input), values.follow);
      const brokers = await checkBrokers(conn.brokers);
      io.stdout.write(`ship: configuration ok (${profile === null ? `format ${format}` : `profile ${profile.name ?? profile.syntax}`}, ` +
        `${values.follow ? `following ${positionals[0]!}` : `${positionals.length} input(s)`}, ${brokers} broker${brokers === 1 ? '' : 's'} at ${conn.brokers.join(',')})\n`);
      return 0;
    }

    const root = createLogger({ level: io.env.LEAKSCOPE_LOG_LEVEL ?? 'info' });
    const log = componentLogger(root, values.follow ? 'ship.follow' : 'ship');
    const metrics = createMetrics();
    const kafka = createKafkaClient({ brokers: conn.brokers, clientId: 'leakscope-ship', logger: componentLogger(root, 'source.kafka') });
    // The reading thread loads its modules while the topics are checked and the producer connects.
    const readThread = values.follow ? null : ReadThread.start();
    try {
      await prepareTopics(kafka, conn.topics);
    } catch (err) {
      await readThread?.close();
      throw err;
    }
    const producer = new StreamProducer(kafka, new AvroCodec());
    try {
      await producer.connect();
    } catch (err) {
      await readThread?.close();
      throw err;
    }
    let healthy = true;
    const server = metricsPort === 0 ? null : await startTelemetryServer(metrics, () => ({ ok: healthy }), { port: metricsPort });
    try {
      if (values.follow) {
        const dir = positionals[0]!;
        const controller = new AbortController();
        const stop = (): void => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          const totals = await followDirectory({
            dir, checkpointFile: values.checkpoint ?? join(dir, DEFAULT_CHECKPOINT_NAME), producer, topics: conn.topics,
            format, profile, metrics, logger: log, pollIntervalMs: pollMs, batchLines, signal: controller.signal,
          });
          io.stdout.write(values.json ? `${JSON.stringify(totals)}\n` : `shipped ${totals.requests} requests, ${totals.rejects} rejects from ${totals.lines} lines\n`);
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      } else {
        const summary = await shipInputs(positionals, {
          producer, topics: conn.topics, format, profile, metrics, logger: log, batchLines, stdin: io.stdin, readThread,
        });
        io.stdout.write(values.json
          ? `${JSON.stringify({ ...summary, topic: conn.topics.requests, dlq: conn.topics.dlq })}\n`
          : `shipped ${summary.requests} requests and ${summary.rejects} rejects${summary.notForwarded > 0 ? ` (${summary.notForwarded} requests not forwarded by the gateway, not shipped)` : ''} from ${summary.lines} lines of ${summary.inputs} input(s) ` +
            `to ${conn.topics.requests} in ${summary.seconds.toFixed(1)} s (${Math.round(summary.requests / Math.max(summary.seconds, 1e-9))} req/s); all acknowledged\n`);
      }
    } catch (err) {
      healthy = false;
      throw err;
    } finally {
      await producer.disconnect();
      await readThread?.close();
      await server?.close();
    }
    return 0;
  },
};


/** `--check`: the input can be read (a directory: listed; a file: opened for reading); stdin (null) always can. */
async function checkInput(path: string | null, follow: boolean): Promise<void> {
  if (path === null) return;
  try {
    const info = await stat(path);
    if (follow && !info.isDirectory()) throw new Error('not a directory (--follow tails a directory)');
    if (info.isDirectory()) await readdir(path);
    else await access(path, constants.R_OK);
  } catch (cause) {
    throw new LeakscopeError('INPUT_UNREADABLE', `ship: ${path}: cannot read: ${(cause as Error).message}`, { cause });
  }
}
