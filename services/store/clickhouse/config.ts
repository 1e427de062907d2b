// Configuration of the ClickHouse store: where ClickHouse is (a server's HTTP interface, or
// ClickHouse in-process through chdb under a folder), the database, and a few options;
// validated once, unknown keys refused, then frozen. URL forms: see README.md ("Store URLs").
import { isAbsolute, resolve } from 'node:path';
import { LeakscopeError } from '../../core/errors.js';
import { IDENTIFIER } from './literal.js';

export interface ClickHouseOptions {
  /** Abort a call to a ClickHouse server after this long; the error is retryable. Default 30000. */
  requestTimeoutMs?: number;
  /** Largest number of rows sent in one INSERT; a bigger batch is split. Default 100000. */
  maxRowsPerInsert?: number;
  /** gzip insert bodies and answers (HTTP only). Default: on for a remote host, off on loopback, where it only costs CPU. */
  compression?: boolean;
  /** Times a read (SELECT) that failed with a retryable error is tried again, with backoff. Default 2. */
  readRetries?: number;
}

export interface ClickHouseConfig {
  /** `http`: a server's HTTP interface; `chdb`: ClickHouse in-process (npm chdb) with its data under `chdbPath`. */
  readonly kind: 'http' | 'chdb';
  /** `http(s)://host:port/`, without credentials or path; null for chdb. */
  readonly endpoint: string | null;
  /** Absolute folder of the in-process ClickHouse's data; null for http. */
  readonly chdbPath: string | null;
  /** The database: the URL's path (http) or its `database` parameter (chdb), default `leakscope`. */
  readonly database: string;
  /** From the URL's user-info, sent as HTTP basic auth (never in the query string). */
  readonly user: string | null;
  readonly password: string | null;
  readonly requestTimeoutMs: number;
  readonly maxRowsPerInsert: number;
  readonly compression: boolean;
  readonly readRetries: number;
}

const DEFAULT_DATABASE = 'leakscope';
const CHDB_SCHEME = 'chdb:';

const DEFAULTS = { requestTimeoutMs: 30_000, maxRowsPerInsert: 100_000, compression: undefined, readRetries: 2 } as const;
const KNOWN_OPTIONS = new Set(Object.keys(DEFAULTS));

function invalid(message: string): never {
  throw new LeakscopeError('CONFIG_INVALID', `ClickHouse: ${message}`);
}

function positiveInt(key: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    invalid(`option ${key} is ${JSON.stringify(value)}; expected ${min === 0 ? 'a non-negative' : 'a positive'} integer`);
  }
  return value;
}

function checkDatabase(database: string, where: string): string {
  if (!IDENTIFIER.test(database)) invalid(`database ${JSON.stringify(database)} (${where}) is not a plain identifier (${IDENTIFIER.source})`);
  return database;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** True for a store URL that names ClickHouse in-process (`chdb:PATH`). */
export function isChdbUrl(url: string): boolean {
  return url.startsWith(CHDB_SCHEME);
}

/**
 * Reads `http(s)://[user[:password]@]host:port[/database]` or `chdb:PATH[?database=NAME]`
 * and the options; throws CONFIG_INVALID naming what is wrong.
 */
export function clickhouseConfig(url: string, options: ClickHouseOptions = {}): ClickHouseConfig {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) invalid(`unknown option "${key}"; expected one of ${[...KNOWN_OPTIONS].join(', ')}`);
  }
  if (options.compression !== undefined && typeof options.compression !== 'boolean') {
    invalid(`option compression is ${JSON.stringify(options.compression)}; expected true or false`);
  }
  const common = {
    requestTimeoutMs: positiveInt('requestTimeoutMs', options.requestTimeoutMs, DEFAULTS.requestTimeoutMs),
    maxRowsPerInsert: positiveInt('maxRowsPerInsert', options.maxRowsPerInsert, DEFAULTS.maxRowsPerInsert),
    readRetries: positiveInt('readRetries', options.readRetries, DEFAULTS.readRetries, 0),
  };
  if (isChdbUrl(url)) return Object.freeze({ ...chdbTarget(url), ...common, compression: false });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    invalid(`URL ${JSON.stringify(url)} cannot be read; expected e.g. http://127.0.0.1:8123/leakscope or chdb:/var/lib/leakscope`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    invalid(`URL ${JSON.stringify(url)} has protocol ${parsed.protocol}; expected http: or https: (the HTTP interface) or chdb: (in-process)`);
  }
  if (parsed.search || parsed.hash) invalid(`URL ${JSON.stringify(url)} has a query or fragment; expected only scheme, host, port and database`);
  const database = checkDatabase(decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, '')) || DEFAULT_DATABASE, "the URL's path");
  return Object.freeze({
    kind: 'http' as const,
    endpoint: `${parsed.protocol}//${parsed.host}/`,
    chdbPath: null,
    database,
    user: parsed.username ? decodeURIComponent(parsed.username) : null,
    password: parsed.password ? decodeURIComponent(parsed.password) : null,
    ...common,
    compression: options.compression ?? !LOOPBACK.test(parsed.hostname),
  });
}

function chdbTarget(url: string): Pick<ClickHouseConfig, 'kind' | 'endpoint' | 'chdbPath' | 'database' | 'user' | 'password'> {
  const rest = url.slice(CHDB_SCHEME.length);
  const q = rest.indexOf('?');
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  if (rawPath.trim() === '') invalid(`URL ${JSON.stringify(url)} names no folder; expected chdb:PATH, e.g. chdb:./leakscope-ch`);
  if (rawPath.includes('\0')) invalid(`URL ${JSON.stringify(url)}: the folder holds a NUL character`);
  let database = DEFAULT_DATABASE;
  if (q >= 0) {
    const params = new URLSearchParams(rest.slice(q + 1));
    for (const key of params.keys()) {
      if (key !== 'database') invalid(`URL ${JSON.stringify(url)} has parameter "${key}"; chdb: takes only ?database=NAME`);
    }
    database = checkDatabase(params.get('database') ?? '', 'the URL\'s database parameter');
  }
  return {
    kind: 'chdb',
    endpoint: null,
    chdbPath: isAbsolute(rawPath) ? rawPath : resolve(rawPath),
    database,
    user: null,
    password: null,
  };
}

/** Where the store is, for messages: the endpoint (never the password) or the chdb folder. */
export function describeTarget(config: ClickHouseConfig): string {
  return config.kind === 'chdb' ? `ClickHouse in-process (chdb) at ${config.chdbPath}` : `ClickHouse at ${config.endpoint}`;
}
