// The plain typed records that sources, the detection core and sinks exchange.
// Nothing here does I/O; every adapter (files, Kafka, DuckDB, ClickHouse) speaks these.

/** One request as the gateway forwarded it upstream, after parsing either log format. */
export interface GatewayRequest {
  /** Epoch milliseconds, UTC. */
  ts: number;
  /** Stable identity: `gateway_id:request_id` when both exist, else `h:` + hash of the raw record. */
  requestKey: string;
  gatewayId: string | null;
  requestId: string | null;
  /** The session's subscriber as the gateway knows it (RADIUS), as logged; null for Wi-Fi/unknown. */
  msisdn: string | null;
  bearer: string | null;
  clientIp: string | null;
  method: string | null;
  scheme: string | null;
  /** Host as logged (not yet normalised); port stripped into `port`. */
  host: string;
  port: number | null;
  /** Path without the query, e.g. `/news`; '' when absent. */
  path: string;
  /** Query string without the leading `?`; '' when absent. */
  query: string;
  /**
   * Headers forwarded upstream, names lower-cased. A header with several values appears
   * several times. Order is the log's order.
   */
  headers: ReadonlyArray<readonly [name: string, value: string]>;
  status: number | null;
  bytes: number | null;
}

/** A line that could not be read. Never dropped: it goes to the rejects file or the DLQ. */
export interface RejectRecord {
  /** File path, `-` for stdin, or `topic/partition@offset` for Kafka. */
  source: string;
  /** 1-based line number within the source (0 when not line-based). */
  line: number;
  reason: string;
  raw: string;
}

/** What one source line became. */
export type ParseResult =
  | { ok: true; request: GatewayRequest }
  | { ok: false; reason: string }
  | { ok: 'skip' } // a directive or comment line (W3C `#…`) or a blank line: not a request
  | { ok: 'not_forwarded' }; // a request the gateway refused (ProxySG TCP_DENIED, Squid TCP_DENIED/403): counted, never judged

/** The syntaxes lines are read in; `squid` and `csv` need a profile (a built-in one by default). */
export type LogFormat = 'ndjson' | 'w3c' | 'squid' | 'csv';

export const VERDICTS = [
  'authorized',
  'identifier_not_allowed',
  'partner_inactive',
  'unauthorized_recipient',
] as const;
export type Verdict = (typeof VERDICTS)[number];

/** `url`, `referer` or `header:<lower-case name>`. */
export type Channel = string;

/** A request that disclosed a subscriber identifier, with its verdict. Produced by the core. */
export interface Disclosure {
  /** Deterministic: derived from requestKey only, so a replayed request gets the same id. */
  id: string;
  requestKey: string;
  ts: number;
  /** Recipient host: lower-case ASCII, punycode for IDNs, no port, no trailing dot. */
  host: string;
  /** Registrable domain of host (Public Suffix List); an IP literal is its own site. */
  site: string;
  /** Subscriber as E.164 with `+`, or null when only a token (not a number) was disclosed. */
  subscriber: string | null;
  /** Sorted, distinct. */
  channels: readonly Channel[];
  verdict: Verdict;
  /** The partner that decided the verdict; null only for `unauthorized_recipient`. */
  partnerId: string | null;
  registryVersion: string;
  gatewayId: string | null;
  bearer: string | null;
  method: string | null;
  scheme: string | null;
  path: string;
  /** Query string with the subscriber's number masked wherever it appears. */
  queryMasked: string;
  status: number | null;
}

/** One validity period of a partner, as loaded from the registry. */
export interface PartnerEntry {
  id: string;
  name: string;
  purposes: readonly string[];
  /** Normalised patterns: `example.com` or `*.example.com`, lower-case ASCII. */
  domains: readonly string[];
  /** Lower-case header names, and/or the words `url` and `referer`. */
  identifiers: readonly string[];
  /** Epoch ms, inclusive; null = always. */
  validFrom: number | null;
  /** Epoch ms, exclusive; null = open-ended. */
  validTo: number | null;
}

export interface Registry {
  version: string;
  /** ISO 3166-1 alpha-2, for numbers in national format. */
  region: string;
  /** Extra identity header names (lower-case), added to the built-in list. */
  identityHeaders: readonly string[];
  partners: readonly PartnerEntry[];
}

/** A partner entry that matched a host, with how specific the matching pattern was. */
export interface PartnerMatch {
  entry: PartnerEntry;
  /** The pattern that matched, normalised. */
  pattern: string;
  /** Number of labels of the pattern; an exact pattern ranks above a wildcard of equal length. */
  specificity: number;
}

/** The registry made ready for lookups: built once, read by every request. */
export interface RegistrySnapshot {
  readonly registry: Registry;
  /** Lower-case identity header names: built-in list plus the registry's. */
  readonly identityHeaders: ReadonlySet<string>;
  /** Every partner entry whose pattern matches the (already normalised) host, most specific first, regardless of time. */
  matchHost(host: string): readonly PartnerMatch[];
}
