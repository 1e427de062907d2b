// The site of a host: its registrable domain by the Public Suffix List (ICANN and private
// sections, so `a.blogspot.com` and `b.blogspot.com` are different sites, as they have
// different owners). An unknown top-level label counts as a public suffix
// (`a.b.example` → `b.example`); an IP literal, a public suffix itself or a single label
// is its own site.
import { isIP } from 'node:net';
import { getDomain } from 'tldts';

const MEMO_LIMIT = 100_000;
const memo = new Map<string, string>();

/** `host` must already be normalised (lower-case ASCII, no port, no trailing dot). */
export function siteOf(host: string): string {
  let site = memo.get(host);
  if (site !== undefined) return site;
  site = isIP(host) !== 0 ? host : getDomain(host, { allowPrivateDomains: true, validateHostname: false }) ?? host;
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(host, site);
  return site;
}
