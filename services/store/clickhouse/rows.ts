// StoredDisclosure → one JSONEachRow row (an object the client serialises) of the `disclosures`
// table. JSON.stringify does the escaping of the data; every string is first checked with the literal module's
// checkText, so what cannot round-trip (a lone surrogate) is refused, not mangled.
import { LeakscopeError } from '../../core/errors.js';
import { VERDICTS } from '../../core/types.js';
import { DISCLOSURE_COLUMNS, DISCLOSURE_COLUMN_NAMES } from '../columns.js';
import type { StoredDisclosure } from '../types.js';
import { checkText } from './literal.js';

/** The columns of `disclosures`, in the table's order: the shared list (services/store/columns.ts). */
export const CLICKHOUSE_COLUMNS: readonly string[] = DISCLOSURE_COLUMN_NAMES;

/** Columns that hold '' for null: part of a sorting key, which cannot be Nullable on 18.16. */
const EMPTY_FOR_NULL: ReadonlySet<string> = new Set(['subscriber_hash']);

const VERDICT_SET: ReadonlySet<string> = new Set(VERDICTS);

function bad(d: StoredDisclosure, field: string, expected: string): never {
  throw new LeakscopeError('STORE_FAILED',
    `disclosure ${JSON.stringify(String(d.id).slice(0, 100))}: ${field} is ${JSON.stringify(String((d as unknown as Record<string, unknown>)[field]).slice(0, 100))}; expected ${expected}`,
    { retryable: false });
}

function text(d: StoredDisclosure, field: keyof StoredDisclosure & string, value: string): string {
  if (typeof value !== 'string') bad(d, field, 'a string');
  return checkText(value, () => `disclosure ${JSON.stringify(String(d.id).slice(0, 100))} ${field}`);
}

function optionalText(d: StoredDisclosure, field: keyof StoredDisclosure & string, value: string | null): string | null {
  return value === null ? null : text(d, field, value);
}

export function disclosureRow(d: StoredDisclosure): Record<string, unknown> {
  if (!Number.isSafeInteger(d.ts) || d.ts < 0) bad(d, 'ts', 'epoch milliseconds, a non-negative integer');
  if (!VERDICT_SET.has(d.verdict)) bad(d, 'verdict', `one of ${VERDICTS.join(', ')}`);
  if (d.status !== null && !(Number.isInteger(d.status) && d.status >= 0 && d.status <= 2_147_483_647)) bad(d, 'status', 'an HTTP status or null');
  if (!Array.isArray(d.channels)) bad(d, 'channels', 'an array of channels');
  if (d.subscriberHash === '') bad(d, 'subscriberHash', 'a hash or null (the empty string stands for null in ClickHouse)');
  if (d.partnerId === '') bad(d, 'partnerId', 'a partner id or null (the empty string stands for null in the rollups)');
  if (d.id === '') bad(d, 'id', 'a non-empty id');
  return buildRow(d);
}

/**
 * The row of `disclosures` as one object literal compiled from DISCLOSURE_COLUMNS (a fixed
 * shape, no per-column lookups): every string checked by `text`, null subscriber hashes as ''.
 */
const buildRow = ((): ((d: StoredDisclosure) => Record<string, unknown>) => {
  const body = DISCLOSURE_COLUMNS.map((c) => {
    const field = JSON.stringify(c.field);
    const v = `d[${field}]`;
    let encoded: string;
    if (c.kind === 'text') {
      const checked = `text(d, ${field}, ${v})`;
      encoded = !c.nullable ? checked : EMPTY_FOR_NULL.has(c.name) ? `${v} === null ? '' : ${checked}` : `${v} === null ? null : ${checked}`;
    } else if (c.kind === 'text[]') {
      encoded = `${v}.map((x) => text(d, ${field}, x))`;
    } else {
      encoded = v;
    }
    return `${JSON.stringify(c.name)}: ${encoded}`;
  }).join(',\n');
  return new Function('text', `return function buildRow(d) { return {\n${body}\n}; };`)(text) as (d: StoredDisclosure) => Record<string, unknown>;
})();
