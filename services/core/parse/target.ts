// The request target as logged, split into scheme, host, port, path and query. Both log
// formats use it: NDJSON's `url` or `host`, W3C's `cs-uri` or `cs-host`. The host stays as
// logged (case, IDN spelling, IPv6 brackets): normalising it is the detection core's job.
// Hand-written with indexOf instead of `new URL`, which is slow per line, rewrites hosts
// and paths, and refuses the authority-form targets that CONNECT requests log.

import { normalizeHost } from '../registry/host.js';

/** A result or the reason it could not be read (without a field prefix). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface HostPort {
  /** As logged, brackets kept for an IPv6 literal (`[::1]`), like a Host header and WHATWG `URL.hostname`. */
  host: string;
  port: number | null;
}

/** A port as text: '' is none; otherwise ASCII digits making 0–65535. */
export function parsePortText(text: string): Parsed<number | null> {
  if (text.length === 0) return { ok: true, value: null };
  if (text.length > 5) return { ok: false, reason: `port ${JSON.stringify(text)} is not a number 0-65535` };
  let port = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return { ok: false, reason: `port ${JSON.stringify(text)} is not a number 0-65535` };
    port = port * 10 + d;
  }
  if (port > 65535) return { ok: false, reason: `port ${JSON.stringify(text)} is not a number 0-65535` };
  return { ok: true, value: port };
}

/**
 * `host`, `host:port`, `[v6]`, `[v6]:port`. A bare IPv6 address (two or more colons, no
 * brackets) cannot carry a port, so it is all host. Userinfo (`user@`) is dropped: it is
 * not part of the recipient's name.
 */
export function splitHostPort(authority: string): Parsed<HostPort> {
  const at = authority.lastIndexOf('@');
  const hp = at >= 0 ? authority.slice(at + 1) : authority;
  let host: string;
  let portText = '';
  if (hp.charCodeAt(0) === 91 /* [ */) {
    const close = hp.indexOf(']');
    if (close < 0) return { ok: false, reason: `unterminated IPv6 literal in ${JSON.stringify(hp)}` };
    host = hp.slice(0, close + 1);
    const rest = hp.slice(close + 1);
    if (rest.length > 0) {
      if (rest.charCodeAt(0) !== 58 /* : */) {
        return { ok: false, reason: `unexpected ${JSON.stringify(rest)} after IPv6 literal` };
      }
      portText = rest.slice(1);
    }
  } else {
    const colon = hp.indexOf(':');
    if (colon >= 0 && hp.indexOf(':', colon + 1) < 0) {
      host = hp.slice(0, colon);
      portText = hp.slice(colon + 1);
    } else {
      host = hp;
    }
  }
  if (host.length === 0) return { ok: false, reason: `no host in ${JSON.stringify(authority)}` };
  // A host that is not a host name (`evil.com\\.partner.example`, spaces, `%2e`) could
  // never have been connected to, and must never reach the partner lookup.
  if (normalizeHost(host) === null) return { ok: false, reason: `${JSON.stringify(host.slice(0, 256))} is not a host name` };
  const port = parsePortText(portText);
  if (!port.ok) return port;
  return { ok: true, value: { host, port: port.value } };
}

/** True when `text` starts with a URI scheme followed by `://`; returns the scheme's length or -1. */
function schemeLength(text: string): number {
  const sep = text.indexOf('://');
  if (sep <= 0) return -1;
  const first = text.charCodeAt(0) | 0x20;
  if (first < 97 || first > 122) return -1;
  for (let i = 1; i < sep; i++) {
    const c = text.charCodeAt(i);
    const lower = c | 0x20;
    const ok = (lower >= 97 && lower <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
    if (!ok) return -1;
  }
  return sep;
}

/** Index of the first of `?` or `#` at or after `from`, or the length. */
function pathEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 63 || c === 35) return i;
  }
  return text.length;
}

export interface PathQuery {
  path: string;
  query: string;
}

/** `/news?id=1#top` → path `/news`, query `id=1`; the fragment is never sent, so dropped. */
export function splitPathQuery(text: string): PathQuery {
  const end = pathEnd(text, 0);
  return { path: text.slice(0, end), query: queryFrom(text, end) };
}

function queryFrom(text: string, at: number): string {
  if (at >= text.length || text.charCodeAt(at) !== 63 /* ? */) return '';
  const hash = text.indexOf('#', at + 1);
  return hash < 0 ? text.slice(at + 1) : text.slice(at + 1, hash);
}

/**
 * A target in one of the forms a proxy logs:
 * - absolute-form `http://www.example.com:8080/news?id=1` (the usual one);
 * - origin-form `/news?id=1` — host is null here, the caller supplies it;
 * - authority-form `www.example.com:443` (CONNECT), optionally followed by a path.
 * Scheme is lower-cased (it is case-insensitive and nothing downstream wants its case).
 */
export function parseTarget(text: string): Parsed<{ scheme: string | null; host: HostPort | null; path: string; query: string }> {
  if (text.length === 0) return { ok: false, reason: 'empty' };
  let scheme: string | null = null;
  let authorityStart = 0;
  if (text.charCodeAt(0) === 47 /* / */) {
    if (text.charCodeAt(1) !== 47) {
      const pq = splitPathQuery(text);
      return { ok: true, value: { scheme: null, host: null, path: pq.path, query: pq.query } };
    }
    authorityStart = 2; // scheme-relative `//host/path`
  } else {
    const len = schemeLength(text);
    if (len > 0) {
      scheme = text.slice(0, len).toLowerCase();
      authorityStart = len + 3;
    }
  }
  let authorityEnd = text.length;
  for (let i = authorityStart; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) {
      authorityEnd = i;
      break;
    }
  }
  const hp = splitHostPort(text.slice(authorityStart, authorityEnd));
  if (!hp.ok) return hp;
  const end = pathEnd(text, authorityEnd);
  return {
    ok: true,
    value: { scheme, host: hp.value, path: text.slice(authorityEnd, end), query: queryFrom(text, end) },
  };
}
