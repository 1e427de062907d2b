// The detection core: one gateway request and the registry snapshot valid for it in, a
// Disclosure (with its verdict) or null out. Pure: no clock, no I/O, no logging; the only
// state is memoisation of number parsing and sites, which never changes an answer.
import { hash } from 'node:crypto';
import type { Channel, Disclosure, GatewayRequest, PartnerEntry, PartnerMatch, RegistrySnapshot, Verdict } from '../types.js';
import { BUILTIN_IDENTITY_HEADERS, isIpLiteral, normalizeHost } from '../registry/index.js';
import { findNumber, firstNumberIn, normalizeNumber, type NumberForms } from './numbers.js';
import { holdsFewerDigits, redact, searchable } from './redact.js';
import { siteOf } from './site.js';

/** Identity headers whose value is a token or a device id, never the number itself. */
const NON_NUMBER_HEADERS: ReadonlySet<string> = new Set(
  BUILTIN_IDENTITY_HEADERS.filter((h) => h.kind === 'token' || h.kind === 'imsi').map((h) => h.name),
);

export interface Verdicting {
  verdict: Verdict;
  partnerId: string | null;
}

/**
 * Classifies one request. Returns null when it discloses nothing (no identity header with
 * a value, and the subscriber's number appears in no header, URL or Referer).
 */
export function detect(request: GatewayRequest, snapshot: RegistrySnapshot): Disclosure | null {
  const region = snapshot.registry.region;
  let number: NumberForms | null = request.msisdn ? normalizeNumber(request.msisdn, region) : null;
  // Allocated only for the minority of requests that disclose something.
  let channels: Set<Channel> | null = null;

  // Pass 1: named identity headers. When the session has no number (Wi-Fi, unknown), the
  // subscriber is the number carried by an identity header, if it carries one.
  const identityHeaders = snapshot.identityHeaders;
  for (const [name, value] of request.headers) {
    if (!identityHeaders.has(name) || isPlaceholder(value)) continue;
    (channels ??= new Set()).add(`header:${name}`);
    if (number === null && !NON_NUMBER_HEADERS.has(name)) number = firstNumberIn(value, region);
  }

  // Pass 2: the number itself, in any spelling, anywhere else it may travel: headers, the
  // URL's path and query, and its host (`447700900123.tracker.example`). Identity headers
  // were judged by name above; the Host header is never scanned (the host is, once, as
  // part of the URL).
  const normalized = normalizeHost(request.host);
  if (number !== null) {
    for (const [name, value] of request.headers) {
      if (name === 'host' || identityHeaders.has(name)) continue;
      if (holdsFewerDigits(value, number.minLength)) continue;
      // A Referer is a URL (its query form-encoded); other values may carry %-escapes (cookies).
      if (findNumber(value, number) !== null || foundDecoded(value, name === 'referer', number)) {
        (channels ??= new Set()).add(name === 'referer' ? 'referer' : `header:${name}`);
      }
    }
    const inHost = normalized !== null && !holdsFewerDigits(normalized, number.minLength) && !isIpLiteral(normalized) && findNumber(normalized, number) !== null;
    if (inHost || foundIn(request.path, true, number) || foundIn(request.query, true, number)) (channels ??= new Set()).add('url');
  }
  if (channels === null) return null;

  // The parsers refuse hosts that do not normalise; a record from elsewhere (an old shipper)
  // with such a host is never looked up among partners, and is stored escaped.
  const host = normalized ?? `invalid:${escapeHost(request.host.toLowerCase())}`;
  // A `+` is read as a space in the path too: literal in a path by RFC 3986, but gateways and
  // apps form-encode there as well, and reading it so only ever finds more numbers.
  const path = redact(request.path, true, number, region, true);
  const query = redact(request.query, true, number, region, true);
  const sortedChannels = [...channels].sort();
  const { verdict, partnerId } = judge(normalized === null ? [] : snapshot.matchHost(host), sortedChannels, request.ts);
  return {
    id: disclosureId(request.requestKey, request.ts),
    requestKey: redactCarried(request.requestKey, number, region),
    ts: request.ts,
    host: redactName(host, number, region),
    // The site is the registrable domain of the real host, then masked like it.
    site: redactName(siteOf(host), number, region),
    subscriber: number?.e164 ?? null,
    channels: redactChannels(sortedChannels, number, region),
    verdict,
    partnerId,
    registryVersion: snapshot.registry.version,
    gatewayId: nullable(request.gatewayId, number, region),
    bearer: nullable(request.bearer, number, region),
    method: nullable(request.method, number, region),
    scheme: nullable(request.scheme, number, region),
    path: path.text,
    queryMasked: query.text,
    status: request.status,
  };
}

