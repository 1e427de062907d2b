// `npm run bench`: every speed and size figure of leakscope, each beside a baseline measured
// in the same run on the same machine (shared and noisy: compare ratios, not absolutes).
// Sections can be picked: `npm run bench -- core parse` (default: all).
import { cpus, loadavg, totalmem } from 'node:os';

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
      const { benchRegistryLoad, benchYamlBaseline } = await import('./registry.js');
      // Validating and loading a large registry: 100,000 partners, as JSON and as YAML.
      const json = benchRegistryLoad(Number(process.env.BENCH_REGISTRY_PARTNERS ?? 100_000), 'json');
      const yaml = benchRegistryLoad(Number(process.env.BENCH_REGISTRY_YAML_PARTNERS ?? 100_000), 'yaml');
      const baseline = benchYamlBaseline(Number(process.env.BENCH_REGISTRY_BASELINE_PARTNERS ?? 10_000));
      const load = (l: typeof json) =>
        `${fmt(l.partners)} partners, ${fmt(l.megabytes, 1)} MB: validate ${fmt(l.validateMs / 1000, 2)} s (CPU ${fmt(l.validateCpuMs / 1000, 2)} s) + snapshot ${fmt(l.buildMs / 1000, 2)} s (CPU ${fmt(l.buildCpuMs / 1000, 2)} s), heap +${fmt(l.heapMegabytes)} MB, peak RSS ${fmt(l.peakRssMegabytes)} MB`;
      return {
        entries: r.entries, 'lookups per second (repeated hosts)': fmt(r.lookupsPerSecond), 'lookups per second (all new hosts)': fmt(r.coldLookupsPerSecond), 'snapshot build': `${fmt(r.buildMs, 1)} ms`,
        'load (JSON)': load(json), 'load (YAML)': load(yaml),
        [`YAML, ${fmt(baseline.partners)} partners, CPU: validate / the yaml package's document parser alone (the former reader)`]:
          `${fmt(baseline.registryCpuMs / 1000, 2)} s / ${fmt(baseline.documentParserCpuMs / 1000, 2)} s = ${fmt(baseline.registryCpuMs / baseline.documentParserCpuMs, 2)}`,
      };
    },
  },
  {
    name: 'scan',
    async run() {
      // The incident mix (bench/incident-logs.ts), the same requests as NDJSON and as W3C;
      // against it, in the same run: DuckDB answering the same question in one exact query
      // (bench/duckdb-baseline.ts), checked equal to leakscope's report before any ratio, and
      // the physical floor (bench/parse.ts). Scans and queries alternate, best of BENCH_SCAN_RUNS.
      const { incidentMix } = await import('./incident-logs.js');
      const { benchScan } = await import('./scan.js');
      const { benchDuckDbBaseline } = await import('./duckdb-baseline.js');
      const { benchFloor } = await import('./parse.js');
      const requests = Number(process.env.BENCH_SCAN_REQUESTS ?? 2_200_000); // ≈ 1 GB of NDJSON
      const runs = Math.max(1, Number(process.env.BENCH_SCAN_RUNS ?? 2));
      const mix = await incidentMix(requests);
      const out: Record<string, unknown> = {};
      const loadAtStart = loadavg().map((l) => fmt(l, 2)).join(', ');
      const line = (r: { linesPerSec: number; mbPerSec: number; peakRssMb: number; cpuSeconds: number }) =>
        `${fmt(r.linesPerSec)} lines/s, ${fmt(r.mbPerSec, 1)} MB/s, peak RSS ${fmt(r.peakRssMb)} MB, ${fmt(r.cpuSeconds, 1)} CPU-s`;
      type Scan = Awaited<ReturnType<typeof benchScan>>;
      type Duck = Awaited<ReturnType<typeof benchDuckDbBaseline>>;
      let ndjson: Scan | null = null;
      let duck: Duck | null = null;
      for (let i = 0; i < runs; i++) {
        const s = await benchScan(mix.ndjson, mix.registry, { reportWindow: mix.window });
        if (ndjson === null || s.elapsedMs < ndjson.elapsedMs) ndjson = s;
        const d = await benchDuckDbBaseline(mix.ndjson, mix.registry, mix.window);
        if (duck === null || d.seconds < duck.seconds) duck = d;
      }
      // BENCH_SCAN_PAIR=1: only the NDJSON scan against the query (before/after pairs while working on the scan).
      const full = process.env.BENCH_SCAN_PAIR !== '1';
      const w3c = full ? await benchScan(mix.w3c, mix.registry, { reportWindow: mix.window }) : null;
      const one = full ? await benchScan(mix.ndjson, mix.registry, { workers: 0 }) : null;
      const floor = full ? await benchFloor(mix.ndjson, true) : null;
      const w3cFloor = full ? await benchFloor(mix.w3c, false) : null;
      const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
      out[`ndjson ${fmt(ndjson!.bytes / 2 ** 30, 2)} GiB, ${fmt(ndjson!.lines)} lines, ${fmt(ndjson!.disclosures)} disclosures — scan, both cores`] = line(ndjson!);
      if (one !== null) out['ndjson — scan, one thread (--workers 0)'] = line(one);
      if (w3c !== null) {
        out[`w3c ${fmt(w3c.bytes / 2 ** 30, 2)} GiB (the same requests) — scan, both cores`] = line(w3c);
        const w3cShare = (w3c.requests / w3c.elapsedMs) / (ndjson!.requests / ndjson!.elapsedMs);
        out['w3c rate / ndjson rate (requests/s)'] = `${fmt(w3cShare, 2)} (goal >= 0.80: ${met(w3cShare >= 0.8)})`;
      }
      const peakRss = Math.max(ndjson!.peakRssMb, w3c?.peakRssMb ?? 0);
      out['peak RSS of the scans, both cores'] = `${fmt(peakRss)} MB (goal <= 1024 MB: ${met(peakRss <= 1024)})`;
      const same = duck!.report !== null && JSON.stringify(duck!.report, null, 2) + '\n' === ndjson!.report;
      const sameW3c = w3c === null || w3c.report === ndjson!.report;
      out['ndjson — DuckDB, one exact query (2 threads)'] = `${fmt(duck!.linesPerSec)} lines/s, ${fmt(duck!.mbPerSec, 1)} MB/s, ${fmt(duck!.cpuSeconds, 1)} CPU-s; ` +
        `its report ${same ? 'equals' : 'DIFFERS FROM'} leakscope's (${fmt(duck!.report.totals.violations)} violations, ${fmt(duck!.report.totals.subscribers)} subscribers, ${fmt(duck!.report.totals.sites)} sites)`;
      if (w3c !== null) out['w3c report equals the ndjson report'] = sameW3c ? 'yes' : 'NO';
      out['ratio leakscope / DuckDB, wall (both cores)'] = same
        ? `${fmt(ndjson!.mbPerSec / duck!.mbPerSec, 2)} (goal >= 1.0: ${met(ndjson!.mbPerSec >= duck!.mbPerSec)})` : 'none: the answers differ';
      out['CPU per line, scan / DuckDB'] = `${fmt(1e6 * ndjson!.cpuSeconds / ndjson!.lines, 1)} / ${fmt(1e6 * duck!.cpuSeconds / ndjson!.lines, 1)} µs ` +
        `(${fmt(ndjson!.cpuSeconds / duck!.cpuSeconds, 2)}×)`;
      if (floor !== null && w3cFloor !== null && w3c !== null) {
        out['floor: read + split lines (1 core)'] = `${fmt(floor.splitLinesPerSec)} lines/s (scan both cores: ${fmt(ndjson!.linesPerSec / floor.splitLinesPerSec, 3)} of it)`;
        out['floor: read + split + JSON.parse (1 core)'] = `${fmt(floor.parseLinesPerSec)} lines/s (scan both cores: ${fmt(ndjson!.linesPerSec / floor.parseLinesPerSec, 3)} of it)`;
        out['floor: w3c read + split lines (1 core)'] = `${fmt(w3cFloor.splitLinesPerSec)} lines/s (scan both cores: ${fmt(w3c.linesPerSec / w3cFloor.splitLinesPerSec, 3)} of it)`;
      }
      out.goal = 'ratio >= 1.0 with both cores, peak RSS <= 1 GB, w3c >= 0.80 of ndjson';
      out['load average (1, 5, 15 min) at start / end'] = `${loadAtStart} / ${loadavg().map((l) => fmt(l, 2)).join(', ')}`;
      if (!same || !sameW3c) process.exitCode = 1;
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
      const r = await benchServe(Number(process.env.BENCH_SERVE_ROWS ?? 10_000_000), Number(process.env.BENCH_SERVE_SUBSCRIBERS ?? 200_000), 20,
        Number(process.env.BENCH_SERVE_REQUESTS ?? 2_000));
      return {
        'stored disclosures': fmt(r.rows), 'stored subscribers': fmt(r.subscribers), clients: r.clients, 'who-saw requests': fmt(r.requests),
        'store fill / who-saw layout filled by the store': r.storeReused ? 'kept from an earlier run (BENCH_SERVE_STORE_DIR)' : `${fmt(r.fillSeconds, 1)} / ${fmt(r.layoutSeconds, 1)} s`,
        'subscribers asked (random among the stored; no answer cache)': `${fmt(r.distinctSubscribers)} different of ${fmt(r.requests)} requests`,
        'who-saw index in serve (state, rows, MB, read in)': `${r.index.state}, ${fmt(r.index.rows)} rows, ${fmt(r.index.bytes / 2 ** 20)} MB, ${fmt(r.index.buildSeconds, 1)} s (waited ${fmt(r.index.waitMs / 1000, 1)} s)`,
        'serve RSS before / after reading the index': `${fmt(r.index.rssBeforeMb)} / ${fmt(r.index.rssAfterMb)} MB`,
        'who-saw answers from the index / from DuckDB (warm-up included)': `${fmt(r.index.fromIndex)} / ${fmt(r.index.fromStore)}`,
        'who-saw through the API p50/p99 (audited)': `${fmt(r.whoSawP50Ms, 1)} / ${fmt(r.whoSawP99Ms, 1)} ms`,
        'who-saw throughput': `${fmt(r.whoSawPerSec)} /s`,
        'CPU per who-saw: serve process (all threads) / clients process': `${fmt(r.serverCpuMsPerLookup, 2)} / ${fmt(r.clientCpuMsPerLookup, 2)} ms`,
        'CPU per who-saw of the store alone, in-process (baseline)': `${fmt(r.storeCpuMsPerLookup, 2)} ms`,
        'ratio serve / store alone (CPU per who-saw)': fmt(r.serverCpuMsPerLookup / r.storeCpuMsPerLookup, 2),
        'audit entries written and verified as one chain': fmt(r.auditEntries),
        '15-day report: API / CLI in-process / CLI process': `${fmt(r.report15DaysApiMs)} / ${fmt(r.report15DaysCliMs)} / ${fmt(r.report15DaysCliProcessMs)} ms`,
        'ratio API / CLI in-process': fmt(r.report15DaysApiMs / r.report15DaysCliMs, 2),
        goal: 'who-saw p99 < 50 ms with 20 clients; report ratio <= 1.2',
        'who-saw goal met': r.whoSawP99Ms < 50 ? 'yes' : `no (p99 ${fmt(r.whoSawP99Ms / 50, 1)}x the goal)`,
        'serve CPU per who-saw, what p99 < 50 ms with 20 clients on 2 cores needs': `<= 2 ms: ${r.serverCpuMsPerLookup <= 2 ? 'met' : `not met (${fmt(r.serverCpuMsPerLookup / 2, 2)}x)`}`,
        'report goal met': r.report15DaysApiMs / r.report15DaysCliMs <= 1.2 ? 'yes' : 'no',
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
    name: 'cluster',
    async run() {
      // The clusters of `deploy/local/stack cluster-up`; BENCH_CLUSTER_REQUESTS (0: no detector runs), BENCH_CLUSTER_MAX_ROWS bound it.
      const { benchCluster } = await import('./cluster.js');
      const r = await benchCluster({ requests: Number(process.env.BENCH_CLUSTER_REQUESTS ?? 150_000), maxRows: Number(process.env.BENCH_CLUSTER_MAX_ROWS ?? 4_000_000) });
      const out: Record<string, unknown> = { 'ClickHouse': r.server };
      for (const d of r.detectorRuns) {
        out[`${d.detectors} detector(s), ${d.partitions} partition(s), ${fmt(d.requests)} requests`] =
          `${fmt(d.cpuUsPerRequest, 1)} CPU-µs/request (${fmt(d.requestsPerCpuSecond)} requests per CPU-second), split ${d.split.map((n) => fmt(n)).join(' / ')}, ${fmt(d.wallSeconds, 1)} s wall`;
      }
      out[`insert ${fmt(r.insert.rows)} rows, cluster (2 shards)`] = `${fmt(r.insert.clusterRowsPerSec)} rows/s; per shard ${r.insert.perShardRowsPerSec.map((n) => fmt(n)).join(' / ')} rows/s`;
      out['insert, single server (baseline)'] = `${fmt(r.insert.singleRowsPerSec)} rows/s`;
      for (const g of r.growth) out[`15-day report on the cluster at ${fmt(g.rows)} rows p50/p99`] = `${fmt(g.report15d.p50Ms)} / ${fmt(g.report15d.p99Ms)} ms`;
      if (r.single1M) out[`15-day report on the single server at ${fmt(r.growth[0]!.rows)} rows p50/p99 (baseline)`] = `${fmt(r.single1M.p50Ms)} / ${fmt(r.single1M.p99Ms)} ms`;
      return out;
    },
  },
  {
    name: 'stream',
    async run() {
      if (!process.env.KAFKA_BROKERS || !process.env.CLICKHOUSE_URL) throw new Error('KAFKA_BROKERS and CLICKHOUSE_URL must be set: run eval "$(bash deploy/local/stack up)" first');
      const { benchStream, streamSide } = await import('./stream.js');
      const sizes = {
        ...(process.env.BENCH_STREAM_REQUESTS ? { requests: Number(process.env.BENCH_STREAM_REQUESTS) } : {}),
        ...(process.env.BENCH_STREAM_ROUNDS ? { rounds: Number(process.env.BENCH_STREAM_ROUNDS) } : {}),
      };
      // BENCH_STREAM_SIDE=ship: the producing rounds and ship's stages alone; =detect: one ship run fills
      // the topic, then the consuming rounds and the stages; unset or both: everything.
      const side = process.env.BENCH_STREAM_SIDE ? streamSide(process.env.BENCH_STREAM_SIDE) : 'both';
      const shipLines = (r: import('./stream.js').ShipBenchResult) => ({
        'ship alone': `${fmt(r.shipRecordsPerSec)} requests/s, ${fmt(r.cpuUsPerRequest.ship, 1)} µs CPU/request`,
        'bare kafkajs producer, same messages already encoded, same batching and gzip (baseline)': `${fmt(r.bareProducerRecordsPerSec)} requests/s, ${fmt(r.cpuUsPerRequest.bareProducer, 1)} µs CPU/request`,
        'ratio ship / bare producer': `${fmt(r.shipRatio, 2)} (goal >= 0.8: ${r.shipRatio >= 0.8 ? 'met' : 'NOT met'}; rounds: ${r.shipRatios.map((x) => fmt(x, 2)).join(', ')})`,
        'ship stages alone, µs CPU/request': `read+parse ${fmt(r.stages.ship.readParse, 2)}, Avro encode ${fmt(r.stages.ship.encode, 2)}; the reading thread's path (read, parse, encode) ${fmt(r.stages.ship.readEncode, 2)}; kafkajs produce = the bare producer's`,
      });
      if (side === 'ship') {
        const r = await benchStream({ ...sizes, only: 'ship' });
        return { requests: fmt(r.requests), ...shipLines(r), 'load average (1, 5, 15 min) at the end': loadavg().map((l) => fmt(l, 1)).join(', '), goal: 'ship >= 0.8 x bare producer' };
      }
      const r = await benchStream({ ...sizes, side });
      return {
        requests: fmt(r.requests), 'disclosure share': `${fmt((100 * r.disclosures) / r.requests, 1)} %`,
        ...shipLines({ ...r, only: 'ship' }),
        'detect alone (backfill)': `${fmt(r.detectRecordsPerSec)} requests/s, ${fmt(r.cpuUsPerRequest.detect, 1)} µs CPU/request, ${r.detectBatches} batches, ${fmt(r.detectInsertSeconds, 2)} s in inserts`,
        'bare kafkajs consumer, decode and discard (baseline)': `${fmt(r.bareConsumerRecordsPerSec)} requests/s, ${fmt(r.cpuUsPerRequest.bareConsumer, 1)} µs CPU/request`,
        'ratio detect alone / bare consumer': `${fmt(r.detectRatio, 2)} (goal >= 0.8: ${r.detectRatio >= 0.8 ? 'met' : 'NOT met'}; rounds: ${r.detectRatios.map((x) => fmt(x, 2)).join(', ')})`,
        'detect alone again, same numbers seen before (memos warm)': `${fmt(r.detectWarmRecordsPerSec)} requests/s, ${fmt(r.cpuUsPerRequest.detectWarm, 1)} µs CPU/request, ratio ${fmt(r.detectWarmRatio, 2)}`,
        'detect stages alone, µs CPU/request': `Avro decode ${fmt(r.stages.detect.decode, 2)} (avsc ${fmt(r.stages.detect.decodeAvsc, 2)}), detect ${fmt(r.stages.detect.detect, 2)}, protect ${fmt(r.stages.detect.protect, 2)}, encode rows ${fmt(r.stages.detect.encodeRows, 2)}, write ${fmt(r.stages.detect.write, 2)}; kafkajs fetch = the bare consumer's less decode`,
        'end to end (ship ‖ detect → ClickHouse)': `${fmt(r.e2eRecordsPerSec)} requests/s (ship ${fmt(r.cpuUsPerRequest.e2eShip, 1)} + detect ${fmt(r.cpuUsPerRequest.e2eDetect, 1)} µs CPU/request)`,
        'ratio end to end / bare consumer': fmt(r.ratio, 2),
        'produce → row visible p50/p99': `${fmt(r.latencyP50Ms)} / ${fmt(r.latencyP99Ms)} ms`,
        'load average (1, 5, 15 min) at the end': loadavg().map((l) => fmt(l, 1)).join(', '),
        goal: 'ship >= 0.8 x bare producer, detect >= 0.8 x bare consumer; >= 100,000 requests/s end to end',
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
      const cpu = (c: Record<string, number>) => Object.entries(c).map(([k, v]) => `${k} ${fmt(v, 1)}`).join(', ');
      const out: Record<string, unknown> = {};
      for (const s of r.stream) {
        out[`streaming at ${fmt(s.target)} req/s (${fmt(s.perSec)} produced${s.keptUp ? '' : ', DID NOT keep up'}): produce → webhook`] = lat(s.total);
        out[`  ${fmt(s.target)}: hops: produce → detector fetched`] = lat(s.hops.fetch);
        out[`  ${fmt(s.target)}: fetched → judged`] = lat(s.hops.judge);
        out[`  ${fmt(s.target)}: judged → alert acknowledged in leak-alerts`] = lat(s.hops.raise);
        out[`  ${fmt(s.target)}: leak-alerts → notify read it`] = lat(s.hops.toNotify);
        out[`  ${fmt(s.target)}: notify read → webhook`] = lat(s.hops.deliver);
        out[`  ${fmt(s.target)}: per batch (off the alert path): store write / commit`] = `${lat(s.batchStoreMs)} / ${lat(s.batchCommitMs)}`;
        out[`  ${fmt(s.target)}: CPU µs per request, by process; load average (1 min) start → end`] = `${cpu(s.cpuUsPerRequest)}; ${fmt(s.loadAverage.start, 1)} → ${fmt(s.loadAverage.end, 1)}`;
      }
      out['highest streaming rate with p99 < 1 s (detect, notify, traffic: one process each)'] = r.bestStream === null ? 'none of the rates tried: goal NOT met' : `${fmt(r.bestStream.target)} req/s: ${lat(r.bestStream.total)}: goal met`;
      for (const w of r.watch) {
        out[`watch at ${fmt(w.target)} lines/s (${fmt(w.perSec)} appended${w.keptUp ? '' : ', DID NOT keep up'}): append → webhook`] = lat(w.total);
        out[`  ${fmt(w.target)}: CPU µs per line, by process; load average (1 min) start → end`] = `${cpu(w.cpuUsPerRequest)}; ${fmt(w.loadAverage.start, 1)} → ${fmt(w.loadAverage.end, 1)}`;
      }
      if (r.watch.length > 0) out['highest watch rate with p99 < 1 s'] = r.bestWatch === null ? 'none of the rates tried: goal NOT met' : `${fmt(r.bestWatch.target)} lines/s: ${lat(r.bestWatch.total)}: goal met`;
      out['load average at the end (1, 5, 15 min)'] = r.loadAverage.map((l) => fmt(l, 2)).join(', ');
      out.goal = 'produce (or append) → webhook p99 < 1 s over >= 200 alerts, at the highest steady background rate';
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
