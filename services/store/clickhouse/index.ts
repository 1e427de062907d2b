// The ClickHouse sink: a DisclosureStore over ClickHouse's HTTP interface, its versioned
// schema, and the one literal formatter every value goes through on its way into SQL.
import { clickhouseConfig, type ClickHouseOptions } from './config.js';
import { ClickHouseHttp } from './http.js';
import { runMigrations, type MigrateResult } from './migrations.js';
import { clickhouseVersionOf, type ClickHouseVersion } from './version.js';

export { openClickHouseStore } from './store.js';
export { clickhouseConfig, DEFAULT_DATABASE } from './config.js';
export type { ClickHouseConfig, ClickHouseOptions } from './config.js';
export { LATEST_VERSION, MIGRATIONS, MIN_SERVER } from './migrations.js';
export type { MigrateResult, Migration } from './migrations.js';
export { parseVersion, versionAtLeast } from './version.js';
export type { ClickHouseVersion } from './version.js';
export { array, float, ident, int, joinSql, nullable, qualified, sql, str, IDENTIFIER, MAX_STRING_LITERAL } from './literal.js';
export type { Sql } from './literal.js';

/** Creates the database when missing and applies every pending migration (`leakscope migrate`). */
export async function migrateClickHouse(url: string, options: ClickHouseOptions = {}): Promise<MigrateResult> {
  return runMigrations(new ClickHouseHttp(clickhouseConfig(url, options)));
}

/** The version of the server at `url`, for features that must check it. */
export async function clickhouseVersion(url: string, options: ClickHouseOptions = {}): Promise<ClickHouseVersion> {
  return clickhouseVersionOf(new ClickHouseHttp(clickhouseConfig(url, options)));
}
