// The stored disclosure's columns, defined once. Every encoder derives from this list: the
// DuckDB table and its staging batches, the ClickHouse rows, the Avro Disclosure record. A
// column added here reaches all of them; one written out by hand in one place would drift.
// (ClickHouse's table is created by a released migration, whose text never changes: a new
// column needs a new migration there, and a test checks the table against this list.)
import type { StoredDisclosure } from './types.js';

/** What a column holds: strings, epoch-ms times (64-bit), small integers, lists of strings, a verdict name. */
export type ColumnKind = 'text' | 'time' | 'int32' | 'text[]' | 'verdict';

export interface DisclosureColumn {
  /** The column's name in every store, and the Avro field's unless `avro` says otherwise. */
  readonly name: string;
  /** The StoredDisclosure field it holds. */
  readonly field: keyof StoredDisclosure;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  /** The Avro field's name when it differs (schemas/Disclosure.avsc is released: names stay). */
  readonly avro?: string;
}

function column(name: string, field: keyof StoredDisclosure, kind: ColumnKind, nullable = false, avro?: string): DisclosureColumn {
  // Encoders are compiled from these names (duckdb/staging-format.ts): plain identifiers only.
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || !/^[A-Za-z]+$/.test(field)) throw new Error(`column ${name}/${String(field)}: not a plain identifier`);
  return Object.freeze(avro === undefined ? { name, field, kind, nullable } : { name, field, kind, nullable, avro });
}

export const DISCLOSURE_COLUMNS: readonly DisclosureColumn[] = Object.freeze([
  column('id', 'id', 'text'),                              // deterministic from the request key and time
  column('request_key', 'requestKey', 'text'),
  column('ts_ms', 'ts', 'time', false, 'ts'),              // request time, epoch ms UTC
  column('host', 'host', 'text'),                          // lower-case ASCII, punycode
  column('site', 'site', 'text'),                          // registrable domain of host
  column('subscriber_hash', 'subscriberHash', 'text', true), // HMAC-SHA-256 hex; null for a token only
  column('subscriber_masked', 'subscriberMasked', 'text', true),
  column('subscriber_enc', 'subscriberEnc', 'text', true),   // AES-256-GCM; null without an encryption key
  column('channels', 'channels', 'text[]'),
  column('verdict', 'verdict', 'verdict'),
  column('partner_id', 'partnerId', 'text', true),
  column('registry_version', 'registryVersion', 'text'),
  column('gateway_id', 'gatewayId', 'text', true),
  column('bearer', 'bearer', 'text', true),
  column('method', 'method', 'text', true),
  column('scheme', 'scheme', 'text', true),
  column('path', 'path', 'text'),
  column('query_masked', 'queryMasked', 'text'),           // the subscriber's number masked
  column('status', 'status', 'int32', true),
]);

export const DISCLOSURE_COLUMN_NAMES: readonly string[] = Object.freeze(DISCLOSURE_COLUMNS.map((c) => c.name));

/** The Avro field name of a column. */
export function avroName(c: DisclosureColumn): string {
  return c.avro ?? c.name;
}
