// The one error type of leakscope. Every failure that crosses a module boundary is a
// LeakscopeError with a code from ERROR_CODES; adapters translate client-library errors
// (kafkajs, avsc, ClickHouse, DuckDB) into it at the boundary.

export const ERROR_CODES = [
  'USAGE',                 // bad command line: unknown flag, missing argument (exit 2)
  'INPUT_UNREADABLE',      // a file or stream could not be opened or read (exit 2)
  'FORMAT_UNKNOWN',        // log format could not be detected or is not supported (exit 2)
  'REGISTRY_INVALID',      // the partner registry failed validation; `problems` lists each (exit 2)
  'TIME_INVALID',          // a time or window could not be read, or from >= to (exit 2)
  'NUMBER_INVALID',        // a subscriber number could not be read (exit 2)
  'KEY_INVALID',           // a privacy key is malformed or missing (exit 2)
  'CONFIG_INVALID',        // configuration refused at start-up (exit 2)
  'SCHEMA_UNKNOWN',        // an Avro message names a schema fingerprint nobody knows
  'SCHEMA_INCOMPATIBLE',   // a writer schema cannot be resolved against the reader schema
  'STORE_FAILED',          // the store (DuckDB, ClickHouse) refused or failed a write or query
  'BROKER_FAILED',         // Kafka failed a produce, fetch or commit
  'INTERNAL',              // a bug: something that should not happen did (exit 1)
  'FILE_UNSAFE',           // a file to write or trust is a symlink, not a regular file, another user's, or one of the store's own (exit 2)
  'UNAUTHENTICATED',       // an API request without a known token or session (HTTP 401)
  'FORBIDDEN',             // the user's role may not do this, or a changing request lacks its CSRF token (HTTP 403)
  'RATE_LIMITED',          // a user passed its lookups per minute (HTTP 429 with Retry-After)
  'AUDIT_FAILED',          // the audit entry of a lookup could not be written, so no answer is given (exit 1, HTTP 503)
  'AUDIT_TAMPERED',        // `audit verify` found an entry changed, removed or reordered (exit 1)
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes that mean the user's input was refused: the CLI exits 2 for these, 1 otherwise. */
export const INPUT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE', 'INPUT_UNREADABLE', 'FORMAT_UNKNOWN', 'REGISTRY_INVALID', 'TIME_INVALID',
  'NUMBER_INVALID', 'KEY_INVALID', 'CONFIG_INVALID',
  'FILE_UNSAFE',
]);

export interface LeakscopeErrorOptions {
  cause?: unknown;
  /** True when the same call may succeed if tried again (a store or broker that is down). */
  retryable?: boolean;
  /** Every problem found, each prefixed by where it is (`partners[3].domains[1]: …`). */
  problems?: readonly string[];
}

export class LeakscopeError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly problems: readonly string[];

  constructor(code: ErrorCode, message: string, options: LeakscopeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LeakscopeError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.problems = options.problems ?? [];
  }
}

export function isLeakscopeError(value: unknown): value is LeakscopeError {
  return value instanceof LeakscopeError;
}
