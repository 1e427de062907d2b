// Parse rate of the log reader on one core: ~100 MB of realistic gateway lines per format,
// generated in memory, fed through readLogs as 256 KiB chunks (as a file would arrive), split
// and parsed into GatewayRequest records. Disk and gzip are left out: they are not ours.
// Rates are per CPU-second of this process (user + system, GC threads included, so a little
// pessimistic), not per wall-clock second: on a shared machine wall time measures the neighbours.
// Run directly (after compiling) to print the figures; `benchParse()` returns them.
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { builtInProfile, parseProfile, type LogProfile } from '../services/core/parse/index.js';
import type { LogFormat } from '../services/core/types.js';
import { readLogs } from '../services/files/index.js';

export interface ParseBenchResult {
  /** The default formats by name; the writers' formats as `writer (how)`. */
  format: string;
  mbPerSec: number;
  linesPerSec: number;
}

/** The writers' formats measured besides the two defaults: how each is generated and read. */
type Writer = 'proxysg' | 'iis' | 'cloudfront' | 'squid' | 'csv';
const WRITER_LABELS: Record<Writer, string> = {
  proxysg: 'proxysg (W3C, s-action)',
  iis: 'iis (W3C, + for spaces)',
  cloudfront: 'cloudfront (W3C, tabs)',
  squid: 'squid (logformat with headers)',
  csv: 'csv (header row, profile)',
};
const SQUID_BENCH_LOGFORMAT = '%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %un %Sh/%<a %mt %{User-Agent}>h %{Cookie}>h %{Referer}>h %{X-UP-Calling-Line-ID}>ha %{X-Network-Info}>ha';
const CSV_BENCH_HEADER = 'Start Time,Gateway,Request,Subscriber,Bearer,Client IP,Method,URL,Status,Bytes,Action,User Agent,Cookie,Referer,X-UP-Calling-Line-ID,X-Network-Info';

const TARGET_BYTES = 100 * 1024 * 1024;
const CHUNK_BYTES = 256 * 1024;

const USER_AGENTS = [
  'Mozilla/5.0 (Linux; U; Android 2.3.4; en-gb; HTC Desire HD A9191 Build/GRJ22) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 5_0_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) Version/5.1 Mobile/9A405 Safari/7534.48.3',
  'Opera/9.80 (J2ME/MIDP; Opera Mini/6.5.26955/27.1407; U; en) Presto/2.8.119 Version/11.10',
  'BlackBerry9700/5.0.0.743 Profile/MIDP-2.1 Configuration/CLDC-1.1 VendorID/100',
  'Nokia6300/2.0 (07.21) Profile/MIDP-2.0 Configuration/CLDC-1.1 UP.Browser/6.2.3.3.c.1.101 (GUI) MMP/2.0',
];
const HOSTS = ['www.bbc.co.uk', 'm.facebook.com', 'www.google.co.uk', 'mobile.twitter.com', 'www.o2.co.uk', 'news.sky.com', 'ads.example-network.com', 'www.ageverify.example'];
const PATHS = ['/', '/news/uk-16484412', '/home.php', '/search', '/static/js/app.js', '/i/ad.gif'];

