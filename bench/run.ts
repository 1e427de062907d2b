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
      return { entries: r.entries, 'lookups per second (repeated hosts)': fmt(r.lookupsPerSecond), 'lookups per second (all new hosts)': fmt(r.coldLookupsPerSecond), 'snapshot build': `${fmt(r.buildMs, 1)} ms` };
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
