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
  return checkText(value, `disclosure ${JSON.stringify(String(d.id).slice(0, 100))} ${field}`);
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
  const row: Record<string, unknown> = {};
  const fields = d as unknown as Record<string, unknown>;
  for (const c of DISCLOSURE_COLUMNS) {
    const value = fields[c.field];
    if (c.kind === 'text') {
      // Sorting keys cannot be Nullable in 18.16: a missing subscriber is '' there (refused above as a value).
      if (value === null && EMPTY_FOR_NULL.has(c.name)) row[c.name] = '';
      else row[c.name] = c.nullable ? optionalText(d, c.field, value as string | null) : text(d, c.field, value as string);
    } else if (c.kind === 'text[]') {
      row[c.name] = (value as string[]).map((v) => text(d, c.field, v));
    } else {
      row[c.name] = value;
    }
  }
  return row;
}