/** A small deterministic generator, so every run parses the same bytes. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

interface Sample {
  ts: number;
  requestId: number;
  msisdn: string | null;
  host: string;
  path: string;
  query: string;
  ua: string;
  cookie: string;
  referer: string | null;
}

function sample(rand: () => number, i: number): Sample {
  const hasMsisdn = rand() >= 0.3;
  return {
    ts: Date.UTC(2012, 0, 10) + i * 37,
    requestId: 1_000_000 + i,
    msisdn: hasMsisdn ? `4477009${String(Math.floor(rand() * 100000)).padStart(5, '0')}` : null,
    host: pick(rand, HOSTS),
    path: pick(rand, PATHS),
    query: rand() < 0.5 ? `id=${Math.floor(rand() * 1e6)}&ref=home` : '',
    ua: pick(rand, USER_AGENTS),
    cookie: `sid=${Math.floor(rand() * 1e12).toString(36)}; pref=lang%3Den`,
    referer: rand() < 0.6 ? `http://${pick(rand, HOSTS)}/` : null,
  };
}

function ndjsonLine(s: Sample): string {
  const headers: Record<string, string> = {
    Host: s.host,
    'User-Agent': s.ua,
    Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    'Accept-Language': 'en-GB,en;q=0.8',
    'Accept-Encoding': 'gzip, deflate',
    Cookie: s.cookie,
    Via: '1.1 gw-lon-01 (O2 WAP Gateway)',
  };
  if (s.referer !== null) headers.Referer = s.referer;
  if (s.msisdn !== null) {
    headers['X-UP-Calling-Line-ID'] = s.msisdn;
    headers['X-Network-Info'] = `GPRS,,${s.msisdn},unsecured`;
  }
  return JSON.stringify({
    ts: new Date(s.ts).toISOString(),
    gateway_id: 'gw-lon-01',
    request_id: String(s.requestId),
    msisdn: s.msisdn,
    bearer: '3g',
    client_ip: '10.12.0.5',
    method: 'GET',
    url: `http://${s.host}${s.path}${s.query === '' ? '' : '?' + s.query}`,
    headers,
    status: 200,
    bytes: 5120,
  });
}

const W3C_HEADER =
  '#Version: 1.0\n#Fields: date time x-gateway-id x-request-id x-msisdn x-bearer c-ip cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query sc-status sc-bytes ' +
  'cs(User-Agent) cs(Accept) cs(Accept-Language) cs(Accept-Encoding) cs(Cookie) cs(Referer) cs(Via) sr(X-UP-Calling-Line-ID) sr(X-Network-Info)\n';

function quoted(v: string | null): string {
  if (v === null) return '-';
  return /[\s"]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function w3cLine(s: Sample): string {
  const iso = new Date(s.ts).toISOString();
  return [
    iso.slice(0, 10), iso.slice(11, 23), 'gw-lon-01', String(s.requestId), quoted(s.msisdn), '3g', '10.12.0.5', 'GET', 'http', s.host, '80',
    s.path, s.query === '' ? '-' : s.query, '200', '5120', quoted(s.ua), quoted('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'),
    quoted('en-GB,en;q=0.8'), quoted('gzip, deflate'), quoted(s.cookie), quoted(s.referer), quoted('1.1 gw-lon-01 (O2 WAP Gateway)'),
    quoted(s.msisdn), quoted(s.msisdn === null ? null : `GPRS,,${s.msisdn},unsecured`),
  ].join(' ');
}

const PROXYSG_HEADER =
  '#Software: SGOS 6.7.5.3\n#Version: 1.0\n#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query ' +
  'cs-username s-hierarchy cs(User-Agent) cs(Cookie) cs(Referer) sc-filter-result cs(X-UP-Calling-Line-ID) cs(X-Network-Info)\n';

function proxysgLine(s: Sample, i: number): string {
  const iso = new Date(s.ts).toISOString();
  const denied = i % 50 === 0;
  return [
    iso.slice(0, 10), iso.slice(11, 19), '15', '10.12.0.5', denied ? '403' : '200', denied ? 'TCP_DENIED' : 'TCP_NC_MISS', '5120', '410', 'GET', 'http', s.host, '80',
    s.path, s.query === '' ? '-' : `?${s.query}`, quoted(s.msisdn), 'DIRECT', quoted(s.ua), quoted(s.cookie), quoted(s.referer), denied ? 'DENIED' : 'OBSERVED',
    quoted(s.msisdn), quoted(s.msisdn === null ? null : `GPRS,,${s.msisdn},unsecured`),
  ].join(' ');
}

const IIS_HEADER =
  '#Software: Microsoft Internet Information Services 7.5\n#Version: 1.0\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip ' +
  'cs(User-Agent) cs(Cookie) cs(Referer) cs-host sc-status sc-substatus sc-win32-status time-taken cs(X-UP-Calling-Line-ID)\n';

function plus(v: string | null): string {
  return v === null ? '-' : v.replace(/ /g, '+');
}

function iisLine(s: Sample): string {
  const iso = new Date(s.ts).toISOString();
  return [
    iso.slice(0, 10), iso.slice(11, 19), '192.0.2.10', 'GET', s.path, s.query === '' ? '-' : s.query, '80', plus(s.msisdn), '10.12.0.5',
    plus(s.ua), plus(s.cookie), plus(s.referer), s.host, '200', '0', '0', '15', plus(s.msisdn),
  ].join(' ');
}

const CLOUDFRONT_HEADER =
  '#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) ' +
  'x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken\n';

function cloudfrontLine(s: Sample): string {
  const iso = new Date(s.ts).toISOString();
  return [
    iso.slice(0, 10), iso.slice(11, 19), 'LHR3', '5120', '10.12.0.5', 'GET', 'd111111abcdef8.cloudfront.net', s.path, '200', s.referer ?? '-', s.ua,
    s.query === '' ? '-' : s.query, s.cookie, 'Miss', `r${s.requestId}`, s.host, 'http', '410', '0.015',
  ].join('\t');
}

function squidHeader(v: string | null): string {
  return v === null ? '-' : encodeURI(v);
}

function squidLine(s: Sample, i: number): string {
  const seconds = Math.floor(s.ts / 1000);
  const denied = i % 50 === 0;
  return `${seconds}.${String(s.ts % 1000).padStart(3, '0')} ${String(145 + (i % 900)).padStart(6)} 10.12.0.5 ${denied ? 'TCP_DENIED/403' : 'TCP_MISS/200'} 5120 GET ` +
    `http://${s.host}${s.path}${s.query === '' ? '' : '?' + s.query} ${s.msisdn ?? '-'} HIER_DIRECT/203.0.113.10 text/html ` +
    `${squidHeader(s.ua)} ${squidHeader(s.cookie)} ${squidHeader(s.referer)} ${s.msisdn ?? '-'} ${squidHeader(s.msisdn === null ? null : `GPRS,,${s.msisdn},unsecured`)}`;
}

function csvValue(v: string | null): string {
  if (v === null) return '';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function csvLine(s: Sample, i: number): string {
  return [
    new Date(s.ts).toISOString(), 'gw-lon-01', String(s.requestId), s.msisdn, '3g', '10.12.0.5', 'GET', `http://${s.host}${s.path}${s.query === '' ? '' : '?' + s.query}`,
    '200', '5120', i % 50 === 0 ? 'BLOCK' : 'ALLOW', s.ua, s.cookie, s.referer, s.msisdn, s.msisdn === null ? null : `GPRS,,${s.msisdn},unsecured`,
  ].map(csvValue).join(',');
}

/** How each writer's benchmark log is read. */
function writerProfile(writer: Writer): LogProfile {
  switch (writer) {
    case 'proxysg': return parseProfile({ format: 'proxysg', fields: { 'cs-username': 'msisdn' } }, 'bench proxysg');
    case 'iis': return parseProfile({ format: 'iis', fields: { 'cs-username': 'msisdn' } }, 'bench iis');
    case 'cloudfront': return builtInProfile('cloudfront');
    case 'squid': return parseProfile({ format: 'squid', squid_logformat: SQUID_BENCH_LOGFORMAT, fields: { '%un': 'msisdn' } }, 'bench squid');
    case 'csv': return parseProfile({
      format: 'csv',
      fields: {
        'Start Time': 'ts', Gateway: 'gateway_id', Request: 'request_id', Subscriber: 'msisdn', Bearer: 'bearer', 'Client IP': 'client_ip',
        Method: 'method', URL: 'url', Status: 'status', Bytes: 'bytes', 'User Agent': 'header:User-Agent', Cookie: 'header:Cookie',
        Referer: 'header:Referer', 'X-UP-Calling-Line-ID': 'header:X-UP-Calling-Line-ID', 'X-Network-Info': 'header:X-Network-Info',
      },
      not_forwarded: [{ field: 'Action', values: ['BLOCK'] }],
    }, 'bench csv');
  }
}

