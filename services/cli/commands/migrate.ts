// `leakscope migrate --clickhouse URL`: creates the ClickHouse database named by the URL's
// path when missing and applies every pending schema migration. Running it again is a no-op.
import type { Command } from '../command.js';
import { LeakscopeError } from '../../core/errors.js';
import { parseCommandFlags } from '../flags.js';
import { CLICKHOUSE_URL_ENV, redactUrl, requireClickHouseUrl } from '../store-option.js';

const MIGRATE_FLAGS = { clickhouse: { type: 'string' }, cluster: { type: 'string' } } as const;

const USAGE = `Usage: leakscope migrate --clickhouse URL [--cluster NAME]

Creates or upgrades the ClickHouse schema: the database named by the URL's path (default
leakscope) is created when it does not exist, then every migration not yet recorded in its
schema_migrations table is applied, in order. Safe to run any number of times.

  --clickhouse URL  the ClickHouse HTTP interface and database,
                    e.g. http://127.0.0.1:8123/leakscope (default: $${CLICKHOUSE_URL_ENV}),
                    or chdb:PATH[?database=NAME]: ClickHouse in-process, data under PATH
  --cluster NAME    create the schema ON CLUSTER NAME (a cluster of the server's
                    remote_servers): replicated tables on every node, Distributed tables
                    under the usual names; the store then knows it is a cluster and every
                    other command works on any node unchanged. A database is migrated
                    either always with --cluster NAME or never
`;

export const migrate: Command = {
  name: 'migrate',
  summary: 'create or upgrade the ClickHouse schema (idempotent)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('migrate', argv, MIGRATE_FLAGS);
    if (positionals.length > 0) throw new LeakscopeError('USAGE', `migrate takes no arguments, got ${JSON.stringify(positionals[0])}. See: leakscope migrate --help`);
    const url = requireClickHouseUrl(values.clickhouse, io.env, 'migrate');
    // Loaded on demand, like the query commands do: nothing else needs the ClickHouse sink.
    const { migrateClickHouse, LATEST_VERSION } = await import('../../store/clickhouse/index.js');
    const cluster = values.cluster;
    if (cluster !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(cluster)) {
      throw new LeakscopeError('USAGE', `--cluster takes a cluster name of remote_servers (letters, digits, _), got ${JSON.stringify(cluster)}`);
    }
    const result = await migrateClickHouse(url, {}, cluster === undefined ? {} : { cluster });
    const where = `ClickHouse ${result.server.text} at ${redactUrl(url)}${result.cluster === undefined ? '' : ` (cluster ${result.cluster})`}`;
    io.stdout.write(result.applied.length === 0
      ? `${where}: schema already at version ${LATEST_VERSION}, nothing to do\n`
      : `${where}: applied migration${result.applied.length > 1 ? 's' : ''} ${result.applied.join(', ')}; schema at version ${LATEST_VERSION}\n`);
    return 0;
  },
};
