// Configuration of the ClickHouse sink: the server URL (its path names the database) and
// a few options, validated once by their schema, unknown keys refused, then frozen.
import { Type } from '@sinclair/typebox';
import { LeakscopeError } from '../../core/errors.js';
import { validateConfig } from '../../config/index.js';
import { IDENTIFIER } from './literal.js';

export interface ClickHouseOptions {
  /** Abort an HTTP call to ClickHouse after this long; the error is retryable. Default 30000. */
  requestTimeoutMs?: number;
  /** Largest number of rows sent in one INSERT; a bigger batch is split. Default 100000. */
  maxRowsPerInsert?: number;
}

export interface ClickHouseConfig {
  /** `http(s)://host:port/`, without credentials or path. */
  readonly endpoint: string;
  /** The database: the URL's path, default `leakscope`. */
  readonly database: string;
  /** From the URL's user-info, sent as HTTP basic auth (never in the query string). */
  readonly user: string | null;
  readonly password: string | null;
  readonly requestTimeoutMs: number;
  readonly maxRowsPerInsert: number;
}

export const DEFAULT_DATABASE = 'leakscope';

/** The options' one definition of type, range and default (ClickHouseOptions documents each). */
const ClickHouseOptionsSchema = Type.Object({
  requestTimeoutMs: Type.Integer({ minimum: 1, default: 30_000 }),
  maxRowsPerInsert: Type.Integer({ minimum: 1, default: 100_000 }),
}, { additionalProperties: false });

function invalid(message: string): never {
  throw new LeakscopeError('CONFIG_INVALID', `ClickHouse: ${message}`);
}

/** Reads `http://[user[:password]@]host:port[/database]` and the options; throws CONFIG_INVALID naming what is wrong. */
export function clickhouseConfig(url: string, options: ClickHouseOptions = {}): ClickHouseConfig {
  const checked = validateConfig(ClickHouseOptionsSchema, { ...options }, { where: 'ClickHouse options' });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    invalid(`URL ${JSON.stringify(url)} cannot be read; expected e.g. http://127.0.0.1:8123/leakscope`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    invalid(`URL ${JSON.stringify(url)} has protocol ${parsed.protocol}; expected http: or https: (the HTTP interface)`);
  }
  if (parsed.search || parsed.hash) invalid(`URL ${JSON.stringify(url)} has a query or fragment; expected only scheme, host, port and database`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, '')) || DEFAULT_DATABASE;
  if (!IDENTIFIER.test(database)) {
    invalid(`database ${JSON.stringify(database)} (the URL's path) is not a plain identifier (${IDENTIFIER.source})`);
  }
  return Object.freeze({
    endpoint: `${parsed.protocol}//${parsed.host}/`,
    database,
    user: parsed.username ? decodeURIComponent(parsed.username) : null,
    password: parsed.password ? decodeURIComponent(parsed.password) : null,
    requestTimeoutMs: checked.requestTimeoutMs,
    maxRowsPerInsert: checked.maxRowsPerInsert,
  });
}
