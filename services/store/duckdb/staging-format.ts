// How a batch travels to DuckDB: NDJSON with one object per disclosure, keyed by column name,
// which DuckDB's read_json parses on its own threads into the staging table. Encoding needs no
// DuckDB, so scan workers do it and the main thread, the single writer, only hands text over.
// Import this file directly (not the duckdb index) where the native module must not load.
import type { StoredDisclosure } from '../types.js';

/** A batch encoded for the staging table. */
export interface EncodedBatch {
  ndjson: string;
  rows: number;
}

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// Lone UTF-16 surrogates cannot be stored as UTF-8; they become U+FFFD, as they would when a
// string is handed to DuckDB any other way. A value that is not a string is passed on, so a
// broken record fails in the INSERT, inside its batch's transaction.
function text(value: string): string {
  return typeof value === 'string' && SURROGATE.test(value) ? value.replace(LONE_SURROGATE, '\uFFFD') : value;
}

function maybe(value: string | null): string | null {
  return value === null ? null : text(value);
}

export function encodeStaging(batch: readonly StoredDisclosure[]): EncodedBatch {
  const lines = new Array<string>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const d = batch[i]!;
    lines[i] = JSON.stringify({
      id: text(d.id),
      request_key: text(d.requestKey),
      ts_ms: d.ts,
      host: text(d.host),
      site: text(d.site),
      subscriber_hash: d.subscriberHash,
      subscriber_masked: d.subscriberMasked,
      subscriber_enc: d.subscriberEnc,
      channels: d.channels.map(text),
      verdict: d.verdict,
      partner_id: maybe(d.partnerId),
      registry_version: text(d.registryVersion),
      gateway_id: maybe(d.gatewayId),
      bearer: maybe(d.bearer),
      method: maybe(d.method),
      scheme: maybe(d.scheme),
      path: text(d.path),
      query_masked: text(d.queryMasked),
      status: d.status,
    });
  }
  return { ndjson: lines.join('\n') + '\n', rows: batch.length };
}
