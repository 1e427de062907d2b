// `leakscope serve`: the operator service — the API (and the web console, when built in)
// over the embedded DuckDB store or ClickHouse. Listens on loopback unless told otherwise,
// refuses a non-loopback address without TLS (tokens would cross the network in clear), and
// on SIGTERM or SIGINT stops taking connections, finishes the requests in flight and exits.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { readRegistryFile } from '../../files/index.js';
import { createKafkaClient, streamConnection, STREAM_FLAGS_USAGE } from '../../kafka/index.js';
import { componentLogger, createLogger } from '../../observability/index.js';
import { buildApp, DEFAULT_LOOKUPS_PER_MINUTE } from '../../serve/app.js';
import { KafkaAlertSource, KafkaRegistrySource } from '../../serve/kafka-sources.js';
import { StoreAlertSource } from '../../serve/sources.js';
import type { AlertSource, RegistrySource } from '../../serve/sources.js';
import { openStoreAccess } from '../../serve/store-access.js';
import { DEFAULT_WHO_SAW_INDEX_MAX_ROWS } from '../../store/duckdb/who-saw-index.js';
import { UsersDirectory } from '../../serve/users-directory.js';
import { DEFAULT_USERS_FILE } from '../../users/index.js';
import {
  STORE_FLAGS_USAGE, STORE_FLAG_OPTIONS, loadStoreKeys, noteLocation, resolveStoreLocation,
} from '../store-option.js';

export const DEFAULT_LISTEN = '127.0.0.1:8080';

const SERVE_FLAGS = {
  ...STORE_FLAG_OPTIONS, users: { type: 'string' }, listen: { type: 'string', default: DEFAULT_LISTEN }, brokers: { type: 'string' },
  'topic-prefix': { type: 'string' }, registry: { type: 'string' },
  'lookups-per-minute': { type: 'integer', minimum: 1, default: DEFAULT_LOOKUPS_PER_MINUTE },
  'who-saw-index-rows': { type: 'integer', minimum: 0, default: DEFAULT_WHO_SAW_INDEX_MAX_ROWS },
  'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, check: { type: 'boolean' },
} as const;

const USAGE = `Usage: leakscope serve [--db PATH | --clickhouse URL] [--users FILE] [--listen HOST:PORT]
                       [--brokers LIST] [--registry FILE] [--lookups-per-minute N]
                       [--who-saw-index-rows N]
                       [--tls-cert FILE --tls-key FILE]

The operator service: the JSON API under /api/v1 (OpenAPI at /api/v1/openapi.json), /healthz,
/metrics, and the web console at / when it is built in. Every who-saw and affected answer is
audited first. Stops cleanly on SIGTERM or SIGINT.

${STORE_FLAGS_USAGE}
  --users FILE            the users file of leakscope users (default ./${DEFAULT_USERS_FILE});
                          re-read when it changes
  --listen HOST:PORT      where to listen (default ${DEFAULT_LISTEN}); an address other than
                          loopback needs --tls-cert and --tls-key
  --brokers LIST          read alerts from leak-alerts (and, for ClickHouse, the registry from
                          partner-registry); default $KAFKA_BROKERS when set. Without it, alerts
                          come from the store, where detect and watch record them
${STREAM_FLAGS_USAGE.split('\n').filter((l) => l.includes('--topic-prefix')).join('\n')}
  --registry FILE         show this registry at /api/v1/registry instead of the one the store
                          or partner-registry has
  --lookups-per-minute N  who-saw and affected lookups per user per minute (default ${DEFAULT_LOOKUPS_PER_MINUTE})
  --who-saw-index-rows N  over --db, keep the store's who-saw rows in memory and answer who-saw
                          from them while the store holds at most N (default ${DEFAULT_WHO_SAW_INDEX_MAX_ROWS},
                          about 12 bytes a row); 0: always ask DuckDB
  --tls-cert FILE, --tls-key FILE   serve HTTPS with this PEM certificate and key
  --check                 check the flags, the TLS files, the users file, that the store opens
                          and its keys load; then exit (0: ok) without listening
`;

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(value.trim());
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new LeakscopeError('USAGE', `--listen ${JSON.stringify(value)}: expected HOST:PORT, e.g. ${DEFAULT_LISTEN}`);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

async function readPem(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new LeakscopeError('INPUT_UNREADABLE', `${flag} ${path}: cannot read: ${(cause as Error).message}`, { cause });
  }
}

export interface ServeCommandOptions {
  /** The web console plugin (services/serve/console/), registered at /. */
  console?: FastifyPluginAsync;
}

