// The population the incident happens to: subscribers, websites and their hosts, the
// partners' hosts and what the gateway adds for each. Built once from the seed.
import { WeightedPicker, type Rng } from './rng.js';

/** The number used in the README's examples; always subscriber 0 so fixtures can name it. */
export const EXAMPLE_SUBSCRIBER = '447700900123';

export interface Subscriber {
  /** E.164 digits, no `+`: `4477009xxxxx` (Ofcom's 07700 9 block: possible, not valid, by libphonenumber). */
  digits: string;
  /** National significant number, e.g. `7700900123`. */
  national: string;
  /** X-ACR token the gateway gives this subscriber; letters only. */
  acrToken: string;
  clientIp: string;
}

export interface Site {
  /** Registrable domain as intended by construction (the truth re-derives it with tldts). */
  name: string;
  hosts: string[];
}

export type GatewayHeader = 'X-UP-Calling-Line-ID' | 'X-MSISDN' | 'X-ACR';

export interface PartnerTarget {
  id: string;
  hosts: string[];
  /** What the gateway's enrichment rule adds for this partner's hosts on a subscriber session. */
  header: GatewayHeader;
  /** Prefix the value with `+` (some enrichment rules do). */
  plus: boolean;
  weight: number;
  method: 'GET' | 'POST';
}

export const PARTNER_TARGETS: readonly PartnerTarget[] = [
  { id: 'ageverify', hosts: ['www.ageverify.example', 'api.ageverify.example', 'id.m.ageverify.example'], header: 'X-UP-Calling-Line-ID', plus: false, weight: 35, method: 'GET' },
  { id: 'billing', hosts: ['pay.billing.example', 'api.billing.example'], header: 'X-MSISDN', plus: false, weight: 25, method: 'POST' },
  { id: 'recognise', hosts: ['www.recognise.example', 'sso.recognise.example'], header: 'X-ACR', plus: false, weight: 15, method: 'GET' },
  { id: 'legacyportal', hosts: ['portal.legacy.example'], header: 'X-MSISDN', plus: false, weight: 10, method: 'GET' },
  { id: 'buecher', hosts: ['www.xn--bcher-kva.example', 'shop.xn--bcher-kva.example'], header: 'X-MSISDN', plus: true, weight: 10, method: 'GET' },
  { id: 'ipbill', hosts: ['192.0.2.10'], header: 'X-MSISDN', plus: false, weight: 5, method: 'POST' },
];

/** Named sites the tricky cases use; they are also part of ordinary traffic. */
export const FIXED_SITES: readonly Site[] = [
  { name: 'news.co.uk', hosts: ['www.news.co.uk', 'm.news.co.uk', 'static.news.co.uk'] },
  { name: 'shop.com', hosts: ['m.shop.com', 'www.shop.com', 'img.cdn.shop.com'] },
  { name: 'b.example', hosts: ['cdn.a.b.example', 'www.b.example'] },
  { name: 'tracker.example', hosts: ['t.tracker.example', 'pixel.eu.tracker.example'] },
  { name: 'social.co.uk', hosts: ['www.social.co.uk', 'm.social.co.uk'] },
  { name: 'o2.co.uk', hosts: ['www.o2.co.uk'] },
  { name: '198.51.100.7', hosts: ['198.51.100.7'] },
];

const WORDS = [
  'alpha', 'amber', 'apple', 'arrow', 'atlas', 'beacon', 'birch', 'blue', 'bolt', 'brook', 'cable', 'cedar',
  'chart', 'city', 'cloud', 'coast', 'comet', 'coral', 'crown', 'daily', 'delta', 'drift', 'eagle', 'echo',
  'ember', 'field', 'flash', 'fleet', 'forge', 'fox', 'frost', 'game', 'garden', 'giant', 'globe', 'gold',
  'green', 'grove', 'harbor', 'hawk', 'hill', 'home', 'iron', 'ivory', 'jade', 'jet', 'kite', 'lake', 'lark',
  'leaf', 'light', 'lime', 'lion', 'maple', 'marsh', 'meadow', 'metro', 'mint', 'moon', 'music', 'north',
  'oak', 'ocean', 'olive', 'orbit', 'owl', 'palm', 'pearl', 'pine', 'pixel', 'planet', 'plaza', 'pulse',
  'quest', 'radio', 'rain', 'raven', 'reef', 'ridge', 'river', 'rock', 'rose', 'royal', 'ruby', 'sage',
  'sail', 'sand', 'scout', 'shore', 'silver', 'sky', 'snow', 'solar', 'spark', 'sport', 'spring', 'star',
  'stone', 'storm', 'summit', 'sun', 'swift', 'tech', 'tide', 'tiger', 'tower', 'trail', 'travel', 'tree',
  'union', 'urban', 'valley', 'vista', 'wave', 'west', 'wild', 'willow', 'wind', 'wolf', 'wood', 'zen',
];
const SUFFIXES: ReadonlyArray<readonly [string, number]> = [
  ['com', 40], ['co.uk', 25], ['net', 8], ['org', 5], ['org.uk', 4], ['example', 12], ['ip', 3], ['ac.uk', 3],
];
const SUFFIX_PICKER = new WeightedPicker(SUFFIXES.map(([, w]) => w));

