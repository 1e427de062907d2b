// The one way to ClickHouse: @clickhouse/client, over HTTP to a server or, for `chdb:` URLs,
// over chdb's in-process Connection. Statements are `Sql` from the literal formatter (no
// server-side parameters: 18.16 has none). Every failure becomes LeakscopeError('STORE_FAILED')
// whose `retryable` is decided here, once, from the client's error; reads are retried on it.
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { LeakscopeError } from '../../core/errors.js';
import { chdbConnection } from './chdb.js';
import { describeTarget, type ClickHouseConfig } from './config.js';
import { sql, type Sql } from './literal.js';

/**
 * ClickHouse error codes that describe a passing condition (overload, timeouts, network,
 * a replica or ZooKeeper away), so the same call may succeed later. Every other code is a
 * statement the server will refuse again (syntax, unknown table, type mismatch).
 */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  159, // TIMEOUT_EXCEEDED
  164, // READONLY (a replica in read-only mode)
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  225, // NO_ZOOKEEPER
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  252, // TOO_MANY_PARTS
  319, // UNKNOWN_STATUS_OF_INSERT
  999, // KEEPER_EXCEPTION
]);

/** Socket errors after which the same call may succeed (the server restarting, a dropped keep-alive socket). */
const RETRYABLE_ERRNO: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED',
]);

// 64-bit integers come back quoted in JSON (18.16's default, 26.x's is unquoted): pinned, so
// they are exact, and checked on reading. An error late in a SELECT is then an HTTP error,
// not a truncated 200 (wait_end_of_query; chdb has no HTTP layer and drops it).
const READ_SETTINGS: ClickHouseSettings = { output_format_json_quote_64bit_integers: 1, wait_end_of_query: 1 };
const INSERT_SETTINGS: ClickHouseSettings = { input_format_skip_unknown_fields: 0 };

const READ_BACKOFF_MS = [100, 400, 1600];
// The client's own log would print each failure to the console; they are LeakscopeErrors here, logged by the caller.
const QUIET = { level: ClickHouseLogLevel.OFF };

export class ClickHouseConnection {
  private readonly client: ClickHouseClient;
  private closed = false;

  /** `settings` go with every call of this connection (the store's cluster settings). */
  constructor(readonly config: ClickHouseConfig, settings: ClickHouseSettings = {}) {
    this.client = config.kind === 'chdb'
      ? createClient({ connection: chdbConnection(config.chdbPath!), application: 'leakscope', log: QUIET })
      : createClient({
        url: config.endpoint!,
        ...(config.user !== null ? { username: config.user, password: config.password ?? '' } : {}),
        request_timeout: config.requestTimeoutMs,
        compression: { request: config.compression, response: config.compression },
        application: 'leakscope',
        log: QUIET,
        clickhouse_settings: settings,
      });
  }

  /** Runs a statement that returns no rows (DDL, INSERT … VALUES). */
  async command(statement: Sql): Promise<void> {
    this.open(statement);
    try {
      await this.client.command({ query: statement.text });
    } catch (err) {
      throw this.translate(err, statement);
    }
  }

  /**
   * Runs a SELECT and returns its rows, read from the answer as it streams in (FORMAT
   * JSONEachRow is added); tried again after a retryable failure, up to readRetries times.
   */
  async rows<T>(statement: Sql): Promise<T[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.readRows<T>(statement);
      } catch (err) {
        const e = err instanceof LeakscopeError ? err : this.translate(err, statement);
        if (!e.retryable || attempt >= this.config.readRetries || this.closed) throw e;
        await new Promise((r) => setTimeout(r, READ_BACKOFF_MS[Math.min(attempt, READ_BACKOFF_MS.length - 1)]));
      }
    }
  }

  private async readRows<T>(statement: Sql): Promise<T[]> {
    this.open(statement);
    try {
      const result = await this.client.query({ query: statement.text, format: 'JSONEachRow', clickhouse_settings: READ_SETTINGS });
      const out: T[] = [];
      for await (const chunk of result.stream<T>()) for (const row of chunk) out.push(row.json());
      return out;
    } catch (err) {
      throw this.translate(err, statement);
    }
  }

  /** Inserts objects, one per row, as JSONEachRow into `table` (a qualified name from the literal formatter). */
  async insert(table: Sql, columns: readonly string[], rows: readonly Record<string, unknown>[], settings: ClickHouseSettings = {}): Promise<void> {
    const what = sql`INSERT INTO ${table}`;
    this.open(what);
    if (rows.length === 0) return;
    try {
      await this.client.insert({
        table: table.text,
        columns: columns as [string, ...string[]],
        values: rows as Record<string, unknown>[],
        format: 'JSONEachRow',
        clickhouse_settings: { ...INSERT_SETTINGS, ...settings },
      });
    } catch (err) {
      throw this.translate(err, what);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }

  private open(statement: Sql): void {
    if (this.closed) {
      throw new LeakscopeError('STORE_FAILED', `${describeTarget(this.config)}: the store is closed (${describe(statement)})`, { retryable: false });
    }
  }

  private translate(err: unknown, statement: Sql): LeakscopeError {
    return clickhouseError(err, this.config, describe(statement));
  }
}

function describe(statement: Sql): string {
  const first = statement.text.trim().split(/\s+/).slice(0, 4).join(' ');
  return first.length > 80 ? `${first.slice(0, 80)}…` : first;
}

/**
 * The client's error as a LeakscopeError. A server's refusal carries ClickHouse's numeric
 * code (as a string: `ClickHouseError.code`, the same shape from chdb's connection); a
 * transport failure an errno code, or the client's "Timeout error.".
 */
export function clickhouseError(err: unknown, config: ClickHouseConfig, what: string): LeakscopeError {
  if (err instanceof LeakscopeError) return err;
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  // The client parses current servers' errors; 18.16's form (`Code: 60, e.displayText() = …`)
  // reaches us as a plain Error whose message still starts with the code.
  const own = typeof e?.code === 'string' && /^\d+$/.test(e.code) ? Number(e.code) : null;
  const legacy = /^\s*Code:\s*(\d+)[.,]\s*(?:e\.displayText\(\) = )?(?:DB::Exception: )?([\s\S]*)/.exec(message);
  const code = own ?? (legacy ? Number(legacy[1]) : null);
  const detail = own === null && legacy ? legacy[2]!.replace(/,? e\.what\(\) = DB::Exception\s*$/, '') : message;
  const where = describeTarget(config);
  if (code !== null) {
    return new LeakscopeError('STORE_FAILED', `${where} refused ${what} (code ${code}): ${oneLine(detail)}`,
      { cause: err, retryable: RETRYABLE_CODES.has(code) });
  }
  const errno = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : null;
  const timedOut = /^Timeout error\.?$/.test(message.trim());
  if (timedOut || (errno !== null && RETRYABLE_ERRNO.has(errno)) || /socket hang up/i.test(message)) {
    const detail = timedOut ? `no answer within ${config.requestTimeoutMs} ms` : (errno ?? oneLine(message));
    return new LeakscopeError('STORE_FAILED',
      `${where} could not be reached for ${what}: ${detail}. Check that the server runs and the URL is right; the call may be retried.`,
      { cause: err, retryable: true });
  }
  return new LeakscopeError('STORE_FAILED', `${where} failed ${what}: ${oneLine(message)}`, { cause: err, retryable: false });
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}
