// Which disclosure store a query command (report, who-saw, export-affected) reads: the embedded
// DuckDB file or a ClickHouse server. Flags decide; CLICKHOUSE_URL is the fallback only when
// no store flag is given, so that a shell set up for the streaming stack reads ClickHouse while
// an explicit `--db` always wins. Both adapters are imported on demand: the embedded path never
// loads the ClickHouse client, and `registry validate` loads neither.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LeakscopeError } from '../core/errors.js';
import type { PrivacyKeys } from '../core/privacy/index.js';
import { HASH_KEY_ENV, loadKeys } from '../keys/index.js';
import { keyCheckOf } from '../keys/index.js';
import type { DisclosureStore, StoreMeta } from '../store/types.js';

/** Default DuckDB file, relative to the working directory (the one `scan` writes by default). */
export const DEFAULT_DB = 'leakscope.duckdb';
export const CLICKHOUSE_URL_ENV = 'CLICKHOUSE_URL';

export interface StoreFlags {
  db?: string | undefined;
  clickhouse?: string | undefined;
}

export type StoreLocation =
  | { kind: 'duckdb'; path: string }
  | { kind: 'clickhouse'; url: string; fromEnv: boolean };

/** Flag definitions shared by the query commands, for parseCommandFlags (or parseFlags). */
export const STORE_FLAG_OPTIONS = {
  db: { type: 'string' },
  clickhouse: { type: 'string' },
} as const;

export const STORE_FLAGS_USAGE = [
  `  --db PATH               the DuckDB store written by \`leakscope scan\` (default ./${DEFAULT_DB})`,
  `  --clickhouse URL        read ClickHouse instead, e.g. http://127.0.0.1:8123/leakscope,`,
  `                          or chdb:PATH for ClickHouse in-process with its data under PATH`,
  `                          (default: $${CLICKHOUSE_URL_ENV} when set and --db is not given)`,
].join('\n');

/**
 * Decides the store without touching it: `--db` → DuckDB; `--clickhouse` → ClickHouse; both →
 * usage error; neither → CLICKHOUSE_URL when set, else ./leakscope.duckdb.
 */
export function resolveStoreLocation(flags: StoreFlags, env: Readonly<Record<string, string | undefined>>, cwd: string): StoreLocation {
  if (flags.db !== undefined && flags.clickhouse !== undefined) {
    throw new LeakscopeError('USAGE', 'give either --db PATH or --clickhouse URL, not both');
  }
  if (flags.db !== undefined) {
    if (flags.db.trim() === '') throw new LeakscopeError('USAGE', '--db needs a file path');
    return { kind: 'duckdb', path: resolve(cwd, flags.db) };
  }
  const clickhouse = clickhouseUrlOption(flags.clickhouse, env);
  if (clickhouse !== null) return { kind: 'clickhouse', ...clickhouse };
  return { kind: 'duckdb', path: resolve(cwd, DEFAULT_DB) };
}

/**
 * The ClickHouse URL of `--clickhouse`, else of CLICKHOUSE_URL (the one place that variable is
 * read), checked; null when neither is given.
 */