export function createServeCommand(commandOptions: ServeCommandOptions = {}): Command {
  return {
    name: 'serve',
    summary: 'the operator service: HTTP API (and web console) over the store, with roles and an audit',
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = parseCommandFlags('serve', argv, SERVE_FLAGS);
      if (positionals.length > 0) throw new LeakscopeError('USAGE', `serve takes no arguments, got ${JSON.stringify(positionals[0])}`);
      const listen = parseListen(values.listen);
      const lookupsPerMinute = values['lookups-per-minute'];
      if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
        throw new LeakscopeError('USAGE', 'give both --tls-cert FILE and --tls-key FILE, or neither');
      }
      const https = values['tls-cert'] === undefined ? null
        : { cert: await readPem(resolve(io.cwd, values['tls-cert']), '--tls-cert'), key: await readPem(resolve(io.cwd, values['tls-key']!), '--tls-key') };
      if (!isLoopback(listen.host) && https === null) {
        throw new LeakscopeError('USAGE',
          `--listen ${listen.host}: tokens and answers would cross the network in clear; give --tls-cert FILE and --tls-key FILE, or listen on 127.0.0.1`);
      }
      const location = resolveStoreLocation(values, io.env, io.cwd);
      noteLocation(location, (t) => io.stderr.write(t));
      const registryFile = values.registry === undefined ? null : await readRegistryFile(resolve(io.cwd, values.registry));
      const root = createLogger({ destination: io.stderr });
      const log = componentLogger(root, 'serve');

      const users = await UsersDirectory.open(resolve(io.cwd, values.users ?? DEFAULT_USERS_FILE), log);
      if (users.users().length === 0) io.stderr.write('warning: the users file has no users yet: nobody can sign in (leakscope users add NAME --role ROLE)\n');
      // --check only opens the store: no index is read for it.
      const store = await openStoreAccess(location, { whoSawIndexMaxRows: values.check ? 0 : values['who-saw-index-rows'] });
      const closers: Array<() => Promise<void>> = [async () => users.close(), () => store.close()];
      try {
        const meta = await store.use((s) => s.readMeta());
        const keys = await loadStoreKeys(location, meta, io.env, (w) => io.stderr.write(`warning: ${w}\n`));
        if (values.check) {
          const n = users.users().length;
          io.stdout.write(`serve: configuration ok (store: ${store.description}, ${n} user${n === 1 ? '' : 's'}, listen ${values.listen}${https === null ? '' : ' with TLS'})\n`);
          return 0;
        }

        let alerts: AlertSource | null = null;
        let registry: RegistrySource | null = registryFile === null ? null : { current: async () => registryFile };
        const brokersGiven = values.brokers ?? io.env.KAFKA_BROKERS;
        if (brokersGiven !== undefined && brokersGiven.trim() !== '') {
          const connection = streamConnection(values, io.env);
          const kafka = createKafkaClient({ brokers: connection.brokers, clientId: 'leakscope-serve', logger: log });
          const alertSource = new KafkaAlertSource(kafka, connection.topics.alerts, log);
          await alertSource.start();
          closers.unshift(() => alertSource.close());
          alerts = alertSource;
          if (registry === null && location.kind === 'clickhouse') {
            const registrySource = new KafkaRegistrySource(kafka, connection.topics, log);
            await registrySource.start(log);
            closers.unshift(() => registrySource.close());
            registry = registrySource;
          }
        }
        // Without --brokers, alerts come from the store, where detect and watch record them.
        if (alerts === null) alerts = new StoreAlertSource(store);
        if (registry === null && location.kind === 'duckdb') {
          registry = {
            current: () => store.use(async (s) => {
              const recorded = s as unknown as Partial<{ readRegistry(): Promise<import('../../core/types.js').Registry | null> }>;
              return typeof recorded.readRegistry === 'function' ? recorded.readRegistry() : null;
            }),
          };
        }

        const { app } = await buildApp({
          store, users, keys, lookupsPerMinute, https, alerts, registry, logger: log,
          ...(commandOptions.console === undefined ? {} : { console: commandOptions.console }),
        });
        closers.unshift(() => app.close());
        const address = await app.listen({ host: listen.host, port: listen.port });
        log.info({ address, store: location.kind }, 'serve listening');
        // The handlers are in place before the line that says the service is up: a signal sent on reading it stops it cleanly.
        const stopped = new Promise<void>((done) => {
          const stop = (signal: string) => {
            log.info({ signal }, 'serve stopping');
            process.off('SIGTERM', onTerm);
            process.off('SIGINT', onInt);
            done();
          };
          const onTerm = () => stop('SIGTERM');
          const onInt = () => stop('SIGINT');
          process.on('SIGTERM', onTerm);
          process.on('SIGINT', onInt);
        });
        io.stderr.write(`leakscope serve: listening on ${address} (store: ${store.description}); stop with Ctrl-C or SIGTERM\n`);
        await stopped;
      } finally {
        for (const close of closers) await close().catch(() => undefined);
        root.flush?.();
      }
      io.stderr.write('leakscope serve: stopped\n');
      return 0;
    },
  };
}

export const serve = createServeCommand();