/** About `targetBytes` of one writer's log text, deterministic. */
function generateWriterText(writer: Writer, targetBytes: number): Buffer {
  const rand = rng(20120125);
  const head = { proxysg: PROXYSG_HEADER, iis: IIS_HEADER, cloudfront: CLOUDFRONT_HEADER, squid: '', csv: CSV_BENCH_HEADER + '\n' }[writer];
  const parts: string[] = [head];
  let bytes = head.length;
  for (let i = 0; bytes < targetBytes; i++) {
    const s = sample(rand, i);
    const line = (writer === 'proxysg' ? proxysgLine(s, i) : writer === 'iis' ? iisLine(s) : writer === 'cloudfront' ? cloudfrontLine(s)
      : writer === 'squid' ? squidLine(s, i) : csvLine(s, i)) + '\n';
    parts.push(line);
    bytes += line.length;
  }
  return Buffer.from(parts.join(''));
}

/** About `targetBytes` of realistic log text in the given format, deterministic. */
export function generateLogText(format: LogFormat, targetBytes: number): Buffer {
  const rand = rng(20120125);
  const parts: string[] = format === 'w3c' ? [W3C_HEADER] : [];
  let bytes = 0;
  for (let i = 0; bytes < targetBytes; i++) {
    const line = (format === 'ndjson' ? ndjsonLine(sample(rand, i)) : w3cLine(sample(rand, i))) + '\n';
    parts.push(line);
    bytes += line.length;
  }
  return Buffer.from(parts.join(''));
}

