// Big incident logs for the benches: one file per format, made by the incident generator
// (services/demo/incident) and kept under bench/.data (git-ignored) between runs.
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';

export interface IncidentLog {
  file: string;
  registry: string;
  /** Hosts the registry names exactly (no wildcard): what a hand-written query joins on. */
  exactPartnerHosts: string[];
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bin', 'leakscope.js'))) dir = dirname(dir);
  return dir;
}

/** About `requests` requests (3.2M ≈ 1 GB) of one format in ONE plain file, generated once. */
export async function incidentLog(format: 'ndjson' | 'w3c', requests: number): Promise<IncidentLog> {
  const root = repoRoot();
  const dir = join(root, 'bench', '.data', `${format}-${requests}`);
  const file = join(dir, `incident.${format === 'ndjson' ? 'ndjson' : 'log'}`);
  const registry = join(dir, 'registry.yaml');
  if (!existsSync(file)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`  generating ${requests.toLocaleString('en-GB')} requests of ${format} (once; kept in ${dir})\n`);
    execFileSync(process.execPath, [join(root, 'dist', 'demo', 'incident.js'), '--out', dir, '--requests', String(requests),
      '--format', format, '--no-disclosures'], { stdio: ['ignore', 'ignore', 'inherit'] });
    // One file: the gateways' logs one after the other (a W3C file may re-declare #Fields anywhere).
    const partial = `${file}.partial`;
    const out = createWriteStream(partial);
    for (const name of readdirSync(join(dir, 'logs')).sort()) {
      const path = join(dir, 'logs', name);
      const input = createReadStream(path);
      if (name.endsWith('.gz')) await pipeline(input, createGunzip(), out, { end: false });
      else await pipeline(input, out, { end: false });
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    renameSync(partial, file);
    rmSync(join(dir, 'logs'), { recursive: true, force: true });
  }
  const { parseRegistry } = await import('../services/core/registry/index.js');
  const { readFileSync } = await import('node:fs');
  const parsed = parseRegistry(readFileSync(registry, 'utf8'), registry);
  const exactPartnerHosts = [...new Set(parsed.partners.flatMap((p) => p.domains).filter((d) => !d.startsWith('*.')))];
  return { file, registry, exactPartnerHosts };
}

/**
 * The incident mix (issue: "the bench's data does not show the cost users meet"): about half
 * the requests disclose, 10,000 subscribers, thousands of sites, and the gateway restarts
 * mid-file, so its request ids start again at 1 and the last lines before the restart are
 * written twice (an exporter resending what it was not sure it had written). The same
 * requests are written as NDJSON and as W3C, so the two formats' rates compare on equal work.
 * Only features the exact DuckDB query (duckdb-baseline.ts) also reads are used: E.164
 * numbers of one country, ASCII hosts (some upper-case or with a port), separators of spaces
 * and dashes, percent-encoding in the Referer and the URL.
 */
export interface MixLog {
  ndjson: string;
  w3c: string;
  registry: string;
  /** The report window the bench asks about, [from, to). */
  window: { from: number; to: number };
}

const MIX_START = Date.UTC(2012, 0, 9);
const MIX_END = Date.UTC(2012, 0, 26);
export const MIX_WINDOW = { from: Date.UTC(2012, 0, 10), to: Date.UTC(2012, 0, 25, 14) };

/** mulberry32: small, seeded, the same data on every machine. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface MixPartner { id: string; domains: string[]; identifiers: string[]; validFrom: string | null; validTo: string | null }

/** Twenty partners: exact and wildcard domains, different identifiers, lapsed and future contracts, one with two periods. */
function mixPartners(): MixPartner[] {
  const ids = [['x-up-calling-line-id'], ['x-msisdn'], ['x-up-calling-line-id', 'x-msisdn'], ['x-acr'], ['x-up-calling-line-id', 'url'], ['x-msisdn', 'referer']];
  const out: MixPartner[] = [];
  for (let p = 0; p < 20; p++) {
    const base = `partner${p}.example`;
    const domains = p % 3 === 0 ? [`*.${base}`] : p % 3 === 1 ? [`www.${base}`, `api.${base}`] : [`*.${base}`, base];
    const lapsed = p % 7 === 3; // contract ended during the window
    const future = p % 11 === 5; // contract starts during the window
    out.push({ id: `partner${p}`, domains, identifiers: ids[p % ids.length]!, validFrom: future ? '2012-01-18T00:00:00Z' : '2011-01-01T00:00:00Z', validTo: lapsed ? '2012-01-15T00:00:00Z' : null });
    if (p === 4) out.push({ id: `partner${p}`, domains, identifiers: ['x-up-calling-line-id', 'x-msisdn', 'url', 'referer'], validFrom: '2012-01-20T00:00:00Z', validTo: null });
  }
  return out;
}

