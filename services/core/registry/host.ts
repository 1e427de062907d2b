// Host names as leakscope compares them: lower-case ASCII, punycode for IDNs, no port, no
// trailing dot, IP literals in canonical form (IPv6 without brackets). Pure; on the hot
// path of every request, so the common case (an already lower-case ASCII name) is one pass
// over its characters and everything else is cached.
import { domainToASCII } from 'node:url';

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

/**
 * A lower-case LDH(+underscore) name that WHATWG host parsing would return unchanged: labels
 * of 1 to 63 of `[a-z0-9_-]` neither starting nor ending with `-`, a letter or digit somewhere,
 * no `xn--` label (those need punycode validation) and a last label that is not a number
 * (`1.2.3.4`, `0x7f` are IPv4 forms that parsing rewrites). One pass over the characters
 * rather than the regexes that define it, because every request's host takes it; host.test.ts
 * holds it equal to them.
 */
function isPlainName(host: string): boolean {
  const n = host.length;
  let labelStart = 0;
  let letterOrDigit = false;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 46 /* . ends the last label */ : host.charCodeAt(i);
    if (c === 46) {
      const length = i - labelStart;
      if (length === 0 || length > 63 || host.charCodeAt(labelStart) === 45 || host.charCodeAt(i - 1) === 45) return false;
      if (i < n) labelStart = i + 1;
    } else if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) letterOrDigit = true;
    else if (c !== 95 /* _ */ && c !== 45 /* - */) return false;
  }
  if (!letterOrDigit || host.includes('xn--')) return false;
  return !isNumericLabel(host, labelStart);
}

/** The label from `start` to the end is digits only, or `0x` and hex digits. */
function isNumericLabel(host: string, start: number): boolean {
  let i = start;
  const hex = host.charCodeAt(i) === 48 && host.charCodeAt(i + 1) === 120; // 0x
  if (hex) i += 2;
  for (; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (hex && c >= 97 && c <= 102))) return false;
  }
  return true;
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
export const hostInternals = { canonicalName, canonicalIpv6, isPlainName } as const;