/** The text as chunks of CHUNK_BYTES, cut anywhere (mid-line, mid-character), like file reads. */
function chunksOf(all: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += CHUNK_BYTES) chunks.push(all.subarray(i, i + CHUNK_BYTES));
  return chunks;
}

async function measure(format: LogFormat, chunks: Buffer[], profile: LogProfile | null = null): Promise<{ seconds: number; lines: number; requests: number; rejects: number; notForwarded: number }> {
  let lines = 0;
  let requests = 0;
  let rejects = 0;
  let notForwarded = 0;
  const started = process.cpuUsage();
  for await (const batch of readLogs(['-'], { format, profile, stdin: Readable.from(chunks) })) {
    lines += batch.lines;
    requests += batch.requests.length;
    rejects += batch.rejects.length;
    notForwarded += batch.notForwarded;
  }
  const used = process.cpuUsage(started);
  return { seconds: (used.user + used.system) / 1e6, lines, requests, rejects, notForwarded };
}

/** The writers' formats are measured on less text than the defaults: their figures are for comparison, not tracking. */
const WRITER_TARGET_BYTES = 50 * 1024 * 1024;

/** Parse rate per format; the best of three runs after a warm-up, to keep the JIT and GC noise out. */
export async function benchParse(): Promise<ParseBenchResult[]> {
  const results: ParseBenchResult[] = [];
  for (const format of ['ndjson', 'w3c'] as const) {
    const chunks = chunksOf(generateLogText(format, TARGET_BYTES));
    const totalBytes = chunks.reduce((n, c) => n + c.length, 0);
    await measure(format, chunks.slice(0, 40)); // warm-up
    let best: Awaited<ReturnType<typeof measure>> | null = null;
    for (let run = 0; run < 3; run++) {
      const m = await measure(format, chunks);
      if (m.rejects !== 0) throw new Error(`bench: ${m.rejects} ${format} lines rejected; the generator is broken`);
      if (best === null || m.seconds < best.seconds) best = m;
    }
    results.push({
      format,
      mbPerSec: Math.round((totalBytes / 1e6 / best!.seconds) * 10) / 10,
      linesPerSec: Math.round(best!.lines / best!.seconds),
    });
  }
  if (process.env.BENCH_PARSE_WRITERS === '0') return results;
  for (const writer of Object.keys(WRITER_LABELS) as Writer[]) {
    const profile = writerProfile(writer);
    const chunks = chunksOf(generateWriterText(writer, WRITER_TARGET_BYTES));
    const totalBytes = chunks.reduce((n, c) => n + c.length, 0);
    await measure(profile.syntax, chunks.slice(0, 40), profile); // warm-up
    let best: Awaited<ReturnType<typeof measure>> | null = null;
    for (let run = 0; run < 3; run++) {
      const m = await measure(profile.syntax, chunks, profile);
      if (m.rejects !== 0) throw new Error(`bench: ${m.rejects} ${writer} lines rejected; the generator is broken`);
      if (writer !== 'cloudfront' && writer !== 'iis' && m.notForwarded === 0) throw new Error(`bench: no ${writer} line counted as not forwarded; the generator is broken`);
      if (best === null || m.seconds < best.seconds) best = m;
    }
    results.push({
      format: WRITER_LABELS[writer],
      mbPerSec: Math.round((totalBytes / 1e6 / best!.seconds) * 10) / 10,
      linesPerSec: Math.round(best!.lines / best!.seconds),
    });
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await benchParse()) {
    process.stdout.write(`${r.format.padEnd(30)}  ${r.mbPerSec.toFixed(1).padStart(6)} MB/s  ${r.linesPerSec.toLocaleString('en-GB').padStart(10)} lines/s\n`);
  }
}

