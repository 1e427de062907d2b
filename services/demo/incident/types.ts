// Records the generator passes between its parts: one generated request, with what the
// generator knows about it (the truth) next to what goes on the wire (the log line).

export type GatewayId = 'gw-lon-01' | 'gw-man-02' | 'gw-gla-03';
export const GATEWAY_IDS: readonly GatewayId[] = ['gw-lon-01', 'gw-man-02', 'gw-gla-03'];

export type LogFormatChoice = 'split' | 'ndjson' | 'w3c';

/** `cs`: the client sent it; `sr`: the gateway added it (W3C `cs(…)` / `sr(…)` columns). */
export type HeaderOrigin = 'cs' | 'sr';

export interface GenHeader {
  /** Canonical spelling, e.g. `X-UP-Calling-Line-ID`; a file may write it in another case. */
  name: string;
  value: string;
  origin: HeaderOrigin;
}

export interface GenRequest {
  ts: number;
  gatewayId: GatewayId;
  /** Session subscriber, E.164 digits without `+`; null for Wi-Fi. */
  msisdn: string | null;
  bearer: string;
  clientIp: string;
  method: string;
  scheme: 'http';
  /** Host exactly as logged (may be upper-case, end in a dot, be Unicode). */
  host: string;
  port: number | null;
  path: string;
  /** Without `?`; '' when none. */
  query: string;
  headers: GenHeader[];
  status: number;
  bytes: number;
  /** What the gateway did (ProxySG `s-action`): TCP_DENIED requests were never forwarded. Default TCP_NC_MISS. */
  action?: string;

  // ---- generation knowledge (never written to the logs) ----
  /** Channels the generator put an identifier on (`url`, `referer`, `header:<lower-case>`). */
  channels: Set<string>;
  /** Disclosed subscriber, E.164 digits; null when nothing or only a token without a session. */
  subscriber: string | null;
  /** The tricky case this request was built for, or null for ordinary traffic. */
  caseKind: string | null;
}

export interface RejectEvent {
  ts: number;
  gatewayId: GatewayId;
  kind: RejectKind;
}

export type RejectKind = 'bad_json' | 'missing_ts' | 'bad_field_count' | 'unterminated_quote';
