// The one way a value reaches ClickHouse SQL. ClickHouse 18.16 has no server-side query
// parameters, so SQL text is built with the `sql` tag, which accepts only `Sql` fragments;
// a fragment comes from a constant template or from one of the typed formatters below,
// each of which validates its value and escapes it. A plain string cannot be interpolated.
import { LeakscopeError } from '../../core/errors.js';

const BRAND: unique symbol = Symbol('leakscope.sql');

/** A piece of SQL text known to be safe: a constant, a formatted literal or a validated identifier. */
export interface Sql {
  readonly [BRAND]: true;
  readonly text: string;
}

function fragment(text: string): Sql {
  return Object.freeze({ [BRAND]: true as const, text });
}

function isSql(value: unknown): value is Sql {
  return typeof value === 'object' && value !== null && (value as Partial<Sql>)[BRAND] === true;
}

/** Template tag: constant SQL text with `Sql` fragments (literals, identifiers, sub-queries) in it. */
export function sql(strings: TemplateStringsArray, ...values: readonly Sql[]): Sql {
  let text = strings[0] ?? '';
  values.forEach((value, i) => {
    // Guard for callers that bypass the type checker (plain JS, `as any`).
    if (!isSql(value)) refuse(`a ${typeof value} was interpolated into SQL; wrap it in a typed literal`);
    text += value.text + (strings[i + 1] ?? '');
  });
  return fragment(text);
}

/** Joins fragments with a constant separator (`, `, ` AND `, ` UNION ALL `). */
export function joinSql(parts: readonly Sql[], separator: ', ' | ' AND ' | ' OR ' | ' UNION ALL ' | '\n'): Sql {
  for (const p of parts) if (!isSql(p)) refuse('joinSql takes only Sql fragments');
  return fragment(parts.map((p) => p.text).join(separator));
}

function refuse(message: string): never {
  throw new LeakscopeError('STORE_FAILED', `ClickHouse literal refused: ${message}`, { retryable: false });
}

/**
 * Longest string literal accepted, in UTF-16 code units. ClickHouse parses at most
 * `max_query_size` bytes of query text (256 KiB by default); the values we filter on
 * (hashes, sites, ids) are short, so a huge one is a bug or an attack, refused up front.
 */
export const MAX_STRING_LITERAL = 65_536;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks that a string can travel to ClickHouse and back unchanged: well-formed UTF-16 (a
 * lone surrogate has no UTF-8 encoding and would come back as U+FFFD). Used for literals
 * and for the JSON rows of inserts alike.
 */
export function checkText(value: string, what: string | (() => string) = 'string'): string {
  // Well-formed strings (all but a corrupt few) pass without the name of what they are being built.
  if (typeof value === 'string' && !LONE_SURROGATE.test(value)) return value;
  if (typeof what === 'function') what = what();
  if (typeof value !== 'string') refuse(`${what} is a ${typeof value}, not a string`);
  if (LONE_SURROGATE.test(value)) refuse(`${what} holds a lone UTF-16 surrogate, which has no UTF-8 form`);
  return value;
}

/**
 * A String literal. Backslash and quote are escaped, and so is every ASCII control
 * character (NUL included) as `\xHH`: ClickHouse decodes all three forms in 18.16 and in
 * current releases, and the SQL text then never holds a raw control byte. Non-ASCII text
 * travels as UTF-8 unchanged.
 */
export function str(value: string): Sql {
  checkText(value);
  if (value.length > MAX_STRING_LITERAL) refuse(`string of ${value.length} characters is longer than ${MAX_STRING_LITERAL}`);
  let out = "'";
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return fragment(`${out}'`);
}

/** An integer literal (Int64/UInt64 columns): a safe integer or a bigint within Int64/UInt64 range. */
export function int(value: number | bigint): Sql {
  if (typeof value === 'bigint') {
    if (value < -(2n ** 63n) || value >= 2n ** 64n) refuse(`integer ${value} is outside Int64/UInt64`);
    return fragment(value < 0n ? `(${value})` : value.toString());
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) refuse(`${String(value)} is not a safe integer`);
  // Parenthesised so that `x -${int(-1)}` can never read as a `--` comment.
  return fragment(value < 0 ? `(${value})` : String(value));
}

/** A Float64 literal: finite numbers only (NaN and ±Infinity are refused, not smuggled in). */
export function float(value: number): Sql {
  if (typeof value !== 'number' || !Number.isFinite(value)) refuse(`${String(value)} is not a finite number`);
  const text = Object.is(value, -0) ? '0' : String(value);
  return fragment(value < 0 ? `(${text})` : text);
}

/** Identifiers (databases, tables, columns): ASCII letter or underscore, then letters, digits, underscores; at most 64. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A database, table or column name, validated against IDENTIFIER and back-quoted. */
export function ident(name: string): Sql {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    refuse(`${JSON.stringify(name)} is not an identifier (expected ${IDENTIFIER.source})`);
  }
  return fragment(`\`${name}\``);
}

/**
 * A piece of a fragment's text, from `start` to `end`. For rewriting statements this module's
 * own builders made (cluster.ts turns the single-server DDL into its cluster form); the caller
 * cuts only at token boundaries it matched, never inside a literal.
 */
export function sliceSql(source: Sql, start: number, end?: number): Sql {
  if (!isSql(source)) refuse('sliceSql takes only Sql fragments');
  return fragment(source.text.slice(start, end));
}

/** `db`.`table`, both validated. */
export function qualified(database: string, table: string): Sql {
  return sql`${ident(database)}.${ident(table)}`;
}

/** NULL, or the value through its own formatter. */
export function nullable<T>(value: T | null, format: (v: T) => Sql): Sql {
  return value === null ? fragment('NULL') : format(value);
}

/** An array literal, each element through the given formatter. */
export function array<T>(values: readonly T[], format: (v: T) => Sql): Sql {
  if (!Array.isArray(values)) refuse('array literal given a non-array');
  return fragment(`[${values.map((v) => format(v).text).join(', ')}]`);
}
