// `npm run bench`: every speed and size figure of leakscope, each beside a baseline measured
// in the same run on the same machine (shared and noisy: compare ratios, not absolutes).
// Sections can be picked: `npm run bench -- core parse` (default: all).
import { cpus, totalmem } from 'node:os';

type Section = { name: string; run: () => Promise<Record<string, unknown>> };

const fmt = (n: number, digits = 0) => n.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const SECTIONS: Section[] = [
  {
    name: 'core',
    async run() {
      const { benchCore } = await import('./core.js');
      const r = benchCore();
      return { 'requests classified per second (wall clock)': fmt(r.requestsPerSec), 'requests classified per CPU-second (1 core)': fmt(r.requestsPerCpuSec), 'disclosure share': `${fmt((100 * r.disclosures) / r.requests, 1)} %`, target: '500,000/s' };
    },
  },
  {
    name: 'parse',
    async run() {
      const { benchParse } = await import('./parse.js');
      const out: Record<string, unknown> = {};
      for (const r of await benchParse()) out[`${r.format} (1 core)`] = `${fmt(r.mbPerSec, 1)} MB/s, ${fmt(r.linesPerSec)} lines/s`;
      out.target = 'NDJSON >= 100 MB/s';
      return out;
    },
  },
  {
    name: 'memory',
    async run() {
      const { benchMemory } = await import('./memory.js');
      const r = await benchMemory();
      return {
        [`peak RSS reading ${fmt(r.bigFileBytes / 2 ** 30, 1)} GiB NDJSON (${fmt(r.lines)} lines)`]: `${fmt(r.bigPeakRssMb)} MB`,
        [`peak RSS reading the same, gzip`]: `${fmt(r.gzipPeakRssMb)} MB`,
        [`peak RSS reading ${fmt(r.smallFileBytes / 2 ** 20)} MiB (baseline)`]: `${fmt(r.smallPeakRssMb)} MB`,
        'ratio big / small': fmt(r.bigPeakRssMb / r.smallPeakRssMb, 2),
      };
    },
  },
  {
    name: 'registry',
    async run() {
      const { benchRegistryLookup } = await import('./registry.js');
      const r = benchRegistryLookup();
      const { benchRegistryLoad } = await import('./registry.js');
      // Validating and loading a large registry: JSON at 100,000 partners; YAML (whose
      // document parser is the slow part) at a size that stays bounded on a shared machine.
      const json = benchRegistryLoad(Number(process.env.BENCH_REGISTRY_PARTNERS ?? 100_000), 'json');
      const yaml = benchRegistryLoad(Number(process.env.BENCH_REGISTRY_YAML_PARTNERS ?? 10_000), 'yaml');
      const load = (l: typeof json) =>
        `${fmt(l.partners)} partners, ${fmt(l.megabytes, 1)} MB: validate ${fmt(l.validateMs / 1000, 2)} s + snapshot ${fmt(l.buildMs / 1000, 2)} s, heap +${fmt(l.heapMegabytes)} MB, peak RSS ${fmt(l.peakRssMegabytes)} MB`;
      return {
        entries: r.entries, 'lookups per second (repeated hosts)': fmt(r.lookupsPerSecond), 'lookups per second (all new hosts)': fmt(r.coldLookupsPerSecond), 'snapshot build': `${fmt(r.buildMs, 1)} ms`,
        'load (JSON)': load(json), 'load (YAML)': load(yaml),
      };
    },
  },
  {
    name: 'scan',
    async run() {
      const { incidentLog } = await import('./incident-logs.js');
      const { benchScan } = await import('./scan.js');
      const { benchDuckDbBaseline } = await import('./duckdb-baseline.js');
      const requests = Number(process.env.BENCH_SCAN_REQUESTS ?? 3_200_000); // ≈ 1 GB per format
      const out: Record<string, unknown> = {};
      for (const format of ['ndjson', 'w3c'] as const) {
        const log = await incidentLog(format, requests);
        const both = await benchScan(log.file, log.registry);
        const one = await benchScan(log.file, log.registry, { workers: 0 });
        const line = (r: typeof both) => `${fmt(r.linesPerSec)} lines/s, ${fmt(r.mbPerSec, 1)} MB/s, peak RSS ${fmt(r.peakRssMb)} MB, ${fmt(r.cpuSeconds, 1)} CPU-s`;
        out[`${format} ${fmt(both.bytes / 2 ** 30, 2)} GiB, ${fmt(both.lines)} lines, ${fmt(both.disclosures)} disclosures — scan, both cores`] = line(both);
        out[`${format} — scan, one thread (--workers 0)`] = line(one);
        if (format === 'ndjson') {
          const duck = await benchDuckDbBaseline(log.file, log.exactPartnerHosts);
          out['ndjson — DuckDB alone (read_json joined to exact partner hosts, 2 threads)'] = `${fmt(duck.linesPerSec)} lines/s, ${fmt(duck.mbPerSec, 1)} MB/s`;
          out['ratio leakscope / DuckDB (both cores)'] = fmt(both.mbPerSec / duck.mbPerSec, 2);
        }
      }
      out.goal = 'ratio >= 1.0 using both cores';
      return out;
    },
  },
  {
    name: 'store',
    async run() {
      const { benchStoreQueries } = await import('./store-queries.js');
      const r = await benchStoreQueries();
      return { 'stored disclosures': fmt(r.rows), '15-day report': `${fmt(r.report15DaysMs)} ms`, 'who-saw p50': `${fmt(r.whoSawP50Ms, 1)} ms`, 'who-saw p99': `${fmt(r.whoSawP99Ms, 1)} ms`, lookups: r.lookups };
    },
  },
  {
    name: 'serve',
    async run() {
      const { benchServe } = await import('./serve.js');
      const r = await benchServe();
      return {
        'stored disclosures': fmt(r.rows), clients: r.clients, 'who-saw requests': fmt(r.requests),
        'who-saw through the API p50/p99 (audited)': `${fmt(r.whoSawP50Ms, 1)} / ${fmt(r.whoSawP99Ms, 1)} ms`,
        'who-saw throughput': `${fmt(r.whoSawPerSec)} /s`,
        '15-day report: API / CLI in-process / CLI process': `${fmt(r.report15DaysApiMs)} / ${fmt(r.report15DaysCliMs)} / ${fmt(r.report15DaysCliProcessMs)} ms`,
        'ratio API / CLI in-process': fmt(r.report15DaysApiMs / r.report15DaysCliMs, 2),
        goal: 'who-saw p99 < 50 ms with 20 clients; report ratio <= 1.2',
      };
    },
  },
  {
    name: 'clickhouse',
    async run() {
      // The stack's server (CLICKHOUSE_URL), and ClickHouse in-process (chdb) when provisioned;
      // LEAKSCOPE_BENCH_CLICKHOUSE=server|chdb picks one.
      const url = process.env.CLICKHOUSE_URL;
      if (!url) throw new Error('CLICKHOUSE_URL is not set: run eval "$(bash deploy/local/stack up)" first');
      const { existsSync, mkdtempSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const { chdbDir } = await import('../services/store/clickhouse/index.js');
      const { benchClickHouseReport } = await import('./clickhouse.js');
      const only = process.env.LEAKSCOPE_BENCH_CLICKHOUSE;
      const dir = chdbDir();
      const targets: Array<{ name: string; url: string; cleanup?: () => void }> = [];
      if (only !== 'chdb') targets.push({ name: 'server', url });
      if (only !== 'server' && dir !== null && existsSync(join(dir, 'node_modules/chdb/package.json'))) {
        const data = mkdtempSync(join(tmpdir(), 'leakscope-bench-chdb-'));
        targets.push({ name: 'chdb', url: `chdb:${data}`, cleanup: () => rmSync(data, { recursive: true, force: true }) });
      }
      const out: Record<string, unknown> = {};
      for (const t of targets) {
        try {
          const r = await benchClickHouseReport(t.url);
          const p = `${t.name} ${r.server}: `;
          Object.assign(out, {
            [`${p}stored disclosures`]: fmt(r.disclosures), [`${p}insert rate`]: `${fmt(r.insertRowsPerSec)} rows/s`,
            [`${p}15-day report from rollups p50/p99`]: `${fmt(r.report15d.p50Ms, 1)} / ${fmt(r.report15d.p99Ms, 1)} ms`,
            [`${p}15-day report by hand from the raw table p50/p99 (baseline)`]: `${fmt(r.rawReport15d.p50Ms, 1)} / ${fmt(r.rawReport15d.p99Ms, 1)} ms`,
            [`${p}who-saw p50/p99`]: `${fmt(r.whoSaw.p50Ms, 1)} / ${fmt(r.whoSaw.p99Ms, 1)} ms`,
          });
        } finally {
          t.cleanup?.();
        }
      }
      return out;
    },
  },
  {
    name: 'stream',
    async run() {
      if (!process.env.KAFKA_BROKERS || !process.env.CLICKHOUSE_URL) throw new Error('KAFKA_BROKERS and CLICKHOUSE_URL must be set: run eval "$(bash deploy/local/stack up)" first');
      const { benchStream } = await import('./stream.js');
      const r = await benchStream();
      return {
        requests: fmt(r.requests), 'disclosure share': `${fmt((100 * r.disclosures) / r.requests, 1)} %`,
        'end to end (ship ‖ detect → ClickHouse)': `${fmt(r.e2eRecordsPerSec)} requests/s`,
        'ship alone': `${fmt(r.shipRecordsPerSec)} requests/s`,
        'detect alone (backfill)': `${fmt(r.detectRecordsPerSec)} requests/s`,
        'bare kafkajs consumer, decode and discard (baseline)': `${fmt(r.bareConsumerRecordsPerSec)} requests/s`,
        'ratio end to end / bare consumer': fmt(r.ratio, 2),
        'ratio detect alone / bare consumer': fmt(r.detectRatio, 2),
        'produce → row visible p50/p99': `${fmt(r.latencyP50Ms)} / ${fmt(r.latencyP99Ms)} ms`,
        goal: '>= 100,000 requests/s end to end, ratio >= 0.7',
      };
    },
  },
  {
    name: 'alerts',
    async run() {
      if (!process.env.KAFKA_BROKERS || !process.env.CLICKHOUSE_URL) throw new Error('KAFKA_BROKERS and CLICKHOUSE_URL must be set: run eval "$(bash deploy/local/stack up)" first');
      const { benchAlerts } = await import('./alerts.js');
      const r = await benchAlerts();
      const lat = (f: { samples: number; p50Ms: number; p99Ms: number; maxMs: number }) => `p50 ${fmt(f.p50Ms)} ms, p99 ${fmt(f.p99Ms)} ms, max ${fmt(f.maxMs)} ms over ${f.samples}`;
      const out: Record<string, unknown> = {};
      for (const s of r.stream) {
        out[`streaming at ${fmt(s.target)} req/s (${fmt(s.perSec)} produced${s.keptUp ? '' : ', DID NOT keep up'}): produce → webhook`] = lat(s.total);
        out[`  ${fmt(s.target)}: hops: produce → detector fetched`] = lat(s.hops.fetch);
        out[`  ${fmt(s.target)}: fetched → judged`] = lat(s.hops.judge);
        out[`  ${fmt(s.target)}: judged → alert acknowledged in leak-alerts`] = lat(s.hops.raise);
        out[`  ${fmt(s.target)}: leak-alerts → notify read it`] = lat(s.hops.toNotify);
        out[`  ${fmt(s.target)}: notify read → webhook`] = lat(s.hops.deliver);
        out[`  ${fmt(s.target)}: per batch (off the alert path): store write / commit`] = `${lat(s.batchStoreMs)} / ${lat(s.batchCommitMs)}`;
      }
      out['highest streaming rate with p99 < 1 s'] = r.bestStream === null ? 'none of the rates tried' : `${fmt(r.bestStream.target)} req/s: ${lat(r.bestStream.total)}`;
      for (const w of r.watch) out[`watch at ${fmt(w.target)} lines/s (${fmt(w.perSec)} appended${w.keptUp ? '' : ', DID NOT keep up'}): append → webhook`] = lat(w.total);
      out['highest watch rate with p99 < 1 s'] = r.bestWatch === null ? 'none of the rates tried' : `${fmt(r.bestWatch.target)} lines/s: ${lat(r.bestWatch.total)}`;
      out['load average at the end (1, 5, 15 min)'] = r.loadAverage.map((l) => fmt(l, 2)).join(', ');
      out.goal = 'p99 < 1 s';
      return out;
    },
  },
];

async function main(): Promise<void> {
  const wanted = new Set(process.argv.slice(2));
  const unknown = [...wanted].filter((w) => !SECTIONS.some((s) => s.name === w));
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench section(s): ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`leakscope bench — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${fmt(totalmem() / 2 ** 30, 0)} GiB, node ${process.version}\n\n`);
  for (const section of SECTIONS) {
    if (wanted.size > 0 && !wanted.has(section.name)) continue;
    const start = Date.now();
    process.stdout.write(`== ${section.name}\n`);
    try {
      const figures = await section.run();
      for (const [k, v] of Object.entries(figures)) process.stdout.write(`  ${k}: ${v}\n`);
    } catch (err) {
      process.stdout.write(`  FAILED: ${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    }
    process.stdout.write(`  (${fmt((Date.now() - start) / 1000, 1)} s)\n\n`);
  }
}

await main();
