// The detection core: one gateway request and the registry snapshot valid for it in, a
// Disclosure (with its verdict) or null out. Pure: no clock, no I/O, no logging; the only
// state is memoisation of number parsing and sites, which never changes an answer.
import { createHash } from 'node:crypto';
import type { Channel, Disclosure, GatewayRequest, PartnerEntry, PartnerMatch, RegistrySnapshot, Verdict } from '../types.js';
import { BUILTIN_IDENTITY_HEADERS, normalizeHost } from '../registry/index.js';
import { maskNumber } from '../privacy/index.js';
import { findNumber, firstNumberIn, normalizeNumber, type NumberForms } from './numbers.js';
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

  // Pass 2: the number itself, in any spelling, anywhere else it may travel. Identity
  // headers were judged by name above; Host is never scanned.
  let pathMasked = request.path;
  let queryMasked = request.query;
  if (number !== null) {
    for (const [name, value] of request.headers) {
      if (name === 'host' || identityHeaders.has(name)) continue;
      // A Referer is a URL (its query form-encoded); other values may carry %-escapes (cookies).
      if (findNumber(value, number) !== null || foundDecoded(value, name === 'referer', number)) {
        (channels ??= new Set()).add(name === 'referer' ? 'referer' : `header:${name}`);
      }
    }
    const path = maskIn(request.path, number, false);
    const query = maskIn(request.query, number, true);
    if (path !== null || query !== null) (channels ??= new Set()).add('url');
    if (path !== null) pathMasked = path;
    if (query !== null) queryMasked = query;
  }
  if (channels === null) return null;

  // The parsers refuse hosts that do not normalise; a record from elsewhere (an old shipper)
  // with such a host is never looked up among partners, and is stored escaped.
  const normalized = normalizeHost(request.host);
  const host = normalized ?? `invalid:${escapeHost(request.host.toLowerCase())}`;
  const sortedChannels = [...channels].sort();
  const { verdict, partnerId } = judge(normalized === null ? [] : snapshot.matchHost(host), sortedChannels, request.ts);
  return {
    id: disclosureId(request.requestKey, request.ts),
    requestKey: request.requestKey,
    ts: request.ts,
    host,
    site: siteOf(host),
    subscriber: number?.e164 ?? null,
    channels: sortedChannels,
    verdict,
    partnerId,
    registryVersion: snapshot.registry.version,
    gatewayId: request.gatewayId,
    bearer: request.bearer,
    method: request.method,
    scheme: request.scheme,
    path: maskOtherNumbers(pathMasked, region),
    queryMasked: maskOtherNumbers(queryMasked, region),
    status: request.status,
  };
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
 * The verdict table of DESIGN.md. `matches` are most specific first; the partner named is
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
  return createHash('sha256').update(`${requestKey}\u0000${ts}`).digest('hex').slice(0, 32);
}

function foundDecoded(value: string, form: boolean, number: NumberForms): boolean {
  const decoded = decodeLoosely(value, form);
  return decoded !== value && findNumber(decoded, number) !== null;
}

/** A run of 9 to 15 digits, maybe after a `+`, maybe split by single spaces, dots or dashes. */
const NUMBER_LIKE = /\+?\d(?:[ .-]?\d){8,14}(?![ .-]?\d)/g;

/**
 * What is stored of a disclosing request's path and query holds no phone number at all, not
 * only the subscriber's: another person's number in a URL (a friend's, a caller's) is masked
 * too when libphonenumber reads it as a possible number of the region. Long ids that happen to
 * read as numbers are masked as well; a store that over-masks is the safer error.
 */
function maskOtherNumbers(text: string, region: string): string {
  if (text.length < 9) return text;
  return text.replace(NUMBER_LIKE, (run) => {
    const forms = normalizeNumber(run, region);
    return forms === null ? run : maskNumber(forms.e164);
  });
}

/** Values gateways send in an identity header when they know no subscriber. */
const PLACEHOLDERS: ReadonlySet<string> = new Set(['', '-', 'unknown', 'null', 'none', 'n/a', 'na', 'undefined', '0']);

function isPlaceholder(value: string): boolean {
  const trimmed = value.trim();
  return trimmed.length <= 9 && PLACEHOLDERS.has(trimmed.toLowerCase());
}

/**
 * Percent-decodes every well-formed %XX run and leaves malformed escapes as they are (one bad
 * `%` must not hide the rest); with `form`, `+` is a space first, as in a query string.
 */
export function decodeLoosely(text: string, form: boolean): string {
  let out = form && text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!out.includes('%')) return out;
  out = out.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      // An invalid UTF-8 sequence: decode byte by byte as Latin-1 so digits still come out.
      return run.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  });
  return out;
}

/**
 * Looks for the number in a path or query (loosely decoded: `%2B44%207700…`, `07700+900123`
 * in a query) and masks every occurrence, a `+` just before it included. The masked text is
 * the decoded one, so no spelling of the number survives in what is stored, escaped or not.
 * Null when the number is not there (the text is then stored as logged).
 */
function maskIn(text: string, number: NumberForms, form: boolean): string | null {
  if (text.length < number.minLength) return null;
  const subject = decodeLoosely(text, form);
  const ranges = findNumber(subject, number);
  if (ranges === null) return null;
  const masked = maskNumber(number.e164);
  let out = '';
  let at = 0;
  for (const [start, end] of ranges) {
    const from = start > at && subject.charCodeAt(start - 1) === 43 /* + */ ? start - 1 : start;
    out += subject.slice(at, from) + masked;
    at = end;
  }
  return out + subject.slice(at);
}
