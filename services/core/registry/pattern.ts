// Domain patterns of the partner registry: `example.com` (that host only), `*.example.com`
// (one or more labels in front of example.com, never example.com itself) and IP literals
// (that address only). Patterns are normalised the way hosts are, so Unicode and punycode
// spellings of a name are the same pattern.
import { getPublicSuffix } from 'tldts';
import { hostInternals } from './host.js';

export type PatternKind = 'exact' | 'wildcard' | 'ip';

export interface DomainPattern {
  /** Normalised: `example.com`, `*.example.com`, `10.0.0.1` or `2001:db8::1`. */
  pattern: string;
  kind: PatternKind;
  /** Labels fixed by the pattern, rightmost first (`*.ageverify.example` → [example, ageverify]); [address] for an IP. */
  labels: readonly string[];
}

export type PatternResult = { ok: true; value: DomainPattern } | { ok: false; problem: string };

// After punycode conversion every label is letters, digits, `_` and inner hyphens, at most
// 63 characters (RFC 1035 with the underscore real names use); the whole name at most 253.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const MAX_NAME_LENGTH = 253;
// Characters WHATWG host parsing would silently decode or drop, which have no place in a pattern.
const FORBIDDEN = /[\s%/\\@?#<>^|"'`{}]/u;
const IPV4_CANONICAL = /^(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}$/;
const LOOKS_IPV4 = /^[0-9.]+$/;

function notAPattern(raw: string, reason?: string): PatternResult {
  return { ok: false, problem: `${JSON.stringify(raw)}: not a domain pattern${reason ? ` (${reason})` : ''}` };
}

function parseIpv6(raw: string, inner: string, wildcard: boolean): PatternResult {
  if (wildcard) return notAPattern(raw, 'an IP address cannot have a wildcard');
  const address = hostInternals.canonicalIpv6(inner);
  if (address === null) return notAPattern(raw, 'not an IPv6 address');
  return { ok: true, value: { pattern: address, kind: 'ip', labels: [address] } };
}

/** Parses and normalises one domain pattern as written in the registry. */
export function parseDomainPattern(raw: string): PatternResult {
  if (raw === '') return notAPattern(raw);
  if (FORBIDDEN.test(raw)) return notAPattern(raw, 'it contains a space or a character not allowed in a host name');
  const wildcard = raw.startsWith('*.');
  const body = wildcard ? raw.slice(2) : raw;
  if (body === '') return notAPattern(raw);
  if (body.includes('*')) {
    return notAPattern(raw, '"*" is allowed only as the whole first label, as in "*.example.com"');
  }
  if (body[0] === '[') {
    if (!body.endsWith(']')) return notAPattern(raw, 'a pattern has no port');
    return parseIpv6(raw, body.slice(1, -1), wildcard);
  }
  const colons = body.split(':').length - 1;
  if (colons === 1) return notAPattern(raw, 'a pattern has no port');
  if (colons > 1) return parseIpv6(raw, body, wildcard);

  const name = hostInternals.canonicalName(body);
  if (name === null) {
    // Name the first offending ASCII label when there is one: more useful than "not a pattern".
    const bad = body.replace(/\.$/, '').split('.').find((l) => /^[\x20-\x7e]+$/.test(l) && !LABEL.test(l.toLowerCase()));
    if (bad === undefined) return notAPattern(raw);
    return notAPattern(raw, bad.length > 63 ? 'a label is longer than 63 characters' : `label ${JSON.stringify(bad)} is not letters, digits and inner hyphens`);
  }
  if (LOOKS_IPV4.test(name)) {
    if (wildcard) return notAPattern(raw, 'an IP address cannot have a wildcard');
    // WHATWG parsing reads `10.1` as 10.0.0.1 and `010.0.0.1` as octal; in a registry that
    // would be a surprise, so only the plain dotted-quad spelling is accepted.
    const written = body.endsWith('.') ? body.slice(0, -1) : body;
    if (!IPV4_CANONICAL.test(written) || written !== name) {
      return notAPattern(raw, 'write an IPv4 address as four decimal numbers, as in "10.0.0.1"');
    }
    return { ok: true, value: { pattern: name, kind: 'ip', labels: [name] } };
  }
  if (name.length > MAX_NAME_LENGTH) return notAPattern(raw, `longer than ${MAX_NAME_LENGTH} characters`);
  const labels = name.split('.');
  for (const label of labels) {
    if (!LABEL.test(label)) {
      return notAPattern(raw, label.length > 63
        ? 'a label is longer than 63 characters'
        : `label ${JSON.stringify(label)} is not letters, digits and inner hyphens`);
    }
  }
  if (wildcard) {
    // Private suffixes too (blogspot.com, github.io): their subdomains belong to different owners,
    // which is also why sites are counted with them (detect/site.ts).
    const suffix = getPublicSuffix(name, { allowPrivateDomains: true });
    if (suffix === name) {
      return {
        ok: false,
        problem: `${JSON.stringify(raw)}: a wildcard over the public suffix "${name}" would match every site under it; name the partner's own domain`,
      };
    }
  }
  return {
    ok: true,
    value: { pattern: wildcard ? `*.${name}` : name, kind: wildcard ? 'wildcard' : 'exact', labels: labels.reverse() },
  };
}

/** Does a normalised pattern match a normalised host? (The reference definition; the snapshot's trie must agree.) */
export function patternMatchesHost(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1); // `.example.com`
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return pattern === host;
}
