// The last step shared by the column-based parsers (W3C, CSV/TSV, Squid): the fields a line
// gave, already split and named, become where the request went and the GatewayRequest itself.
import type { GatewayRequest, ParseResult } from '../types.js';
import { requestKeyOf } from './request-key.js';
import { parsePortText, parseTarget, splitHostPort, splitPathQuery, type Parsed } from './target.js';

type Headers = ReadonlyArray<readonly [string, string]>;

/** The fields of one line that say where its request went; null where the line has none. */
export interface TargetFields {
  uri: string | null;
  scheme: string | null;
  host: string | null;
  port: string | null;
  path: string | null;
  query: string | null;
}

/** What the writer calls those fields, for the reasons of a reject. */
export interface TargetFieldNames {
  uri: string;
  host: string;
  port: string;
  /** The reason when no field, no URL and no Host header gives a host. */
  missingHost: string;
}

export interface Target {
  scheme: string | null;
  host: string;
  port: number | null;
  path: string;
  query: string;
}

/**
 * Where the request went. A full URL gives everything it holds; a scheme, host, port, path or
 * query field given beside it overrides that part; with no host field and no host in the URL
 * the first non-empty Host header is the host.
 */
export function assembleTarget(fields: TargetFields, headers: Headers, names: TargetFieldNames): Parsed<Target> {
  let scheme: string | null = null;
  let host: string | null = null;
  let port: number | null = null;
  let path = '';
  let query = '';
  if (fields.uri !== null) {
    const t = parseTarget(fields.uri);
    if (!t.ok) return { ok: false, reason: `${names.uri}: ${t.reason}` };
    scheme = t.value.scheme;
    if (t.value.host !== null) {
      host = t.value.host.host;
      port = t.value.host.port;
    }
    path = t.value.path;
    query = t.value.query;
  }
  if (fields.scheme !== null) scheme = fields.scheme.toLowerCase();
  let authority = fields.host;
  if (authority === null && host === null) authority = headers.find(([name, value]) => name === 'host' && value.length > 0)?.[1] ?? null;
  if (authority !== null) {
    const hp = splitHostPort(authority);
    if (!hp.ok) return { ok: false, reason: `${names.host}: ${hp.reason}` };
    host = hp.value.host;
    if (hp.value.port !== null) port = hp.value.port;
  }
  if (host === null) return { ok: false, reason: names.missingHost };
  if (fields.port !== null) {
    const p = parsePortText(fields.port);
    if (!p.ok) return { ok: false, reason: `${names.port}: ${p.reason}` };
    port = p.value;
  }
  if (fields.path !== null) {
    if (fields.query === null && fields.uri === null) {
      // A path logged with its query attached and no query field.
      ({ path, query } = splitPathQuery(fields.path));
    } else {
      path = fields.path;
    }
  }
  if (fields.query !== null) query = fields.query.charCodeAt(0) === 63 /* ? */ ? fields.query.slice(1) : fields.query;
  return { ok: true, value: { scheme, host, port, path, query } };
}

/** The fields of a line that are carried to the request as they were logged. */
export type CarriedFields = Pick<GatewayRequest, 'gatewayId' | 'requestId' | 'msisdn' | 'bearer' | 'clientIp' | 'method'>;

/**
 * The request of one line, its target assembled from `fields`. `text` is the line as read,
 * hashed for the request's identity when it has no gateway and request id.
 */
export function assembleRequest(
  text: string, ts: number, carried: CarriedFields, fields: TargetFields, names: TargetFieldNames,
  headers: Headers, status: number | null, bytes: number | null,
): ParseResult {
  const target = assembleTarget(fields, headers, names);
  if (!target.ok) return target;
  const { scheme, host, port, path, query } = target.value;
  const request: GatewayRequest = {
    ts,
    requestKey: requestKeyOf(carried.gatewayId, carried.requestId, text),
    gatewayId: carried.gatewayId,
    requestId: carried.requestId,
    msisdn: carried.msisdn,
    bearer: carried.bearer,
    clientIp: carried.clientIp,
    method: carried.method,
    scheme, host, port, path, query,
    headers,
    status,
    bytes,
  };
  return { ok: true, request };
}
