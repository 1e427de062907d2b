// Configuration of the ClickHouse store: where ClickHouse is (a server's HTTP interface, or
// ClickHouse in-process through chdb under a folder), the database, and a few options;
// validated once, unknown keys refused, then frozen. URL forms: see README.md ("Store URLs").
import { isAbsolute, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { LeakscopeError } from '../../core/errors.js';
import { validateConfig } from '../../config/index.js';
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

/** The options' one definition of type, range and default (ClickHouseOptions documents each). */
const ClickHouseOptionsSchema = Type.Object({
  requestTimeoutMs: Type.Integer({ minimum: 1, default: 30_000 }),
  maxRowsPerInsert: Type.Integer({ minimum: 1, default: 100_000 }),
  compression: Type.Optional(Type.Boolean()),
  readRetries: Type.Integer({ minimum: 0, default: 2 }),
}, { additionalProperties: false });

function invalid(message: string): never {
  throw new LeakscopeError('CONFIG_INVALID', `ClickHouse: ${message}`);
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
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const checked = validateConfig(ClickHouseOptionsSchema, given, { where: 'ClickHouse options' });
  const common = {
    requestTimeoutMs: checked.requestTimeoutMs,
    maxRowsPerInsert: checked.maxRowsPerInsert,
    readRetries: checked.readRetries,
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
    compression: checked.compression ?? !LOOPBACK.test(parsed.hostname),
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