export interface World {
  subscribers: Subscriber[];
  /** Index of the subscriber who never shows up in ordinary traffic (who-saw: nothing). */
  quietIndex: number;
  /** Index with the largest ordinary-traffic weight. */
  busiestIndex: number;
  subscriberPicker: WeightedPicker;
  sites: Site[];
  sitePicker: WeightedPicker;
  partnerPicker: WeightedPicker;
}

export function buildWorld(rng: Rng, subscriberCount: number, siteCount: number): World {
  if (subscriberCount < 10) throw new Error('need at least 10 subscribers');
  const subscribers: Subscriber[] = [];
  const used = new Set<string>([EXAMPLE_SUBSCRIBER]);
  const digitsList = [EXAMPLE_SUBSCRIBER];
  if (subscriberCount > 100_000) throw new Error('the 4477009 block holds at most 100000 subscribers');
  while (digitsList.length < subscriberCount) {
    const d = `4477009${String(rng.int(100_000)).padStart(5, '0')}`;
    if (!used.has(d)) {
      used.add(d);
      digitsList.push(d);
    }
  }
  for (const digits of digitsList) {
    subscribers.push({
      digits,
      national: digits.slice(2),
      acrToken: `${rng.letters(22)}==`,
      clientIp: `10.${rng.int(64)}.${rng.int(256)}.${1 + rng.int(254)}`,
    });
  }
  // Activity is Zipf-like over a random ranking, so the busiest subscriber is not subscriber 0.
  const ranks = subscribers.map((_, i) => i);
  for (let i = ranks.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [ranks[i], ranks[j]] = [ranks[j] as number, ranks[i] as number];
  }
  const quietIndex = subscriberCount - 1;
  const weights = ranks.map((rank, i) => (i === quietIndex ? 0 : 1 / Math.pow(rank + 1, 0.7)));
  let busiestIndex = 0;
  weights.forEach((w, i) => {
    if (w > (weights[busiestIndex] as number)) busiestIndex = i;
  });

  const sites: Site[] = [...FIXED_SITES.map((s) => ({ name: s.name, hosts: [...s.hosts] }))];
  const names = new Set(sites.map((s) => s.name));
  let ipCounter = 0;
  let guard = 0;
  while (sites.length < siteCount && guard++ < siteCount * 50) {
    const suffix = (SUFFIXES[SUFFIX_PICKER.pick(rng)] as readonly [string, number])[0];
    if (suffix === 'ip') {
      // Documentation ranges (RFC 5737), skipping the fixed 198.51.100.7 and the partner's 192.0.2.10.
      if (ipCounter >= 470) continue;
      const ip = ipCounter < 235 ? `203.0.113.${20 + ipCounter}` : `198.51.100.${20 + ipCounter - 235}`;
      ipCounter++;
      names.add(ip);
      sites.push({ name: ip, hosts: [ip] });
      continue;
    }
    const base = `${rng.pick(WORDS)}${rng.pick(WORDS)}${rng.chance(0.3) ? String(rng.int(100)) : ''}`;
    const name = `${base}.${suffix}`;
    if (names.has(name)) continue;
    names.add(name);
    const hosts = new Set<string>([rng.chance(0.7) ? `www.${name}` : `m.${name}`]);
    const extras = suffix === 'example'
      ? [`cdn.a.${name}`, `img.static.${name}`, `m.${name}`]
      : [`cdn.${name}`, `static.${name}`, `m.${name}`, `media.img.${name}`];
    const extraCount = rng.int(3);
    for (let i = 0; i < extraCount; i++) hosts.add(rng.pick(extras));
    sites.push({ name, hosts: [...hosts] });
  }
  // Popularity is Zipf-like in list order: the fixed sites are among the most visited.
  const sitePicker = new WeightedPicker(sites.map((_, i) => 1 / Math.pow(i + 1, 0.9)));
  const partnerPicker = new WeightedPicker(PARTNER_TARGETS.map((p) => p.weight));
  return { subscribers, quietIndex, busiestIndex, subscriberPicker: new WeightedPicker(weights), sites, sitePicker, partnerPicker };
}