export function clickhouseUrlOption(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): { url: string; fromEnv: boolean } | null {
  if (flag !== undefined) return { url: checkUrl(flag.trim(), '--clickhouse'), fromEnv: false };
  const fromEnv = env[CLICKHOUSE_URL_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { url: checkUrl(fromEnv.trim(), CLICKHOUSE_URL_ENV), fromEnv: true };
  return null;
}

/** For the commands that only work on ClickHouse (migrate, detect): the URL, or a USAGE error saying how to give it. */
export function requireClickHouseUrl(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, command: string): string {
  const found = clickhouseUrlOption(flag, env);
  if (found === null) {
    throw new LeakscopeError('USAGE', `${command} needs --clickhouse URL (or ${CLICKHOUSE_URL_ENV}), e.g. http://127.0.0.1:8123/leakscope`);
  }
  return found.url;
}

function checkUrl(value: string, where: string): string {
  // ClickHouse in-process (chdb) under a folder; the store reads the rest of it.
  if (value.startsWith('chdb:')) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new LeakscopeError('USAGE', `${where} ${JSON.stringify(redactUrl(value))}: not a URL (expected e.g. http://127.0.0.1:8123/leakscope)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LeakscopeError('USAGE', `${where}: expected an http:// or https:// URL of the ClickHouse HTTP interface, or chdb:PATH, got ${url.protocol}`);
  }
  return value;
}

/** A URL fit for messages: the password, if any, replaced by `***`. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

/** Where the store is, for messages. */
export function describeLocation(location: StoreLocation): string {
  if (location.kind === 'duckdb') return location.path;
  return location.url.startsWith('chdb:') ? `ClickHouse in-process at ${location.url.slice(5)}` : `ClickHouse at ${redactUrl(location.url)}`;
}

/** Says on stderr where the data comes from when the environment, not a flag, chose it. */
export function noteLocation(location: StoreLocation, write: (text: string) => void): void {
  if (location.kind === 'clickhouse' && location.fromEnv) {
    write(`reading ClickHouse at ${redactUrl(location.url)} (from ${CLICKHOUSE_URL_ENV}; pass --db PATH to read a DuckDB file)\n`);
  }
}

/** How a command opens its store; tests may pass another. */
export type StoreOpener = (location: StoreLocation) => Promise<DisclosureStore>;

/** Opens a located store for reading. A DuckDB file that does not exist is refused (exit 2), never created. */
export async function openStore(location: StoreLocation, duckdb: { whoSawIndexMaxRows?: number } = {}): Promise<DisclosureStore> {
  if (location.kind === 'clickhouse') {
    const { openClickHouseStore } = await import('../store/clickhouse/index.js');
    return await openClickHouseStore(location.url);
  }
  await requireFile(location.path);
  const { openDuckDbStore } = await import('../store/duckdb/index.js');
  return await openDuckDbStore(location.path, { readOnly: true, ...duckdb });
}

async function requireFile(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new LeakscopeError('INPUT_UNREADABLE', `no store at ${path}: it is not a file; pass --db PATH of a file written by leakscope scan`);
  } catch (error) {
    if (error instanceof LeakscopeError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new LeakscopeError('INPUT_UNREADABLE', `no store at ${path}: run leakscope scan first (or pass --db PATH, or --clickhouse URL)`);
    }
    throw new LeakscopeError('INPUT_UNREADABLE', `cannot read the store at ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The brief's one-call form: locate, then open. */
export async function openStoreFromFlags(
  flags: StoreFlags,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): Promise<DisclosureStore> {
  return openStore(resolveStoreLocation(flags, env, cwd));
}

// ---- Privacy keys of a store ----------------------------------------------------------------

/** The key file of a DuckDB store, next to it; a ClickHouse store has none (keys come from the environment). */
export function keyFileFor(location: StoreLocation): string | null {
  return location.kind === 'duckdb' ? `${location.path}.keys.json` : null;
}

/**
 * The keys that read `store`: from the environment or the store's key file (never created
 * here: a query with a new key would find nothing). Refused when the store records a key
 * check that this hash key does not give; warnings from loading go to `warn`.
 */
export async function loadStoreKeys(
  location: StoreLocation,
  meta: StoreMeta,
  env: Readonly<Record<string, string | undefined>>,
  warn: (message: string) => void,
): Promise<PrivacyKeys> {
  const loaded = await loadKeys({ env, keyFile: keyFileFor(location), createIfMissing: false });
  for (const warning of loaded.warnings) warn(warning);
  if (meta.keyCheck !== null && meta.keyCheck !== keyCheckOf(loaded.keys)) {
    const from = loaded.source === 'env' ? `${HASH_KEY_ENV} in the environment` : `the key file ${loaded.keyFile}`;
    throw new LeakscopeError('KEY_INVALID',
      `the key does not match the one the data was stored with (${from}); use the key of the scan that wrote ${describeLocation(location)}`);
  }
  return loaded.keys;
}