function mixRegistryYaml(partners: readonly MixPartner[]): string {
  const q = (s: string | null) => (s === null ? 'null' : JSON.stringify(s));
  return ['version: "mix-1"', 'region: GB', 'partners:', ...partners.flatMap((p) => [
    `  - id: ${p.id}`, `    name: ${q(`Partner ${p.id}`)}`, `    domains: [${p.domains.map(q).join(', ')}]`,
    `    identifiers: [${p.identifiers.join(', ')}]`, `    valid_from: ${q(p.validFrom)}`, `    valid_to: ${q(p.validTo)}`,
  ])].join('\n') + '\n';
}

const MIX_AGENTS = [
  'Mozilla/5.0 (Linux; U; Android 2.3.6; en-gb; GT-I9100 Build/GINGERBREAD) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 5_0_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) Version/5.1 Mobile/9A405 Safari/7534.48.3',
  'Opera/9.80 (J2ME/MIDP; Opera Mini/7.0/27.1402; U; en) Presto/2.8.119 Version/11.10',
];
const MIX_PATHS = ['/', '/news', '/sport', '/weather', '/shop', '/search', '/article/view', '/video', '/login', '/offers'];
const MIX_SUFFIXES = ['co.uk', 'com', 'example', 'org.uk', 'net'];

