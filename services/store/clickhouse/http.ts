// ClickHouse over its HTTP interface with Node's fetch: the statement is the POST body (or,
// for an INSERT, the `query` parameter with the rows as the body). Every failure becomes a
// LeakscopeError('STORE_FAILED') whose `retryable` says whether trying again may help.
import { LeakscopeError } from '../../core/errors.js';
import type { ClickHouseConfig } from './config.js';
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

export interface QueryOptions {
  /** Run inside the configured database (default true; false for CREATE DATABASE). */
  inDatabase?: boolean;
  /** Request body after the statement; for INSERT … FORMAT JSONEachRow the rows. */
  data?: string;
  /** Extra ClickHouse settings as URL parameters. */
  settings?: Readonly<Record<string, string>>;
}

export class ClickHouseHttp {
  constructor(readonly config: ClickHouseConfig) {}

  /** Runs one statement and returns the response body. */
  async exec(statement: Sql, options: QueryOptions = {}): Promise<string> {
    const url = new URL(this.config.endpoint);
    if (options.inDatabase !== false) url.searchParams.set('database', this.config.database);
    // 64-bit integers come back quoted in JSON (18.16's default, pinned here): exact, then checked on reading.
    url.searchParams.set('output_format_json_quote_64bit_integers', '1');
    for (const [k, v] of Object.entries(options.settings ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
    if (this.config.user !== null) {
      headers.Authorization = `Basic ${Buffer.from(`${this.config.user}:${this.config.password ?? ''}`).toString('base64')}`;
    }
    let body: string;
    if (options.data === undefined) {
      body = statement.text;
    } else {
      // The statement goes in the URL so that the body holds only data (ClickHouse's rule for INSERT over HTTP).
      url.searchParams.set('query', statement.text);
      body = options.data;
    }
    const what = describe(statement);
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.config.requestTimeoutMs) });
    } catch (err) {
      throw transportError(err, this.config, what);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw transportError(err, this.config, what);
    }
    if (!res.ok) throw serverError(res.status, text, this.config, what);
    return text;
  }

  /** Runs a SELECT and returns its rows (FORMAT JSONEachRow is appended). */
  async rows<T>(statement: Sql, options: QueryOptions = {}): Promise<T[]> {
    // wait_end_of_query: an error late in the query is then an HTTP error, not a truncated 200.
    const settings = { wait_end_of_query: '1', ...options.settings };
    const text = await this.exec(sql`${statement}\nFORMAT JSONEachRow`, { ...options, settings });
    const out: T[] = [];
    for (const line of text.split('\n')) if (line.length > 0) out.push(JSON.parse(line) as T);
    return out;
  }
}

function describe(statement: Sql): string {
  const first = statement.text.trim().split(/\s+/).slice(0, 4).join(' ');
  return first.length > 80 ? `${first.slice(0, 80)}…` : first;
}

function transportError(err: unknown, config: ClickHouseConfig, what: string): LeakscopeError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const timedOut = e?.name === 'TimeoutError' || e?.name === 'AbortError';
  const detail = timedOut
    ? `no answer within ${config.requestTimeoutMs} ms`
    : (e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err));
  return new LeakscopeError(
    'STORE_FAILED',
    `ClickHouse at ${config.endpoint} could not be reached for ${what}: ${detail}. Check that the server runs and the URL is right; the call may be retried.`,
    { cause: err, retryable: true },
  );
}

/** ClickHouse answers `Code: 62, e.displayText() = DB::Exception: …` (18.16) or `Code: 62. DB::Exception: …` (current). */
export function parseServerError(text: string): { code: number | null; message: string } {
  const m = /Code:\s*(\d+)[.,]\s*(?:e\.displayText\(\) = )?(?:DB::Exception: )?([\s\S]*)/.exec(text);
  if (!m) return { code: null, message: text.trim().slice(0, 500) };
  const message = m[2]!.replace(/,? e\.what\(\) = DB::Exception\s*$/, '').replace(/\s+/g, ' ').trim();
  return { code: Number(m[1]), message: message.slice(0, 500) };
}

function serverError(status: number, text: string, config: ClickHouseConfig, what: string): LeakscopeError {
  const { code, message } = parseServerError(text);
  const retryable = code !== null ? RETRYABLE_CODES.has(code) : status >= 500;
  return new LeakscopeError(
    'STORE_FAILED',
    `ClickHouse at ${config.endpoint} refused ${what} (HTTP ${status}${code !== null ? `, code ${code}` : ''}): ${message}`,
    { retryable },
  );
}
