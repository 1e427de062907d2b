// Classification rate of the detection core on one core, from already-parsed records, on
// the mix the issue names: about 30 % Wi-Fi sessions (no MSISDN), 20 % of requests to
// partners, 10 % disclosing. Records are built first; only detect() is timed.
import { detect } from '../services/core/detect/index.js';
import { buildSnapshot, parseRegistry } from '../services/core/registry/index.js';
import type { GatewayRequest } from '../services/core/types.js';
import { cpuMicros } from './cpu.js';

export interface CoreBenchResult {
  requests: number;
  disclosures: number;
  seconds: number;
  requestsPerSec: number;
  /** Per second of this process's CPU time: what one core gives when the machine is shared. */
  requestsPerCpuSec: number;
}

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const REGISTRY = `
version: "bench"
region: GB
partners:
${Array.from({ length: 200 }, (_, i) => `  - {id: p${i}, name: P${i}, domains: ["*.partner${i}.example", "partner${i}.example"], identifiers: [x-up-calling-line-id], valid_from: "2011-01-01T00:00:00Z"}`).join('\n')}
`;

const USER_AGENTS = [
  'Mozilla/5.0 (Linux; U; Android 2.3.6; en-gb; GT-S5830 Build/GINGERBREAD) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 5_0_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) Version/5.1 Mobile/9A405 Safari/7534.48.3',
  'Opera/9.80 (J2ME/MIDP; Opera Mini/4.2.14912/27.1573; U; en) Presto/2.8.119 Version/11.10',
  'NokiaN97/21.1.107 (SymbianOS/9.4; Series60/5.0 Mozilla/5.0; Profile/MIDP-2.1 Configuration/CLDC-1.1) AppleWebKit/525 (KHTML, like Gecko) BrowserNG/7.1.4',
];

export function makeRequests(count: number, seed = 7): GatewayRequest[] {
  const random = lcg(seed);
  const t0 = Date.parse('2012-01-10T00:00:00Z');
  const out: GatewayRequest[] = [];
  for (let i = 0; i < count; i++) {
    const wifi = random() < 0.3;
    const msisdn = wifi ? null : `4477009${String(Math.floor(random() * 100000)).padStart(5, '0')}`;
    const toPartner = random() < 0.2;
    const host = toPartner ? `www.partner${Math.floor(random() * 200)}.example` : `cdn${i % 5}.site${Math.floor(random() * 20000)}.co.uk`;
    const headers: Array<[string, string]> = [
      ['host', host],
      ['user-agent', USER_AGENTS[i % USER_AGENTS.length]!],
      ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
      ['accept-language', 'en-GB,en;q=0.5'],
      ['x-forwarded-for', `10.${i % 250}.${(i >> 8) % 250}.5`],
      ['via', '1.1 gw-lon-01 (Openwave)'],
    ];
    // Partners get their header; 10 % of all requests disclose in all (partners included).
    const r = random();
    if (msisdn && (toPartner ? r < 0.45 : r < 0.07)) headers.push(['x-up-calling-line-id', msisdn]);
    out.push({
      ts: t0 + i * 10, requestKey: `gw-lon-01:${i}`, gatewayId: 'gw-lon-01', requestId: String(i), msisdn,
      bearer: wifi ? 'wifi' : '3g', clientIp: '10.12.0.5', method: 'GET', scheme: 'http', host, port: null,
      path: `/news/${i % 1000}`, query: `id=${i}&ref=home`, headers, status: 200, bytes: 5120,
    });
  }
  return out;
}

/**
 * A pool of distinct parsed requests is classified over and over: the records stand for
 * a parser's output batches, and the same subscribers and hosts recur as in real traffic.
 * One warm-up pass fills the memo tables and lets the JIT settle.
 */
export function benchCore(count = 2_000_000, poolSize = 200_000): CoreBenchResult {
  const snapshot = buildSnapshot(parseRegistry(REGISTRY, 'bench'));
  const requests = makeRequests(poolSize);
  for (const request of requests) detect(request, snapshot);
  let disclosures = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) if (detect(requests[i % poolSize]!, snapshot) !== null) disclosures++;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { requests: count, disclosures, seconds, requestsPerSec: count / seconds, requestsPerCpuSec: count / cpuSeconds };
}

/** CPU per request of detect() and of protection, over one pass of a log file (a scan worker's order). */
export interface DetectMixRound {
  requests: number;
  disclosures: number;
  /** Microseconds of process CPU per request (of all requests), detect() alone. */
  detectUs: number;
  /** Microseconds of process CPU per request (of all requests), Protector.toStored of the disclosures. */
  protectUs: number;
}

/**
 * detect() then protection over `file` as a scan worker runs them: read batches of freshly
 * parsed requests (parsing not timed), each batch judged, then its disclosures protected.
 * Every round re-reads the file, so its strings are fresh as in a scan, while the memos
 * (numbers, hosts, sites, subscribers) stay warm from the rounds before: round 1 is a scan's
 * cold start, later ones its steady state. `onStored` sees every stored disclosure (A/B checks).
 */
export async function benchDetectMix(
  file: string, registryFile: string, keys: { hashKey: Buffer; encKey: Buffer }, rounds: number,
  onStored?: (stored: import('../services/store/types.js').StoredDisclosure) => void,
): Promise<DetectMixRound[]> {
  const { readLogs, readRegistryFile } = await import('../services/files/index.js');
  const { Protector } = await import('../services/store/index.js');
  const snapshot = buildSnapshot(await readRegistryFile(registryFile));
  const protector = new Protector(keys);
  const out: DetectMixRound[] = [];
  for (let round = 0; round < rounds; round++) {
    let requests = 0;
    let disclosures = 0;
    let detectUs = 0;
    let protectUs = 0;
    for await (const batch of readLogs([file], { format: 'ndjson', batchLines: 512 })) {
      const found = [];
      const t0 = cpuMicros();
      for (const r of batch.requests) {
        const d = detect(r, snapshot);
        if (d !== null) found.push(d);
      }
      const t1 = cpuMicros();
      const stored = found.map((d) => protector.toStored(d));
      const t2 = cpuMicros();
      detectUs += t1 - t0;
      protectUs += t2 - t1;
      requests += batch.requests.length;
      disclosures += found.length;
      if (onStored && round === 0) for (const s of stored) onStored(s);
    }
    out.push({ requests, disclosures, detectUs: detectUs / requests, protectUs: protectUs / requests });
  }
  return out;
}
