// Host names as leakscope compares them: lower-case ASCII, punycode for IDNs, no port, no
// trailing dot, IP literals in canonical form (IPv6 without brackets). Pure; on the hot
// path of every request, so the common case (an already lower-case ASCII name) is a
// single regex test and everything else is cached.
import { domainToASCII } from 'node:url';

/**
 * A lower-case LDH(+underscore) name that WHATWG host parsing would return unchanged: no
 * `xn--` label (those need punycode validation) and a last label that is not a number
 * (`1.2.3.4`, `0x7f` are IPv4 forms that parsing rewrites).
 */
const PLAIN_NAME = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/;
const PORT = /^[0-9]{0,5}$/;
// WHATWG host parsing stops at `/ ? # \`, percent-decodes and drops some characters
// silently (`example.com/x` → `example.com`); a host containing them is refused instead.
const NOT_IN_HOST = /[\s/\\?#@%<>^|"'`{}\[\]]/u;

/**
 * What a canonical name may hold: LDH labels of at most 63 characters that neither start nor
 * end with a hyphen (underscore tolerated, as DNS does in practice), the same labels the
 * registry accepts in a domain pattern; and a letter or digit somewhere, so `-`, `_`, `--1`
 * and `a.-` are not host names.
 */
const ASCII_HOST = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const HAS_LETTER_OR_DIGIT = /[a-z0-9]/;

const SLOW_CACHE_LIMIT = 10_000;
const slowCache = new Map<string, string | null>();

function isPlainName(host: string): boolean {
  if (!PLAIN_NAME.test(host) || host.includes('xn--') || !HAS_LETTER_OR_DIGIT.test(host)) return false;
  const lastLabel = host.slice(host.lastIndexOf('.') + 1);
  return !NUMERIC_LABEL.test(lastLabel);
}

/** Canonical IPv6 text (lower-case, compressed) without brackets, or null. */
function canonicalIpv6(inner: string): string | null {
  if (!/^[0-9a-f:.]+$/i.test(inner)) return null; // no zone ids, nothing parsing would drop
  const ascii = domainToASCII(`[${inner}]`);
  if (ascii.length < 4 || ascii[0] !== '[') return null;
  return ascii.slice(1, -1);
}

/** A name (no port, no brackets) in canonical form, or null when it is not a host name. */
function canonicalName(name: string): string | null {
  let bare = name;
  if (bare.length > 1 && bare.endsWith('.')) bare = bare.slice(0, -1);
  if (bare === '' || NOT_IN_HOST.test(bare)) return null;
  const ascii = domainToASCII(bare);
  if (ascii === '') return null;
  // WHATWG parsing keeps empty labels; a name with one is not a host anybody can reach.
  if (ascii.startsWith('.') || ascii.endsWith('.') || ascii.includes('..')) return null;
  // Unicode compatibility mapping can turn a character into ASCII punctuation (U+FE37 → `{`):
  // what comes out must itself be a host name, or a second normalisation would refuse it.
  if (!ASCII_HOST.test(ascii) || !HAS_LETTER_OR_DIGIT.test(ascii)) return null;
  return ascii;
}

function normalizeSlow(host: string): string | null {
  if (host === '') return null;
  if (host[0] === '[') {
    const close = host.indexOf(']');
    if (close < 0) return null;
    const rest = host.slice(close + 1);
    if (rest !== '' && !(rest[0] === ':' && PORT.test(rest.slice(1)))) return null;
    return canonicalIpv6(host.slice(1, close));
  }
  const firstColon = host.indexOf(':');
  if (firstColon < 0) return canonicalName(host);
  if (host.indexOf(':', firstColon + 1) >= 0) return canonicalIpv6(host); // bare IPv6, no port possible
  if (!PORT.test(host.slice(firstColon + 1))) return null;
  return canonicalName(host.slice(0, firstColon));
}

/**
 * The comparable form of a host as logged: lower-case, port and trailing dot removed,
 * Unicode names as punycode (`bücher.example` → `xn--bcher-kva.example`), IPv4 canonical
 * and IPv6 canonical without brackets (`[2001:DB8::1]:80` → `2001:db8::1`). Null when the
 * text is not a host (empty, forbidden characters, empty labels, bad punycode).
 */
export function normalizeHost(host: string): string | null {
  if (isPlainName(host)) return host;
  const cached = slowCache.get(host);
  if (cached !== undefined) return cached;
  const normalized = normalizeSlow(host);
  // Bounded: cleared when full rather than LRU, since hosts repeat in bursts and a
  // clear costs one cold lookup per host.
  if (slowCache.size >= SLOW_CACHE_LIMIT) slowCache.clear();
  slowCache.set(host, normalized);
  return normalized;
}

const IPV4 = /^(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}$/;

/** True for a normalised IP literal (`10.0.0.1`, `2001:db8::1`). */
export function isIpLiteral(normalizedHost: string): boolean {
  return normalizedHost.includes(':') || IPV4.test(normalizedHost);
}

/** Internal, for domain patterns: canonical name or IPv6 without port handling. */
export const hostInternals = { canonicalName, canonicalIpv6 } as const;
