// The ClickHouse store: a DisclosureStore over @clickhouse/client (a server, or ClickHouse
// in-process through chdb), its versioned schema, and the one literal formatter every value
// goes through on its way into SQL.
import { clickhouseConfig, type ClickHouseOptions } from './config.js';
import { ClickHouseConnection } from './client.js';
import { runMigrations, type MigrateOptions, type MigrateResult } from './migrations.js';
import { clickhouseVersionOf, type ClickHouseVersion } from './version.js';

export { openClickHouseStore } from './store.js';
export { clickhouseConfig, isChdbUrl } from './config.js';
export { chdbDir } from './chdb.js';
export type { ClickHouseConfig, ClickHouseOptions } from './config.js';
export { LATEST_VERSION, MIGRATIONS, MIN_SERVER } from './migrations.js';
export type { MigrateOptions, MigrateResult, Migration } from './migrations.js';
export { CLUSTER_META_KEY, LOCAL_SUFFIX, PLACEMENTS, clusterStatements } from './cluster.js';
export type { Placement } from './cluster.js';
export { parseVersion, versionAtLeast } from './version.js';
export type { ClickHouseVersion } from './version.js';
export { array, float, ident, int, joinSql, nullable, qualified, sql, str, IDENTIFIER, MAX_STRING_LITERAL } from './literal.js';
export type { Sql } from './literal.js';

/** Creates the database when missing and applies every pending migration (`leakscope migrate`). */
export async function migrateClickHouse(url: string, options: ClickHouseOptions = {}, migrate: MigrateOptions = {}): Promise<MigrateResult> {
  return withConnection(url, options, (ch) => runMigrations(ch, undefined, migrate));
}

/** The version of the server at `url`, for features that must check it. */
export async function clickhouseVersion(url: string, options: ClickHouseOptions = {}): Promise<ClickHouseVersion> {
  return withConnection(url, options, (ch) => clickhouseVersionOf(ch));
}

async function withConnection<T>(url: string, options: ClickHouseOptions, fn: (ch: ClickHouseConnection) => Promise<T>): Promise<T> {
  const ch = new ClickHouseConnection(clickhouseConfig(url, options));
  try {
    return await fn(ch);
  } finally {
    await ch.close();
  }
}