export interface FloorResult {
  bytes: number;
  lines: number;
  /** Reading the file in 1 MiB chunks and cutting it into line strings, one core. */
  splitLinesPerSec: number;
  /** The same, plus JSON.parse of every line, one core. */
  parseLinesPerSec: number;
}

/**
 * The physical floor of a scan of `file` on one core, measured by wall clock: what no reader
 * of the file can beat, (1) reading it and splitting it into line strings, (2) the same with
 * JSON.parse of each line (NDJSON only). Each is the best of two passes (the file cached).
 */
export async function benchFloor(file: string, json: boolean): Promise<FloorResult> {
  const { openSync, readSync, closeSync } = await import('node:fs');
  const pass = (parse: boolean): { lines: number; bytes: number; seconds: number } => {
    const fd = openSync(file, 'r');
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    let carry = Buffer.alloc(0);
    let lines = 0;
    let bytes = 0;
    let sink = 0;
    const started = process.hrtime.bigint();
    try {
      for (;;) {
        const n = readSync(fd, chunk, 0, chunk.length, null);
        if (n === 0) break;
        bytes += n;
        const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
        let start = 0;
        for (let end = data.indexOf(10, start); end !== -1; end = data.indexOf(10, start)) {
          const line = data.toString('utf8', start, end);
          if (parse) sink += (JSON.parse(line) as { status?: number }).status ?? 0;
          else sink += line.length;
          lines++;
          start = end + 1;
        }
        carry = Buffer.from(data.subarray(start));
      }
    } finally {
      closeSync(fd);
    }
    if (sink < 0) throw new Error('unreachable'); // keeps the work observable
    return { lines, bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  };
  const best = (parse: boolean) => {
    const a = pass(parse);
    const b = pass(parse);
    return a.seconds < b.seconds ? a : b;
  };
  const split = best(false);
  const parsed = json ? best(true) : split;
  return { bytes: split.bytes, lines: split.lines, splitLinesPerSec: split.lines / split.seconds, parseLinesPerSec: parsed.lines / parsed.seconds };
}
