// Lookup throughput of the registry snapshot: a registry of ~2,000 partner entries and a
// stream of hosts that repeat the way a gateway's traffic does (a few hot hosts, a long
// tail), each normalised and matched as the detector does per request.
import { LineCounter, parseDocument } from 'yaml';
import { buildSnapshot, normalizeHost, parseRegistry } from '../services/core/registry/index.js';

export interface RegistryBenchResult {
  entries: number;
  distinctHosts: number;
  lookups: number;
  seconds: number;
  lookupsPerSecond: number;
  /** Same stream with every host distinct from the previous run's (memo misses only). */
  coldLookupsPerSecond: number;
  buildMs: number;
}

/** A deterministic pseudo-random generator, so runs are comparable. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function registryText(partners: number): string {
  const lines = ['version: "bench"', 'region: GB', 'partners:'];
  for (let i = 0; i < partners; i++) {
    const domains = i % 3 === 0 ? `["*.partner${i}.example", "partner${i}.example"]` : `["*.partner${i}.example"]`;
    lines.push(`  - {id: p${i}, name: Partner ${i}, domains: ${domains}, identifiers: [x-msisdn], valid_from: "2011-01-01T00:00:00Z"}`);
    // Every tenth partner has a second validity period.
    if (i % 10 === 0) lines.push(`  - {id: p${i}, name: Partner ${i}, domains: ${domains}, identifiers: [x-msisdn, url], valid_to: "2011-01-01T00:00:00Z"}`);
  }
  return lines.join('\n');
}

function hostStream(count: number, distinct: number, partners: number, salt: string): string[] {
  const random = lcg(42);
  const pool: string[] = [];
  for (let i = 0; i < distinct; i++) {
    const r = random();
    if (r < 0.2) pool.push(`www.partner${Math.floor(random() * partners)}.example`);
    else if (r < 0.25) pool.push(`WWW.Site${i}${salt}.Example.COM:8080`);
    else pool.push(`cdn${i % 7}.site${i}${salt}.example.com`);
  }
  // Zipf-like: low indices far more often than the tail.
  return Array.from({ length: count }, () => pool[Math.floor(distinct * random() ** 3)]!);
}

function run(hosts: readonly string[], snapshot: ReturnType<typeof buildSnapshot>): { seconds: number; matched: number } {
  let matched = 0;
  const start = process.hrtime.bigint();
  for (const host of hosts) {
    const normalized = normalizeHost(host);
    if (normalized !== null) matched += snapshot.matchHost(normalized).length;
  }
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, matched };
}

export function benchRegistryLookup(options: { partners?: number; lookups?: number; distinctHosts?: number } = {}): RegistryBenchResult {
  const partners = options.partners ?? 1_800;
  const lookups = options.lookups ?? 2_000_000;
  const distinctHosts = options.distinctHosts ?? 50_000;

  const buildStart = process.hrtime.bigint();
  const registry = parseRegistry(registryText(partners), 'bench');
  const snapshot = buildSnapshot(registry);
  const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;

  const hosts = hostStream(lookups, distinctHosts, partners, '');
  run(hosts.slice(0, 100_000), snapshot); // warm-up
  const warm = run(hosts, snapshot);

  const coldSnapshot = buildSnapshot(registry);
  const coldHosts = Array.from({ length: 200_000 }, (_, i) => `cdn.site${i}.cold.example.com`);
  const cold = run(coldHosts, coldSnapshot);

  return {
    entries: registry.partners.length,
    distinctHosts,
    lookups,
    seconds: warm.seconds,
    lookupsPerSecond: Math.round(lookups / warm.seconds),
    coldLookupsPerSecond: Math.round(coldHosts.length / cold.seconds),
    buildMs: Math.round(buildMs),
  };
}

export interface RegistryLoadResult {
  format: 'json' | 'yaml';
  partners: number;
  megabytes: number;
  /** parseRegistry (parse and validate) and buildSnapshot, from text in memory. */
  validateMs: number;
  buildMs: number;
  /** CPU time (user + system) of the same two steps: on a shared machine, the steadier figure. */
  validateCpuMs: number;
  buildCpuMs: number;
  /** Growth of the JS heap over the load, with the text and the result still alive. */
  heapMegabytes: number;
  peakRssMegabytes: number;
}

function largeRegistry(partners: number, format: 'json' | 'yaml'): string {
  const entry = (i: number) => ({
    id: `p${i}`, name: `Partner ${i}`, purposes: ['carrier_billing'],
    domains: i % 3 === 0 ? [`*.partner${i}.example`, `partner${i}.example`] : [`*.partner${i}.example`],
    identifiers: ['x-msisdn'], valid_from: '2011-01-01T00:00:00Z',
  });
  if (format === 'json') return JSON.stringify({ version: 'bench', region: 'GB', partners: Array.from({ length: partners }, (_, i) => entry(i)) });
  const lines = ['version: "bench"', 'region: GB', 'partners:'];
  for (let i = 0; i < partners; i++) {
    const e = entry(i);
    lines.push(`  - id: ${e.id}`, `    name: ${e.name}`, `    purposes: [carrier_billing]`, `    domains: [${e.domains.map((d) => `"${d}"`).join(', ')}]`,
      `    identifiers: [x-msisdn]`, `    valid_from: "${e.valid_from}"`);
  }
  return lines.join('\n') + '\n';
}

/** Validating and loading a registry of `partners` partners, as `registry validate` and `scan` do. */
export function benchRegistryLoad(partners: number, format: 'json' | 'yaml'): RegistryLoadResult {
  const text = largeRegistry(partners, format);
  (globalThis as { gc?: () => void }).gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
  const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const registry = parseRegistry(text, `bench.${format}`);
  const t1 = process.hrtime.bigint();
  const validateCpu = process.cpuUsage(c0);
  const c1 = process.cpuUsage();
  const snapshot = buildSnapshot(registry);
  const t2 = process.hrtime.bigint();
  const buildCpu = process.cpuUsage(c1);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const heapMegabytes = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  if (snapshot.matchHost(`www.partner${partners - 1}.example`).length === 0) throw new Error('benchRegistryLoad: the last partner is not found');
  return {
    format, partners, megabytes: Buffer.byteLength(text) / 2 ** 20,
    validateMs: Number(t1 - t0) / 1e6, buildMs: Number(t2 - t1) / 1e6, validateCpuMs: cpuMs(validateCpu), buildCpuMs: cpuMs(buildCpu), heapMegabytes, peakRssMegabytes: peakRss / 2 ** 20,
  };
}

export interface YamlBaselineResult {
  partners: number;
  /** parseRegistry (js-yaml's event parser, then validation), CPU ms. */
  registryCpuMs: number;
  /** The former reader alone, on the same text: the `yaml` package's parseDocument with line positions, then toJS. */
  documentParserCpuMs: number;
}

/** The registry reader against the `yaml` document parser it replaced, on one text, measured alongside. */
export function benchYamlBaseline(partners: number): YamlBaselineResult {
  const text = largeRegistry(partners, 'yaml');
  const cpuMs = (run: () => unknown) => {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };
  const registryCpuMs = cpuMs(() => parseRegistry(text, 'bench.yaml'));
  const documentParserCpuMs = cpuMs(() => parseDocument(text, { lineCounter: new LineCounter(), uniqueKeys: true }).toJS({ maxAliasCount: 100 }));
  return { partners, registryCpuMs, documentParserCpuMs };
}
