// A seeded random set of stored disclosures over 3.5 days from 2012-01-10: every verdict,
// token-only ones (no subscriber), absent ciphertexts, IDN and IP sites. Stores fed the same
// set must give the same answers (equivalence and cluster tests).
import type { StoredDisclosure } from '../../../services/store/types.js';
import { VERDICTS } from '../../../services/core/types.js';

const H = 3_600_000;
const D = 24 * H;
export const DATA_START = Date.parse('2012-01-10T00:00:00.000Z');

export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function dataSet(n: number, seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const sites = ['example.com', 'news.co.uk', 'ageverify.example', 'billing.example', 'tokenads.example', 'xn--bcher-kva.example', '10.0.0.7'];
  const hosts = sites.flatMap((s) => (s === '10.0.0.7' ? [s] : [`www.${s}`, `m.${s}`, s]));
  const subscribers = Array.from({ length: 25 }, (_, i) => (i < 3 ? null : i.toString(16).padStart(64, '0')));
  const channels = ['url', 'referer', 'header:x-msisdn', 'header:x-up-calling-line-id', 'header:cookie'];
  const rows: StoredDisclosure[] = [];
  for (let i = 0; i < n; i++) {
    const host = pick(hosts);
    const site = host === '10.0.0.7' ? host : host.replace(/^(www|m)\./, '');
    const hash = pick(subscribers);
    const verdict = pick(VERDICTS);
    const chosen = channels.filter(() => r() < 0.35);
    rows.push({
      id: `d-${seed}-${i}`, requestKey: `gw:${i}`, ts: DATA_START + Math.floor(r() * 3.5 * D), host, site,
      subscriberHash: hash, subscriberMasked: hash ? '+4477009****00' : null,
      subscriberEnc: hash && r() < 0.9 ? `v1:${hash.slice(-4)}:${Math.floor(r() * 3)}` : null,
      channels: (chosen.length ? chosen : ['url']).sort(), verdict,
      partnerId: verdict === 'unauthorized_recipient' ? null : pick(['ageverify', 'billing', 'tokenonly']),
      registryVersion: 'r1', gatewayId: 'gw-1', bearer: '3g', method: 'GET', scheme: 'http', path: '/', queryMasked: '', status: 200,
    });
  }
  return { rows, subscribers: subscribers.filter((s): s is string => s !== null) };
}