/** The incident mix of about `requests` requests in both formats, generated once under bench/.data. */
export async function incidentMix(requests: number): Promise<MixLog> {
  const dir = join(repoRoot(), 'bench', '.data', `mix-${requests}`);
  const out: MixLog = { ndjson: join(dir, 'mix.ndjson'), w3c: join(dir, 'mix.log'), registry: join(dir, 'registry.yaml'), window: MIX_WINDOW };
  if (existsSync(out.w3c)) return out;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`  generating the incident mix, ${requests.toLocaleString('en-GB')} requests (once; kept in ${dir})\n`);
  const { renderNdjson, renderW3c, w3cPreamble } = await import('../services/demo/incident/render.js');
  const partners = mixPartners();
  writeFileSync(out.registry, mixRegistryYaml(partners));
  // Wildcard domains get a www host; every apex is visited too (`*.x` does not match x itself).
  const partnerHosts = [...new Set(partners.flatMap((p) => [...p.domains.map((d) => (d.startsWith('*.') ? `www.${d.slice(2)}` : d)), `${p.id}.example`]))];
  const random = seeded(20120110);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const letters = (n: number) => Array.from({ length: n }, () => String.fromCharCode(97 + int(16))).join('');
  const subscribers = Array.from({ length: 10_000 }, (_, i) => `447${String(100_000_000 + i * 86_743).slice(0, 9)}`);
  const sites = Array.from({ length: 4_000 }, (_, i) => `site${i}.${MIX_SUFFIXES[i % MIX_SUFFIXES.length]}`);
  const ndjson = createWriteStream(`${out.ndjson}.partial`);
  const w3c = createWriteStream(`${out.w3c}.partial`);
  const write = async (stream: ReturnType<typeof createWriteStream>, text: string) => {
    if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  };
  for (const line of w3cPreamble('gw-mix-01')) await write(w3c, line + '\n');
  const restartAt = Math.floor(requests * 0.55);
  const resent: Array<[string, string]> = [];
  const step = (MIX_END - MIX_START) / requests;
  let seq = 0;
  for (let i = 0; i < requests; i++) {
    const ts = MIX_START + Math.floor(i * step) + (i % 997 === 0 ? 0 : 1); // strictly increasing, some on whole seconds
    const mobile = random() < 0.8;
    const subscriber = pick(subscribers);
    const national = subscriber.slice(2);
    const toPartner = random() < 0.15;
    const base = toPartner ? pick(partnerHosts) : `${pick(['www.', 'm.', 'cdn.', ''])}${pick(sites)}`;
    const host = random() < 0.02 ? base.toUpperCase() : base;
    const headers: Array<{ name: string; value: string; origin: 'cs' | 'sr' }> = [{ name: 'User-Agent', value: pick(MIX_AGENTS), origin: 'cs' }];
    let path = pick(MIX_PATHS);
    let query = random() < 0.3 ? `q=${letters(6)}&page=${int(20)}` : '';
    const r = random();
    if (mobile) {
      // The leak: the gateway adds the number to most mobile requests, to every site.
      if (r < 0.55) headers.push({ name: 'X-UP-Calling-Line-ID', value: subscriber, origin: 'sr' });
      else if (r < 0.6) headers.push({ name: 'X-MSISDN', value: `+${subscriber}`, origin: 'sr' });
      else if (r < 0.62) headers.push({ name: 'X-MSISDN', value: 'unknown', origin: 'sr' });
      else if (r < 0.64) headers.push({ name: 'X-ACR', value: letters(24), origin: 'sr' });
      const leak = random();
      if (leak < 0.03) query = `msisdn=${subscriber}&ref=${letters(4)}`;
      else if (leak < 0.05) path = `/u/0${national}/profile`;
      else if (leak < 0.07) headers.push({ name: 'Referer', value: `http://www.partner4.example/verify?msisdn=%2B${subscriber}&ok=1`, origin: 'cs' });
      else if (leak < 0.08) headers.push({ name: 'X-Debug', value: `caller +44 ${national.slice(0, 4)} ${national.slice(4, 7)}-${national.slice(7)}`, origin: 'sr' });
      else if (leak < 0.09) headers.push({ name: 'Cookie', value: `sid=${letters(12)}; msisdn=${subscriber}`, origin: 'cs' });
      else if (leak < 0.1) headers.push({ name: 'X-Debug', value: `trace 99${subscriber}991`, origin: 'sr' }); // not the number: a longer digit string
    } else if (r < 0.03) {
      headers.push({ name: 'X-MSISDN', value: subscriber, origin: 'sr' }); // a stale header on Wi-Fi: the subscriber comes from it
    } else if (r < 0.05) {
      headers.push({ name: 'X-ACR', value: letters(24), origin: 'sr' }); // a token alone: no subscriber
    }
    if (random() < 0.2 && !headers.some((h) => h.name === 'Referer')) headers.push({ name: 'Referer', value: `http://www.${pick(sites)}/article/view?id=${int(5000)}`, origin: 'cs' });
    if (random() < 0.3 && !headers.some((h) => h.name === 'Cookie')) headers.push({ name: 'Cookie', value: `sid=${letters(16)}`, origin: 'cs' });
    if (i === restartAt) seq = 0; // the gateway restarts: its request counter starts again
    const requestId = `gw-mix-01:${++seq}`;
    const req = {
      ts, gatewayId: 'gw-mix-01' as never, msisdn: mobile ? subscriber : null, bearer: mobile ? '3g' : 'wifi', clientIp: `10.${int(256)}.${int(256)}.${1 + int(250)}`,
      method: 'GET', scheme: 'http' as const, host, port: random() < 0.01 ? 8080 : null, path, query, headers, status: 200, bytes: 200 + int(40_000),
      channels: new Set<string>(), subscriber: null, caseKind: null,
    };
    const lines: [string, string] = [renderNdjson(req, requestId, { lowerCaseNames: false, plusMsisdn: false }, { tsForm: 'iso', hostFields: false, acceptArray: false }) + '\n', renderW3c(req, requestId, 'A') + '\n'];
    if (i >= restartAt - 200 && i < restartAt) resent.push(lines);
    if (i === restartAt) for (const [n, w] of resent) { await write(ndjson, n); await write(w3c, w); }
    await write(ndjson, lines[0]);
    await write(w3c, lines[1]);
  }
  await Promise.all([ndjson, w3c].map((s) => new Promise<void>((resolve, reject) => s.end((err?: Error | null) => (err ? reject(err) : resolve())))));
  renameSync(`${out.ndjson}.partial`, out.ndjson);
  renameSync(`${out.w3c}.partial`, out.w3c);
  return out;
}
