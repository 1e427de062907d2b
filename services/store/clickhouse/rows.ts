// StoredDisclosure → one JSONEachRow row (an object the client serialises) of the `disclosures`
// table. JSON.stringify does the escaping of the data; every string is first checked with the literal module's
// checkText, so what cannot round-trip (a lone surrogate) is refused, not mangled.
import { LeakscopeError } from '../../core/errors.js';
import { VERDICTS } from '../../core/types.js';
import type { StoredDisclosure } from '../types.js';
import { checkText } from './literal.js';

export const DISCLOSURE_COLUMNS = [
  'id', 'request_key', 'ts_ms', 'host', 'site', 'subscriber_hash', 'subscriber_masked', 'subscriber_enc', 'channels',
  'verdict', 'partner_id', 'registry_version', 'gateway_id', 'bearer', 'method', 'scheme', 'path', 'query_masked', 'status',
] as const;

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
  const row = {
    id: text(d, 'id', d.id),
    request_key: text(d, 'requestKey', d.requestKey),
    ts_ms: d.ts,
    host: text(d, 'host', d.host),
    site: text(d, 'site', d.site),
    subscriber_hash: d.subscriberHash === null ? '' : text(d, 'subscriberHash', d.subscriberHash),
    subscriber_masked: optionalText(d, 'subscriberMasked', d.subscriberMasked),
    subscriber_enc: optionalText(d, 'subscriberEnc', d.subscriberEnc),
    channels: d.channels.map((c) => text(d, 'channels', c)),
    verdict: d.verdict,
    partner_id: optionalText(d, 'partnerId', d.partnerId),
    registry_version: text(d, 'registryVersion', d.registryVersion),
    gateway_id: optionalText(d, 'gatewayId', d.gatewayId),
    bearer: optionalText(d, 'bearer', d.bearer),
    method: optionalText(d, 'method', d.method),
    scheme: optionalText(d, 'scheme', d.scheme),
    path: text(d, 'path', d.path),
    query_masked: text(d, 'queryMasked', d.queryMasked),
    status: d.status,
  };
  return row;
}
