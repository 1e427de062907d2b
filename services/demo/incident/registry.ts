// The incident's partner registry and the generator's own verdict oracle.
// The oracle is a deliberately plain reading of the README's "Partner registry" verdict rules:
// linear scans over the entries, no trie, no shared code with services/core, so the
// ground truth it produces can check the real detector rather than repeat it.
import { domainToASCII } from 'node:url';
import { isIP } from 'node:net';
import { getDomain } from 'tldts';

export const VERDICT_ORDER = [
  'authorized',
  'identifier_not_allowed',
  'partner_inactive',
  'unauthorized_recipient',
] as const;
export type TruthVerdict = (typeof VERDICT_ORDER)[number];

/** One registry entry as written to registry.yaml (times ISO, patterns as a human writes them). */
export interface IncidentPartnerEntry {
  id: string;
  name: string;
  purposes: string[];
  domains: string[];
  identifiers: string[];
  valid_from: string | null;
  valid_to: string | null;
}

export interface IncidentRegistry {
  version: string;
  region: string;
  identity_headers: string[];
  partners: IncidentPartnerEntry[];
}

export const MONTH_START = Date.UTC(2012, 0, 1);
export const MONTH_END = Date.UTC(2012, 1, 1);
/** The O2 UK leak: every request of a subscriber session got X-UP-Calling-Line-ID. */
export const LEAK_START = Date.UTC(2012, 0, 10);
export const LEAK_END = Date.UTC(2012, 0, 25, 14);

export function inLeak(ts: number): boolean {
  return ts >= LEAK_START && ts < LEAK_END;
}

export function incidentRegistry(): IncidentRegistry {
  return {
    version: '2012-01-31.1',
    region: 'GB',
    identity_headers: ['x-o2-subscriber'],
    partners: [
      {
        id: 'ageverify',
        name: 'AgeVerify Ltd',
        purposes: ['age_verification'],
        domains: ['*.ageverify.example'],
        identifiers: ['x-up-calling-line-id'],
        valid_from: '2011-06-01T00:00:00Z',
        valid_to: null,
      },
      // Carrier billing: a first contract that lapsed on 8 Jan, renewed on 20 Jan.
      {
        id: 'billing',
        name: 'Billing Partner plc',
        purposes: ['carrier_billing'],
        domains: ['pay.billing.example', '*.billing.example'],
        identifiers: ['x-msisdn'],
        valid_from: '2011-01-01T00:00:00Z',
        valid_to: '2012-01-08T00:00:00Z',
      },
      {
        id: 'billing',
        name: 'Billing Partner plc',
        purposes: ['carrier_billing'],
        domains: ['pay.billing.example', '*.billing.example'],
        identifiers: ['x-msisdn'],
        valid_from: '2012-01-20T00:00:00Z',
        valid_to: null,
      },
      // Contract ended mid-month; the gateway kept enriching its requests.
      {
        id: 'legacyportal',
        name: 'Legacy Portal Ltd',
        purposes: ['customer_recognition'],
        domains: ['portal.legacy.example'],
        identifiers: ['x-msisdn'],
        valid_from: '2011-01-01T00:00:00Z',
        valid_to: '2012-01-15T00:00:00Z',
      },
      // Allowed a token only: the leak's X-UP-Calling-Line-ID is identifier_not_allowed.
      {
        id: 'recognise',
        name: 'Recognise Ltd',
        purposes: ['customer_recognition'],
        domains: ['*.recognise.example'],
        identifiers: ['x-acr'],
        valid_from: null,
        valid_to: null,
      },
      // Written in Unicode; requests travel as www.xn--bcher-kva.example.
      {
        id: 'buecher',
        name: 'Bücher Versand GmbH',
        purposes: ['carrier_billing'],
        domains: ['*.bücher.example'],
        identifiers: ['x-msisdn', 'x-up-calling-line-id'],
        valid_from: '2011-09-01T00:00:00Z',
        valid_to: null,
      },
      {
        id: 'ipbill',
        name: 'IP Billing Gateway',
        purposes: ['carrier_billing'],
        domains: ['192.0.2.10'],
        identifiers: ['x-msisdn', 'x-up-calling-line-id'],
        valid_from: null,
        valid_to: null,
      },
    ],
  };
}

