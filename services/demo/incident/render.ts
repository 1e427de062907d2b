// Log-line renderers: the same generated request as an NDJSON record or a W3C extended log
// line, plus the deliberately broken lines each format gets. Pure string building.
import type { GenHeader, GenRequest, RejectKind } from './types.js';

export interface NdjsonStyle {
  /** Write header names in lower case (one gateway's exporter does). */
  lowerCaseNames: boolean;
  /** Write the session msisdn with a leading `+`. */
  plusMsisdn: boolean;
}

/** Per-line spelling variations, chosen by the caller from the line's sequence number. */
export interface NdjsonVariant {
  tsForm: 'iso' | 'epoch_ms' | 'offset';
  /** `host`/`scheme`/`port`/`path`/`query` fields instead of `url`. */
  hostFields: boolean;
  /** Add an `Accept` header written as an array of values. */
  acceptArray: boolean;
}

function isoWithOffset(ts: number, offsetMinutes: number): string {
  const local = new Date(ts + offsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export function hostWithPort(req: GenRequest): string {
  return req.port === null ? req.host : `${req.host}:${req.port}`;
}

export function requestUrl(req: GenRequest): string {
  return `${req.scheme}://${hostWithPort(req)}${req.path}${req.query ? `?${req.query}` : ''}`;
}

export function renderNdjson(req: GenRequest, requestId: string, style: NdjsonStyle, variant: NdjsonVariant): string {
  const name = (h: string): string => (style.lowerCaseNames ? h.toLowerCase() : h);
  const headers: Record<string, string | string[]> = { [name('Host')]: hostWithPort(req) };
  for (const h of req.headers) headers[name(h.name)] = h.value;
  if (variant.acceptArray) headers[name('Accept')] = ['text/html', 'application/xhtml+xml', '*/*;q=0.8'];
  const ts = variant.tsForm === 'epoch_ms' ? req.ts : variant.tsForm === 'offset' ? isoWithOffset(req.ts, 60) : new Date(req.ts).toISOString();
  const record: Record<string, unknown> = {
    ts,
    gateway_id: req.gatewayId,
    request_id: requestId,
    msisdn: req.msisdn === null ? null : style.plusMsisdn ? `+${req.msisdn}` : req.msisdn,
    bearer: req.bearer,
    client_ip: req.clientIp,
    method: req.method,
  };
  if (variant.hostFields) {
    record['scheme'] = req.scheme;
    record['host'] = req.host;
    if (req.port !== null) record['port'] = req.port;
    record['path'] = req.path;
    if (req.query) record['query'] = req.query;
  } else {
    record['url'] = requestUrl(req);
  }
  record['headers'] = headers;
  record['status'] = req.status;
  record['bytes'] = req.bytes;
  return JSON.stringify(record);
}

/** Columns a W3C file can carry; the header columns cover every header the generator uses. */
const W3C_LAYOUT_A = [
  'date', 'time', 'x-gateway-id', 'x-request-id', 'x-msisdn', 'x-bearer', 'c-ip', 'cs-method', 'cs-uri-scheme',
  'cs-host', 'cs-uri-port', 'cs-uri-path', 'cs-uri-query', 'sc-status', 'sc-bytes', 'cs(User-Agent)',
  'cs(Referer)', 'cs(Cookie)', 'sr(X-UP-Calling-Line-ID)', 'sr(X-MSISDN)', 'sr(X-ACR)', 'sr(X-O2-Subscriber)',
  'sr(X-Network-Info)', 'sr(X-Debug)', 'sr(X-Subscriber-Ref)', 'sr(X-Trace)', 's-action',
] as const;
/** After the mid-file `#Fields:` re-declaration: same columns, another order. */
const W3C_LAYOUT_B = [
  'date', 'time', 'x-gateway-id', 'x-request-id', 'cs-method', 'cs-host', 'cs-uri-port', 'cs-uri-path',
  'cs-uri-query', 'cs-uri-scheme', 'x-msisdn', 'x-bearer', 'c-ip', 'sr(X-UP-Calling-Line-ID)', 'sr(X-MSISDN)',
  'sr(X-ACR)', 'sr(X-O2-Subscriber)', 'sr(X-Network-Info)', 'sr(X-Debug)', 'sr(X-Subscriber-Ref)', 'sr(X-Trace)',
  'cs(User-Agent)', 'cs(Referer)', 'cs(Cookie)', 'sc-status', 'sc-bytes', 's-action',
] as const;
export type W3cLayout = 'A' | 'B';
const LAYOUTS: Record<W3cLayout, readonly string[]> = { A: W3C_LAYOUT_A, B: W3C_LAYOUT_B };

/** Where the W3C files switch layout: the first line at or after this time follows `#Fields` B. */
export const W3C_REDECLARE_AT = Date.UTC(2012, 0, 16);

export function w3cPreamble(gatewayId: string): string[] {
  return [
    '#Version: 1.0',
    // A Blue Coat ProxySG doing the enrichment: its s-action field says which requests it
    // denied (TCP_DENIED), which never reached the site and are no disclosure.
    `#Software: SGOS 6.7.5.3 (ProxySG, ${gatewayId})`,
    '#Date: 2012-01-01 00:00:00',
    `#Fields: ${W3C_LAYOUT_A.join(' ')}`,
  ];
}

export function w3cRedeclaration(): string[] {
  return ['# exporter restarted after configuration reload', `#Fields: ${W3C_LAYOUT_B.join(' ')}`];
}

function w3cValue(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  const s = String(value);
  if (/[\s"]/.test(s)) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

function w3cFieldValues(req: GenRequest, requestId: string): Map<string, string | number | null> {
  const iso = new Date(req.ts).toISOString();
  const ms = req.ts % 1000;
  const v = new Map<string, string | number | null>([
    ['date', iso.slice(0, 10)],
    ['time', ms === 0 ? iso.slice(11, 19) : iso.slice(11, 23)],
    ['x-gateway-id', req.gatewayId],
    ['x-request-id', requestId],
    ['x-msisdn', req.msisdn],
    ['x-bearer', req.bearer],
    ['c-ip', req.clientIp],
    ['cs-method', req.method],
    ['cs-uri-scheme', req.scheme],
    ['cs-host', req.host],
    ['cs-uri-port', req.port ?? 80],
    ['cs-uri-path', req.path],
    ['cs-uri-query', req.query],
    ['sc-status', req.status],
    ['sc-bytes', req.bytes],
    ['s-action', req.action ?? 'TCP_NC_MISS'],
  ]);
  for (const h of req.headers) {
    const key = `${h.origin}(${h.name})`;
    if (!LAYOUTS.A.includes(key)) throw new Error(`no W3C column for header ${key}`);
    v.set(key, h.value);
  }
  return v;
}

export function renderW3c(req: GenRequest, requestId: string, layout: W3cLayout): string {
  const values = w3cFieldValues(req, requestId);
  return LAYOUTS[layout].map((f) => w3cValue(values.get(f))).join(' ');
}

/** A line that a reader must reject (never drop). `sample` is a rendered good line of the same file. */
export function renderReject(kind: RejectKind, ts: number, gatewayId: string, seq: number): string {
  const iso = new Date(ts).toISOString();
  switch (kind) {
    case 'bad_json':
      // The exporter was killed mid-write: a record cut off inside a string.
      return `{"ts":"${iso}","gateway_id":"${gatewayId}","request_id":"${gatewayId}:x${seq}","msisdn":"447700900999","url":"http://www.news.co.uk/spo`;
    case 'missing_ts':
      return JSON.stringify({
        gateway_id: gatewayId,
        request_id: `${gatewayId}:x${seq}`,
        msisdn: '447700900999',
        url: 'http://www.news.co.uk/',
        headers: { Host: 'www.news.co.uk', 'X-UP-Calling-Line-ID': '447700900999' },
      });
    case 'bad_field_count':
      return `${iso.slice(0, 10)} ${iso.slice(11, 23)} ${gatewayId} ${gatewayId}:x${seq} 447700900999 3g 10.0.0.1 GET http`;
    case 'unterminated_quote': {
      const cols = W3C_LAYOUT_A.length;
      const head = [iso.slice(0, 10), iso.slice(11, 23), gatewayId, `${gatewayId}:x${seq}`, '447700900999', '3g', '10.0.0.1', 'GET', 'http', 'www.news.co.uk', '80', '/', '-', '200', '512'];
      // The User-Agent opens a quote that never closes; the rest of the line is swallowed.
      return [...head, '"Mozilla/5.0 (Linux; U; Android 2.3.6', ...Array(cols - head.length - 1).fill('-')].join(' ');
    }
  }
}

export function headerValue(req: GenRequest, name: string): GenHeader | undefined {
  const lower = name.toLowerCase();
  return req.headers.find((h) => h.name.toLowerCase() === lower);
}
