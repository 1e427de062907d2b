// The registry made ready for lookups. Host patterns go into a label trie walked from the
// rightmost label, so a lookup costs one map step per host label whatever the number of
// partners; IP literals go into a plain map. Results are memoised per host because the
// hosts of a gateway's traffic repeat heavily. Validity periods are not filtered here:
// every matching entry is returned and the verdict logic reads them at the request's time.
import type { PartnerEntry, PartnerMatch, Registry, RegistrySnapshot } from '../types.js';
import { BUILTIN_IDENTITY_HEADER_NAMES } from './identity-headers.js';
import { isIpLiteral } from './host.js';

/** Hosts remembered per snapshot; the memo is cleared when full (cheaper than LRU bookkeeping). */
export const HOST_MEMO_LIMIT = 100_000;

interface TrieNode {
  readonly children: Map<string, TrieNode>;
  /** Entries whose exact pattern ends at this node. */
  readonly exact: PartnerMatch[];
  /** Entries whose `*.` pattern ends at this node: they match hosts with more labels. */
  readonly wildcard: PartnerMatch[];
}

const NO_MATCHES: readonly PartnerMatch[] = Object.freeze([]);

function newNode(): TrieNode {
  return { children: new Map(), exact: [], wildcard: [] };
}

/** Partner id, then start of validity (always-valid first), then registry order: deterministic. */
function compareWithinNode(a: { m: PartnerMatch; order: number }, b: { m: PartnerMatch; order: number }): number {
  if (a.m.entry.id !== b.m.entry.id) return a.m.entry.id < b.m.entry.id ? -1 : 1;
  const fa = a.m.entry.validFrom ?? -Infinity, fb = b.m.entry.validFrom ?? -Infinity;
  if (fa !== fb) return fa < fb ? -1 : 1;
  return a.order - b.order;
}

function sortInPlace(list: PartnerMatch[], order: Map<PartnerMatch, number>): void {
  const keyed = list.map((m) => ({ m, order: order.get(m)! }));
  keyed.sort(compareWithinNode);
  keyed.forEach((k, i) => { list[i] = k.m; });
}

function sortTrie(node: TrieNode, order: Map<PartnerMatch, number>): void {
  sortInPlace(node.exact, order);
  sortInPlace(node.wildcard, order);
  for (const child of node.children.values()) sortTrie(child, order);
}

const NORMALISED = /^(?:\*\.)?[a-z0-9_.:-]+$/;

/**
 * A pattern parseRegistry already normalised, split into its labels without parsing it again
 * (which cost most of the build for 100,000 partners): `*.a.example`, `a.example`, an IPv4 or
 * IPv6 address.
 */
function splitPattern(raw: string, partner: string): { pattern: string; kind: 'exact' | 'wildcard' | 'ip'; labels: string[] } {
  if (!NORMALISED.test(raw)) throw new Error(`buildSnapshot: pattern ${JSON.stringify(raw)} of partner ${partner} is not normalised`);
  if (raw.startsWith('*.')) return { pattern: raw, kind: 'wildcard', labels: raw.slice(2).split('.').reverse() };
  if (isIpLiteral(raw)) return { pattern: raw, kind: 'ip', labels: [raw] };
  return { pattern: raw, kind: 'exact', labels: raw.split('.').reverse() };
}

/**
 * Builds the lookup structure. The registry must come from parseRegistry (patterns are
 * already normalised; they are parsed again here only to split them into labels).
 */
export function buildSnapshot(registry: Registry): RegistrySnapshot {
  const root = newNode();
  const ips = new Map<string, PartnerMatch[]>();
  const order = new Map<PartnerMatch, number>();

  registry.partners.forEach((entry: PartnerEntry) => {
    for (const raw of entry.domains) {
      const { pattern, kind, labels } = splitPattern(raw, entry.id);
      // Specificity counts the labels the pattern fixes; `*` is not one of them. Exact and
      // wildcard patterns of equal count never match the same host, so exact-before-wildcard
      // at equal count holds by construction.
      const match: PartnerMatch = Object.freeze({ entry, pattern, specificity: labels.length });
      order.set(match, order.size);
      if (kind === 'ip') {
        const list = ips.get(pattern) ?? [];
        list.push(match);
        ips.set(pattern, list);
        continue;
      }
      let node = root;
      for (const label of labels) {
        let child = node.children.get(label);
        if (!child) {
          child = newNode();
          node.children.set(label, child);
        }
        node = child;
      }
      (kind === 'exact' ? node.exact : node.wildcard).push(match);
    }
  });
  sortTrie(root, order);
  for (const list of ips.values()) sortInPlace(list, order);

  const frozenIps = new Map<string, readonly PartnerMatch[]>([...ips].map(([k, v]) => [k, Object.freeze(v)]));
  const memo = new Map<string, readonly PartnerMatch[]>();

  function lookup(host: string): readonly PartnerMatch[] {
    const ip = frozenIps.get(host);
    if (ip) return ip;
    // Walk from the rightmost label; remember the nodes passed so the deepest (most
    // specific) matches come first.
    const passed: { node: TrieNode; full: boolean }[] = [];
    let node = root;
    let end = host.length;
    while (end > 0) {
      const dot = host.lastIndexOf('.', end - 1);
      const child = node.children.get(host.slice(dot + 1, end));
      if (!child) break;
      node = child;
      passed.push({ node, full: dot < 0 });
      if (dot < 0) break;
      end = dot;
    }
    let found: PartnerMatch[] | null = null;
    for (let i = passed.length - 1; i >= 0; i--) {
      const { node: at, full } = passed[i]!;
      // At the host's full length only exact patterns apply; above it only wildcards,
      // which require at least one more label (so `*.example.com` never matches `example.com`).
      const list = full ? at.exact : at.wildcard;
      if (list.length > 0) (found ??= []).push(...list);
    }
    return found ? Object.freeze(found) : NO_MATCHES;
  }

  const identityHeaders: ReadonlySet<string> = new Set([...BUILTIN_IDENTITY_HEADER_NAMES, ...registry.identityHeaders]);

  return Object.freeze({
    registry,
    identityHeaders,
    matchHost(host: string): readonly PartnerMatch[] {
      const cached = memo.get(host);
      if (cached !== undefined) return cached;
      const result = lookup(host);
      if (memo.size >= HOST_MEMO_LIMIT) memo.clear();
      memo.set(host, result);
      return result;
    },
  });
}