/** registry.yaml text: JSON-style quoted scalars are valid YAML and need no escaping rules of our own. */
export function registryYaml(registry: IncidentRegistry): string {
  const q = (s: string): string => JSON.stringify(s);
  const list = (items: string[]): string => `[${items.map(q).join(', ')}]`;
  const lines = [
    '# Partner registry for the generated O2-style incident (leakscope test data).',
    `version: ${q(registry.version)}`,
    `region: ${registry.region}`,
    'identity_headers:',
    ...registry.identity_headers.map((h) => `  - ${h}`),
    'partners:',
  ];
  for (const p of registry.partners) {
    lines.push(
      `  - id: ${p.id}`,
      `    name: ${q(p.name)}`,
      `    purposes: ${list(p.purposes)}`,
      `    domains: ${list(p.domains)}`,
      `    identifiers: ${list(p.identifiers)}`,
      `    valid_from: ${p.valid_from === null ? 'null' : q(p.valid_from)}`,
      `    valid_to: ${p.valid_to === null ? 'null' : q(p.valid_to)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Lower-case ASCII, no trailing dot, punycode for IDNs. The port is never part of `host` here. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (isIP(h)) return h;
  const ascii = domainToASCII(h);
  return ascii === '' ? h : ascii;
}

/** Registrable domain by the PSL (tldts, ICANN section only: the data set uses no private suffixes). */
export function siteOf(host: string): string {
  if (isIP(host)) return host;
  return getDomain(host) ?? host;
}

interface OracleEntry {
  id: string;
  patterns: string[];
  allowedChannels: Set<string>;
  validFrom: number;
  validTo: number;
}

function normalizePattern(pattern: string): string {
  if (pattern.startsWith('*.')) return `*.${normalizeHost(pattern.slice(2))}`;
  return normalizeHost(pattern);
}

function patternMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) {
    const base = pattern.slice(2);
    return host.endsWith(`.${base}`) && host.length > base.length + 1;
  }
  return host === pattern;
}

/** Labels of the pattern; an exact pattern ranks above a wildcard of equal length. */
function specificity(pattern: string): number {
  return pattern.split('.').length + (pattern.startsWith('*.') ? 0 : 0.5);
}

export interface OracleVerdict {
  verdict: TruthVerdict;
  partner: string | null;
}

/** The generator's own, independent reading of the verdict rules. */
export class VerdictOracle {
  private readonly entries: OracleEntry[];
  private readonly matchCache = new Map<string, Array<{ entry: OracleEntry; spec: number }>>();

  constructor(registry: IncidentRegistry) {
    this.entries = registry.partners.map((p) => ({
      id: p.id,
      patterns: p.domains.map(normalizePattern),
      allowedChannels: new Set(
        p.identifiers.map((i) => (i === 'url' || i === 'referer' ? i : `header:${i.toLowerCase()}`)),
      ),
      validFrom: p.valid_from === null ? -Infinity : Date.parse(p.valid_from),
      validTo: p.valid_to === null ? Infinity : Date.parse(p.valid_to),
    }));
  }

  private matches(host: string): Array<{ entry: OracleEntry; spec: number }> {
    let found = this.matchCache.get(host);
    if (!found) {
      found = [];
      for (const entry of this.entries) {
        let best = -1;
        for (const pattern of entry.patterns) {
          if (patternMatches(pattern, host)) best = Math.max(best, specificity(pattern));
        }
        if (best >= 0) found.push({ entry, spec: best });
      }
      found.sort((a, b) => b.spec - a.spec); // stable: registry order breaks ties
      this.matchCache.set(host, found);
    }
    return found;
  }

  /** `host` already normalised; `channels` the channels the request disclosed on. */
  judge(host: string, ts: number, channels: Iterable<string>): OracleVerdict {
    const matched = this.matches(host);
    if (matched.length === 0) return { verdict: 'unauthorized_recipient', partner: null };
    const valid = matched.filter((m) => ts >= m.entry.validFrom && ts < m.entry.validTo);
    const wanted = [...channels];
    for (const m of valid) {
      if (wanted.every((c) => m.entry.allowedChannels.has(c))) return { verdict: 'authorized', partner: m.entry.id };
    }
    const first = valid[0];
    if (first) return { verdict: 'identifier_not_allowed', partner: first.entry.id };
    return { verdict: 'partner_inactive', partner: (matched[0] as { entry: OracleEntry }).entry.id };
  }
}

/**
 * Display form of a subscriber: `+`, at most 7 leading and 2 trailing digits, at least 3 digits
 * hidden, always shown as exactly four `*` so the mask does not reveal the number's length
 * (`+447700900123` → `+4477009****23`). Shorter numbers give up leading digits first, and
 * trailing ones once fewer than 6 digits remain. Same rule as services/core/privacy, written apart.
 */
export function maskSubscriber(e164: string): string {
  const digits = e164.replace(/^\+/, '');
  const n = digits.length;
  if (n <= 3) return '+****';
  const trailing = n - 3 >= 3 ? 2 : 0;
  const hidden = Math.max(3, n - 7 - trailing);
  return `+${digits.slice(0, n - hidden - trailing)}****${digits.slice(n - trailing)}`;
}