/** A host or site with every number in it masked (digits only, so it stays one name); IP literals as they are. */
function redactName(host: string, number: NumberForms | null, region: string): string {
  if (host.length < 6 || isIpLiteral(host)) return host;
  return redact(host, false, number, region, false).text;
}

/** A carried field (gateway id, bearer, a header name, …) with every number masked, as digits only. */
function redactCarried(text: string, number: NumberForms | null, region: string): string {
  if (text.length < 6) return text;
  // `h:` + hex is our own hash of the raw line, not something anyone wrote a number into.
  if (text.startsWith('h:') && HASH_KEY.test(text)) return text;
  return redact(text, true, number, region, false).text;
}

const HASH_KEY = /^h:[0-9a-f]{32}$/;

function nullable(text: string | null, number: NumberForms | null, region: string): string | null {
  return text === null ? null : redactCarried(text, number, region);
}

/** `header:x-caller-447700900124` → `header:x-caller-4477009****24`; sorted and distinct again after masking. */
function redactChannels(channels: readonly Channel[], number: NumberForms | null, region: string): readonly Channel[] {
  let changed = false;
  const out = channels.map((channel) => {
    const masked = channel.startsWith('header:') ? redactCarried(channel, number, region) : channel;
    if (masked !== channel) changed = true;
    return masked;
  });
  return changed ? [...new Set(out)].sort() : channels;
}

/**
 * `encodeURIComponent`, except that a lone surrogate (which it refuses with a URIError) is
 * written as U+FFFD first: input never makes the core throw.
 */
function escapeHost(host: string): string {
  return encodeURIComponent(host.replace(LONE_SURROGATE, '\uFFFD'));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The verdict table of the README ("Partner registry"). `matches` are most specific first; the partner named is
 * the one that decided the verdict.
 */
export function judge(matches: readonly PartnerMatch[], channels: readonly Channel[], ts: number): Verdicting {
  if (matches.length === 0) return { verdict: 'unauthorized_recipient', partnerId: null };
  let firstValid: PartnerEntry | null = null;
  for (const { entry } of matches) {
    if (!validAt(entry, ts)) continue;
    firstValid ??= entry;
    if (channels.every((channel) => allows(entry, channel))) return { verdict: 'authorized', partnerId: entry.id };
  }
  if (firstValid) return { verdict: 'identifier_not_allowed', partnerId: firstValid.id };
  return { verdict: 'partner_inactive', partnerId: matches[0]!.entry.id };
}

function validAt(entry: PartnerEntry, ts: number): boolean {
  return (entry.validFrom === null || ts >= entry.validFrom) && (entry.validTo === null || ts < entry.validTo);
}

const allowedChannels = new WeakMap<PartnerEntry, ReadonlySet<Channel>>();

function allows(entry: PartnerEntry, channel: Channel): boolean {
  let allowed = allowedChannels.get(entry);
  if (!allowed) {
    allowed = new Set(entry.identifiers.map((id) => (id === 'url' || id === 'referer' ? id : `header:${id}`)));
    allowedChannels.set(entry, allowed);
  }
  return allowed.has(channel);
}

/**
 * Deterministic from the request's identity and time, so a replayed or rescanned request is
 * stored once, while two requests that share a gateway's request id (counters restart with
 * the gateway) stay two.
 */
export function disclosureId(requestKey: string, ts: number): string {
  // The one-shot crypto.hash: the same SHA-256 without a Hash object per disclosure.
  return hash('sha256', `${requestKey}\u0000${ts}`, 'hex').slice(0, 32);
}

function foundIn(text: string, form: boolean, number: NumberForms): boolean {
  if (text.length < number.minLength || holdsFewerDigits(text, number.minLength)) return false;
  return findNumber(searchable(text, form), number) !== null;
}

function foundDecoded(value: string, form: boolean, number: NumberForms): boolean {
  const decoded = searchable(value, form);
  return decoded !== value && findNumber(decoded, number) !== null;
}

/** Values gateways send in an identity header when they know no subscriber. */
const PLACEHOLDERS: ReadonlySet<string> = new Set(['', '-', 'unknown', 'null', 'none', 'n/a', 'na', 'undefined', '0']);

function isPlaceholder(value: string): boolean {
  const trimmed = value.trim();
  return trimmed.length <= 9 && PLACEHOLDERS.has(trimmed.toLowerCase());
}
